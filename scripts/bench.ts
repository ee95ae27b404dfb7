/**
 * npm run bench: artifact sizes and cold load of each bundled handler, beside the same handler bundled the common way
 * (CommonJS, the SDK's CommonJS build: serverless-esbuild's defaults); in-process throughput of the log-group guard
 * against the embedded emulator, one event at a time and BENCH_IN_FLIGHT at once (events/s, p50/p95 ms), and the AWS calls per remediated event as the emulator counted
 * them (scripts/emulator/request_counter.py), the state table's apart; the trail restores; the sweep's linearity.
 * Each goal is printed beside its figure. Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { build } from 'esbuild';
import { createAwsClients } from '../lib/aws.js';
import type { CloudTrailEvent } from '../lib/envelope.js';
import { logGroupGuard } from '../lib/guards/log-group-guard.js';
import { trailGuard } from '../lib/guards/trail-guard.js';
import { createGuardHandler } from '../lib/handler.js';
import { loadSettings } from '../lib/settings.js';
import { sweepFigures } from './bench-sweep.js';
import { BUILD_DIR, buildAll } from './build.js';
import {
  type EmulatorRequests,
  emulatorEnv,
  emulatorRequests,
  resetEmulator,
  resetEmulatorRequests,
  startEmulator,
} from './emulator/launcher.js';
import { emulatorClientConfig, provisionEngineResources } from './provision.js';
import { REENACTMENTS } from './reenact/index.js';
import { lambdaContext } from './replay.js';
import { createZip } from './zip.js';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const TRAIL_RUNS = Number(process.env.BENCH_TRAIL_RUNS ?? 20);
/** Events in flight at once in the second pass, as concurrent Lambda invocations would run them. */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function timeNode(args: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH },
  });
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Median wall times of importing each bundle in a fresh node process, and of a bare node process, interleaved run by
 * run (so that the machine's load weighs on all alike). The handler must be a function (ESM export, or CommonJS's).
 */
function coldLoads(bundles: string[]): { loads: number[]; bare: number } {
  const bare: number[] = [];
  const loaded: number[][] = bundles.map(() => []);
  const importer = (bundle: string) =>
    `import(${JSON.stringify(resolve(bundle))}).then((m) => { if (typeof (m.handler ?? m.default?.handler) !== 'function') process.exit(3); })`;
  for (let run = 0; run < COLD_RUNS; run++) {
    bare.push(timeNode(['-e', '']));
    for (const [index, bundle] of bundles.entries()) loaded[index]?.push(timeNode(['-e', importer(bundle)]));
  }
  return { loads: loaded.map(median), bare: median(bare) };
}

/**
 * The same handler bundled the common way, for comparison only (never deployed): CommonJS, the SDK's CommonJS build
 * (main before module), the full default credential chain, not minified, as serverless-esbuild does by default.
 */
async function buildCommonWay(file: string): Promise<{ path: string; bytes: number; zipBytes: number }> {
  const result = await build({
    entryPoints: [`functions/${file}.ts`],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    write: false,
    logLevel: 'error',
  });
  const code = Buffer.from(result.outputFiles[0]?.contents ?? []);
  const dir = join(BUILD_DIR, 'common-way', file);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'index.cjs');
  writeFileSync(path, code);
  return { path, bytes: code.length, zipBytes: createZip([{ name: 'index.js', data: code }]).length };
}

/**
 * What no bundle can load faster than, for scale: an empty ESM handler module, and one that imports only the node
 * modules the bundles import (their http, TLS and crypto stacks), written beside the bundles.
 */
function floorModules(files: string[]): { empty: string; builtins: string; imported: string[] } {
  const imported = new Set<string>();
  for (const file of files) {
    for (const [, name] of readFileSync(`.build/${file}/index.mjs`, 'utf8').matchAll(/from"(node:[a-z_/]+)"/g))
      if (name) imported.add(name);
  }
  const dir = join(BUILD_DIR, 'floor');
  mkdirSync(dir, { recursive: true });
  const empty = join(dir, 'empty.mjs');
  const builtins = join(dir, 'builtins.mjs');
  writeFileSync(empty, 'export const handler = async () => {};\n');
  writeFileSync(
    builtins,
    `${[...imported].map((name) => `import '${name}';`).join('')}export const handler = async () => {};\n`,
  );
  return { empty, builtins, imported: [...imported].sort() };
}

/** Calls the emulator served, per event: in all, to the state table (DynamoDB), and by operation. */
function perEvent(requests: EmulatorRequests, events: number) {
  const per = (count: number) => count / Math.max(1, events);
  const state = Object.entries(requests.calls)
    .filter(([call]) => call.startsWith('dynamodb:'))
    .reduce((sum, [, count]) => sum + count, 0);
  const byCall = Object.entries(requests.calls).map(([call, count]) => `${call} ${per(count).toFixed(2)}`);
  return { total: per(requests.total), state: per(state), byCall };
}

