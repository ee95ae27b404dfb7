/**
 * npm run sweep -- [--emulator | --endpoint URL] [--regions r1,r2] [--dry-run] [--json] [--rate-limit off|API=n,...]
 * The same sweep the scheduled function runs: every region's log groups, trails, protected keys and IAM users, and the
 * forwarders of every region but home (AWS_REGION) when DRIFTGUARD_FORWARD_ROLE_ARN is set (the emulator's provisioning sets it).
 */

import { parseArgs } from 'node:util';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createAwsClients } from '../lib/aws.js';
import { SWEPT_RULES } from '../lib/registry.js';
import { loadSettings } from '../lib/settings.js';
import { parseRateLimits, rateLimited } from '../lib/sweep/rate-limit.js';
import { enabledRegions, parseRegions } from '../lib/sweep/regions.js';
import { digestNotice, publishDigest, runSweep, type SweepReport } from '../lib/sweep/sweep.js';
import { startEmulator } from './emulator/launcher.js';
import { useEndpoint } from './provision.js';

export interface SweepCliOptions {
  emulator?: boolean;
  endpoint?: string;
  regions?: string[];
  dryRun?: boolean;
  json?: boolean;
  rateLimit?: string;
  fresh?: boolean;
  print?: (line: string) => void;
}

/** Account ListRegions, or EC2 DescribeRegions where an endpoint lacks it (the emulator does). */
async function regionsOf(aws: ReturnType<typeof createAwsClients>, home: string): Promise<string[]> {
  try {
    return await enabledRegions(aws, home);
  } catch {
    const { Regions = [] } = await aws.client(EC2Client, home).send(new DescribeRegionsCommand({ AllRegions: false }));
    return Regions.map((region) => String(region.RegionName)).sort();
  }
}

export async function sweepCommand(options: SweepCliOptions): Promise<SweepReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (options.emulator && options.endpoint) throw new Error('--emulator and --endpoint are mutually exclusive');
  const limits = parseRateLimits(options.rateLimit);
  const emulator = options.emulator ? await startEmulator() : undefined;
  try {
    const endpoint = emulator?.url ?? options.endpoint;
    if (endpoint) await useEndpoint(endpoint, emulator !== undefined);
    const settings = loadSettings();
    const aws = rateLimited(createAwsClients(), limits);
    const home = process.env.AWS_REGION ?? 'us-east-1';
    const { Account = '' } = await new STSClient({ region: home }).send(new GetCallerIdentityCommand({}));
    const regions = options.regions ?? (await regionsOf(aws, home));
    const report = await runSweep(
      { settings, aws },
      {
        rules: SWEPT_RULES,
        regions,
        account: Account,
        dryRun: options.dryRun ?? false,
        fresh: options.fresh ?? false,
        onItem: (item) => {
          if (item.outcome !== 'compliant')
            print(
              options.json
                ? JSON.stringify(item)
                : `${item.outcome.padEnd(11)} ${item.rule} ${item.region} ${item.resource}: ${item.reason}`,
            );
        },
      },
    );
    if (report.complete && !options.dryRun) await publishDigest({ settings, aws }, report, Account);
    print(options.json ? JSON.stringify({ summary: report }) : `\n${digestNotice(report, Account).text}`);
    return report;
  } finally {
    await emulator?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        emulator: { type: 'boolean' },
        endpoint: { type: 'string' },
        regions: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'rate-limit': { type: 'string' },
        fresh: { type: 'boolean' },
      },
    });
    const regions = parseRegions(values.regions);
    await sweepCommand({
      emulator: values.emulator ?? false,
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      ...(regions ? { regions } : {}),
      dryRun: values['dry-run'] ?? false,
      json: values.json ?? false,
      ...(values['rate-limit'] ? { rateLimit: values['rate-limit'] } : {}),
      fresh: values.fresh ?? false,
    });
  } catch (error) {
    process.stderr.write(`sweep: ${(error as Error).message}\n`);
    process.exitCode = (error as Error).name === 'SettingsError' || (error as Error).name === 'TypeError' ? 2 : 1;
  }
}
