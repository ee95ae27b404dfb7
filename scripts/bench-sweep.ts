/**
 * The sweep's figures (npm run bench): 1,000 and 10,000 log groups over 2 regions, half of them drifted, swept
 * against the emulator with the rate limit off: groups/s, peak memory, AWS calls per group, and the ratio of the
 * two run times (cost must grow linearly).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsCallCounter, createAwsClients } from '../lib/aws.js';
import { RULES } from '../lib/registry.js';
import { loadSettings } from '../lib/settings.js';
import { runSweep } from '../lib/sweep/sweep.js';
import { emulatorEnv, resetEmulator, startEmulator } from './emulator/launcher.js';
import { emulatorClientConfig, LOCAL_LOG_KEY_ALIAS, provisionEngineResources } from './provision.js';

const REGIONS = ['us-east-1', 'eu-west-1'];

/** V8's collector, to read the heap a sweep leaves live (peak RSS moves with the collector's slack, run to run). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Half the groups compliant (the local key, 365 days), half drifted (neither). */
async function seed(endpoint: string, total: number) {
  const perRegion = total / REGIONS.length;
  for (const region of REGIONS) {
    const logs = new CloudWatchLogsClient(emulatorClientConfig(endpoint, region));
    const { KeyMetadata } = await new KMSClient(emulatorClientConfig(endpoint, region)).send(
      new DescribeKeyCommand({ KeyId: LOCAL_LOG_KEY_ALIAS }),
    );
    const indexes = Array.from({ length: perRegion }, (_, i) => i);
    await pool(indexes, 16, async (i) => {
      const logGroupName = `/bench/sweep/${String(i).padStart(6, '0')}`;
      if (i % 2 === 0) {
        await logs.send(new CreateLogGroupCommand({ logGroupName }));
      } else {
        await logs.send(new CreateLogGroupCommand({ logGroupName, kmsKeyId: KeyMetadata?.Arn }));
        await logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: 365 }));
      }
    });
  }
}

export async function sweepFigures(sizes: number[]) {
  const emulator = await startEmulator();
  const gc = collector();
  const figures = [];
  try {
    Object.assign(process.env, emulatorEnv(emulator.url));
    for (const total of sizes) {
      await resetEmulator(emulator.url);
      Object.assign(process.env, await provisionEngineResources({ endpoint: emulator.url, keyRegions: REGIONS }));
      await seed(emulator.url, total);
      const engine = { settings: loadSettings(), aws: createAwsClients() };
      const calls = awsCallCounter.calls;
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      const started = performance.now();
      const report = await runSweep(engine, { rules: RULES, regions: REGIONS, account: '123456789012', fresh: true });
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      gc();
      const retainedMb = process.memoryUsage().heapUsed / 1024 / 1024;
      const counts = report.counts['log-group-encryption-retention'] ?? {};
      figures.push({
        total,
        seconds,
        groupsPerSecond: total / seconds,
        peakRssMb: peak / 1024 / 1024,
        retainedMb,
        callsPerGroup: (awsCallCounter.calls - calls) / total,
        remediated: counts.remediated ?? 0,
        compliant: counts.compliant ?? 0,
      });
    }
  } finally {
    await emulator.stop();
  }
  return figures;
}