function createLogGroupEvent(index: number, account: string): CloudTrailEvent {
  const sample = JSON.parse(readFileSync('events/logs-CreateLogGroup-plain.json', 'utf8')) as CloudTrailEvent;
  const name = `/bench/service-${String(index).padStart(4, '0')}`;
  return {
    ...sample,
    account,
    id: `bench-${index}`,
    detail: {
      ...sample.detail,
      recipientAccountId: account,
      eventID: `bench-event-${index}`,
      requestParameters: { logGroupName: name },
    },
  };
}

async function throughput() {
  const emulator = await startEmulator();
  try {
    Object.assign(process.env, emulatorEnv(emulator.url));
    Object.assign(process.env, await provisionEngineResources({ endpoint: emulator.url, keyRegions: ['eu-west-1'] }));
    const account = '123456789012';
    const events = Array.from({ length: EVENTS }, (_, index) => createLogGroupEvent(index, account));
    const logs = new CloudWatchLogsClient(emulatorClientConfig(emulator.url, 'eu-west-1'));
    for (const event of events) {
      await logs.send(
        new CreateLogGroupCommand({ logGroupName: String(event.detail.requestParameters?.logGroupName) }),
      );
    }
    const handler = createGuardHandler(logGroupGuard, {
      settings: loadSettings(),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    // One pass one event at a time (its calls counted at the emulator), one with IN_FLIGHT events at once, each on
    // groups of its own.
    const half = Math.floor(events.length / 2);
    await resetEmulatorRequests(emulator.url);
    const sequential = await replayEvents(handler, events.slice(0, half), account, 1);
    // Every call the emulator served during the pass is the handler's: the setup's were made before the reset.
    const calls = perEvent(await emulatorRequests(emulator.url), sequential.remediated);
    const concurrent = await replayEvents(handler, events.slice(half), account, IN_FLIGHT);
    const trails = await trailRestores(emulator.url, TRAIL_RUNS);
    return { trails, calls, sequential, concurrent };
  } finally {
    await emulator.stop();
  }
}

/** The events through the handler, `inFlight` at a time: events/s and each event's latency (p50, p95). */
async function replayEvents(
  handler: ReturnType<typeof createGuardHandler>,
  events: CloudTrailEvent[],
  account: string,
  inFlight: number,
) {
  const latencies: number[] = [];
  let remediated = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const worker = async () => {
    for (let event = events[next++]; event !== undefined; event = events[next++]) {
      const began = performance.now();
      const result = await handler(event, lambdaContext(event, account));
      latencies.push(performance.now() - began);
      if (result.outcome === 'remediated') remediated += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    /** The engine's own CPU time per event (this process: the handler, the SDK, the HTTP client), in ms. */
    cpuMs: (cpu.user + cpu.system) / 1000 / events.length,
    events: events.length,
    inFlight,
    remediated,
    eventsPerSecond: events.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

/** Restores of a deleted trail and of a stopped trail, each after a reenactment: time and AWS calls per restore. */
async function trailRestores(endpoint: string, runs: number) {
  const figures: Record<string, { ms: number[]; calls: number[] }> = {};
  for (const file of ['cloudtrail-DeleteTrail-by-name', 'cloudtrail-StopLogging']) {
    const event = JSON.parse(readFileSync(`events/${file}.json`, 'utf8')) as CloudTrailEvent;
    const key = `aws.cloudtrail:${event.detail.eventName}`;
    const entry = { ms: [] as number[], calls: [] as number[] };
    for (let run = 0; run < runs; run++) {
      // Each run on a clean emulator: a reenactment re-creates the trail with a key of its own, which a baseline left
      // by the run before would call a weakening.
      await resetEmulator(endpoint);
      Object.assign(process.env, await provisionEngineResources({ endpoint, keyRegions: ['us-east-1', 'eu-west-1'] }));
      const handler = createGuardHandler(trailGuard, {
        settings: loadSettings(),
        logger: new Logger({ logLevel: 'SILENT' }),
      });
      const engine = { settings: loadSettings(), aws: createAwsClients() };
      // A new event each run: a repeated event id would be answered from its idempotency record.
      const fresh = { ...event, detail: { ...event.detail, eventID: `${event.detail.eventID}-bench-${run}` } };
      await REENACTMENTS[key]?.(fresh, { endpoint, account: event.account, notes: [], engine, keys: new Map() });
      await resetEmulatorRequests(endpoint);
      const began = performance.now();
      const result = await handler(fresh, lambdaContext(fresh, event.account, `driftguard-bench-${trailGuard.file}`));
      entry.ms.push(performance.now() - began);
      entry.calls.push((await emulatorRequests(endpoint)).total);
      if (result.outcome !== 'remediated') throw new Error(`${file}: ${result.outcome} ${result.reason}`);
    }
    figures[event.detail.eventName] = entry;
  }
  return figures;
}

const sizes = await buildAll();
const commonWay: Awaited<ReturnType<typeof buildCommonWay>>[] = [];
for (const { file } of sizes) commonWay.push(await buildCommonWay(file));
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log('artifacts: zip per function (goal <= 90 KB), beside the same handler bundled the common way');
sizes.forEach(({ file, bytes, zipBytes }, index) => {
  const common = commonWay[index];
  const ratio = common ? ` (${(common.zipBytes / zipBytes).toFixed(1)}x)` : '';
  console.log(
    `  ${file}: zip ${kb(zipBytes)}${zipBytes <= 90 * 1024 ? '' : ' (over 90 KB)'} (bundle ${kb(bytes)}); common way: zip ${kb(common?.zipBytes ?? 0)} (bundle ${kb(common?.bytes ?? 0)})${ratio}`,
  );
});
const floor = floorModules(sizes.map(({ file }) => file));
const cold = coldLoads([
  ...sizes.map(({ file }) => `.build/${file}/index.mjs`),
  ...commonWay.map(({ path }) => path),
  floor.empty,
  floor.builtins,
]);
console.log(
  `cold load over a bare node process (goal <= 40 ms; median of ${COLD_RUNS} fresh processes each; bare node in this run: ${cold.bare.toFixed(1)} ms)`,
);
const over = (index: number) => ((cold.loads[index] ?? Number.NaN) - cold.bare).toFixed(1);
console.log(
  `  floor: an empty ESM handler ${over(2 * sizes.length)} ms; one importing only the node modules the bundles import (${floor.imported.join(', ')}) ${over(2 * sizes.length + 1)} ms`,
);
sizes.forEach(({ file }, index) => {
  const load = (cold.loads[index] ?? Number.NaN) - cold.bare;
  const common = (cold.loads[sizes.length + index] ?? Number.NaN) - cold.bare;
  console.log(`  ${file}: ${load.toFixed(1)} ms; common way: ${common.toFixed(1)} ms`);
});
const figures = await throughput();
console.log('log-group guard, CreateLogGroup events replayed in-process against the emulator (goal >= 50 events/s)');
for (const pass of [figures.sequential, figures.concurrent]) {
  console.log(
    `  ${pass.events} events, ${pass.inFlight} at a time: ${pass.eventsPerSecond.toFixed(1)} events/s, latency p50 ${pass.p50.toFixed(1)} ms, p95 ${pass.p95.toFixed(1)} ms (${pass.remediated} remediated); the engine's own CPU ${pass.cpuMs.toFixed(1)} ms per event (${(1000 / pass.cpuMs).toFixed(0)} events/s were the calls instant)`,
  );
}
console.log(
  `  AWS calls per remediated event, counted at the emulator: ${figures.calls.total.toFixed(2)} (goal <= 7), state table ${figures.calls.state.toFixed(2)} (goal <= 2)`,
);
console.log(`    ${figures.calls.byCall.join(', ')}`);
console.log(`trail guard, ${TRAIL_RUNS} restores each against the emulator (handler only, after a reenactment)`);
for (const [eventName, { ms, calls }] of Object.entries(figures.trails)) {
  console.log(
    `  ${eventName}: p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms; AWS calls per restore ${median(calls)} (emulator)`,
  );
}

if (process.env.BENCH_SWEEP !== '0') {
  const sizes = (process.env.BENCH_SWEEP_SIZES ?? '1000,10000').split(',').map(Number);
  const sweeps = await sweepFigures(sizes);
  console.log(
    'sweep, log groups over 2 regions, half drifted, rate limit off, against the emulator (goal: ratio <= 11, peak memory flat)',
  );
  for (const f of sweeps) {
    console.log(
      `  ${f.total} groups: ${f.seconds.toFixed(1)} s, ${f.groupsPerSecond.toFixed(0)} groups/s, peak RSS ${f.peakRssMb.toFixed(0)} MB, heap live after it ${f.retainedMb.toFixed(0)} MB, ${f.callsPerGroup.toFixed(2)} AWS calls/group`,
    );
  }
  const [small, large] = sweeps;
  if (small && large) {
    console.log(
      `  time ratio ${large.total}/${small.total}: ${(large.seconds / small.seconds).toFixed(1)} (linear: ${large.total / small.total})`,
    );
  }
}
