/**
 * The scheduled sweep's own Lambda entry (functions/sweep.ts) against the emulator: it stops its margin (SWEEP_MARGIN_MS) before Lambda's
 * remaining time, the 15-minute continuation finishes what it left open, and the digest notice goes out only when a
 * sweep completed. The module reads its settings at load, so each case imports it afresh after setting the variables.
 * The guards are the built bundles, deployed as functions in the emulator: each page of their passes is an Invoke.
 */

import { randomBytes } from 'node:crypto';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { InvokeCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { SWEEP_MARGIN_MS } from '../../lib/sweep/invoked-pass.js';
import { PAGE_REQUEST_KIND, registerRun } from '../../lib/sweep/page.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { invocationContext } from '../../scripts/replay.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { buildBundles, deployGuardFunctions, guardFunctionName } from '../support/guard-functions.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
/** The sweep's margin before Lambda's time limit (two attempts at a page, and the cursor saved). */
const MARGIN_MS = SWEEP_MARGIN_MS;
/** Two DescribeLogGroups pages (50 a page): a run cut after the first page has seen 50. */
const GROUPS = Array.from({ length: 51 }, (_, i) => `/scheduled/group-${String(i).padStart(3, '0')}`);

interface SweepRun {
  continued?: boolean;
  sweepId?: string;
  complete?: boolean;
  seen?: Record<string, number>;
  counts?: Record<string, Record<string, number>>;
}

let buildDir = '';

/** functions/sweep.ts as a cold start sees it, with the given variables (the guards' functions get them too). */
async function coldStart(variables: Record<string, string>) {
  Object.assign(process.env, variables);
  process.env.DRIFTGUARD_GUARD_FUNCTIONS = await deployGuardFunctions(buildDir, variables);
  vi.resetModules();
  const { handler } = await import('../../functions/sweep.js');
  return (event: { continue: boolean }, remainingMs: number) =>
    handler(event, invocationContext('driftguard-dev-sweep', { account: ACCOUNT, remainingMs })) as Promise<SweepRun>;
}

describe('the scheduled sweep function', () => {
  beforeAll(async () => {
    buildDir = await buildBundles();
  }, 120_000);

  beforeEach(async () => {
    await freshEngine({ DRIFTGUARD_SWEEP_REGIONS: REGION });
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION));
    for (const logGroupName of GROUPS) await logs.send(new CreateLogGroupCommand({ logGroupName }));
  }, 120_000);

  afterEach(() => {
    vi.useRealTimers();
    delete process.env.DRIFTGUARD_SWEEP_REGIONS;
    delete process.env.DRIFTGUARD_SWEEP_RATE_LIMITS;
    delete process.env.DRIFTGUARD_GUARD_FUNCTIONS;
  });

  describe('on a clock that stands still (the deadline exact to the millisecond)', () => {
    beforeEach(() => {
      // Now: the guards, in their own processes, check the run's record against their own (real) clocks.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    });

    // Client-side rate limits wait for time to pass, which a still clock never does.
    const settings = { DRIFTGUARD_SWEEP_RATE_LIMITS: 'off' };

    it('stops its margin before the time limit, without a digest; the continuation finishes and sends it', async () => {
      const sweep = await coldStart(settings);
      const cut = await sweep({ continue: false }, MARGIN_MS);
      expect(cut).toMatchObject({ complete: false, seen: { 'log-groups': 50 } });
      expect(await readNotices()).toEqual([]);
      expect((await describeGroup(GROUPS[50] ?? '', REGION))?.retentionInDays).toBeUndefined();

      // A millisecond more than the margin, on a clock that stands still: the run is never cut.
      const rest = await sweep({ continue: true }, MARGIN_MS + 1);
      expect(rest).toMatchObject({ sweepId: cut.sweepId, complete: true, seen: { 'log-groups': 51 } });
      expect(rest.counts?.['log-group-encryption-retention']).toEqual({ remediated: 51 });
      const notices = await readNotices();
      expect(notices).toHaveLength(1);
      expect(notices[0]?.attributes).toMatchObject({ rule: 'sweep', outcome: 'digest', account: ACCOUNT });
      expect(notices[0]?.document).toMatchObject({ kind: 'driftguard.sweep', sweepId: cut.sweepId, complete: true });
      expect((await describeGroup(GROUPS[50] ?? '', REGION))?.retentionInDays).toBe(365);
    });

    it('continues an open sweep from its cursor in a later cold start, cut again without a digest', async () => {
      const first = await (await coldStart(settings))({ continue: false }, MARGIN_MS);
      expect(first.complete).toBe(false);
      const again = await (await coldStart(settings))({ continue: true }, MARGIN_MS);
      // Cut again at once, after one more page: the region's second and last page.
      expect(again).toMatchObject({ sweepId: first.sweepId, complete: false, seen: { 'log-groups': 51 } });
      expect(await readNotices()).toEqual([]);
    });

    it('does nothing on a continuation when no sweep is open', async () => {
      const sweep = await coldStart(settings);
      expect(await sweep({ continue: true }, 15 * 60_000)).toEqual({ continued: false });
      expect(await readNotices()).toEqual([]);
      expect((await describeGroup(GROUPS[0] ?? '', REGION))?.retentionInDays).toBeUndefined();
    });
  });

  it('completes a daily sweep in one run, with its default rate limits, and sends one digest', async () => {
    const sweep = await coldStart({});
    const run = await sweep({ continue: false }, 15 * 60_000);
    expect(run).toMatchObject({ complete: true, seen: { 'log-groups': 51 } });
    const notices = await readNotices();
    expect(notices.map((notice) => notice.attributes.outcome)).toEqual(['digest']);
    // The 51 groups, the region's forwarder of the guards' events home (us-east-1), and GuardDuty enabled there.
    expect(notices[0]?.subject).toMatch(/^\[driftguard\] sweep of 1 regions: 53 fixed/);
  });

  it('reports a guard an attacker throttled to nothing as a failed pass, and sweeps on with the other guards', async () => {
    const sweep = await coldStart({ DRIFTGUARD_SWEEP_RATE_LIMITS: 'off' });
    // Reserved concurrency 0: Lambda refuses every invocation of the log-group guard (TooManyRequestsException).
    await new LambdaClient(emulatorClientConfig(testEndpoint(), 'us-east-1')).send(
      new PutFunctionConcurrencyCommand({
        FunctionName: guardFunctionName('logGroupGuard'),
        ReservedConcurrentExecutions: 0,
      }),
    );
    const run = await sweep({ continue: false }, 15 * 60_000);
    expect(run).toMatchObject({ complete: true });
    expect(run.counts?.['log-group-encryption-retention']).toEqual({ failed: 1 });
    // The other guards swept: GuardDuty enabled in the region, by the GuardDuty guard's own role.
    expect(run.counts?.['guardduty-enabled']).toMatchObject({ remediated: 1 });
    const notices = await readNotices();
    expect(notices.map((notice) => notice.attributes.outcome)).toEqual(['digest']);
    expect(notices[0]?.attributes.severity).toBe('high');
    expect(notices[0]?.subject).toMatch(/1 failed$/);
    const first = (notices[0]?.document.first ?? {}) as Record<string, unknown>;
    expect(first['log-group-encryption-retention#failed']).toEqual([
      {
        rule: 'log-group-encryption-retention',
        outcome: 'failed',
        region: REGION,
        resource: 'log-groups pass',
        reason: `the log-groups pass failed in ${REGION}, the region's rest is left for the next sweep: TooManyRequestsException: Rate Exceeded.`,
        actions: [],
      },
    ]);
    expect((await describeGroup(GROUPS[0] ?? '', REGION))?.retentionInDays).toBeUndefined();
  });

  it('has a guard refuse a page request of anyone but a live run of the sweep, with its secret, in its regions', async () => {
    const sweep = await coldStart({ DRIFTGUARD_SWEEP_RATE_LIMITS: 'off' });
    const lambda = new LambdaClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    const table = String(process.env.DRIFTGUARD_STATE_TABLE);
    const sweepId = 'sweep-2026-12-01T06:00:00.000Z';
    const secret = randomBytes(32).toString('hex');
    const page = async (run: string, region: string, key = secret) => {
      const request = { kind: PAGE_REQUEST_KIND, version: 1, pass: 'guardduty', region, sweepId, run, secret: key };
      const answer = await lambda.send(
        new InvokeCommand({ FunctionName: guardFunctionName('guarddutyGuard'), Payload: JSON.stringify(request) }),
      );
      const body = JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8'));
      return answer.FunctionError ? `${body.errorType}: ${body.errorMessage}` : body;
    };
    const refused = (run: string, why: string) => `MalformedEventError: sweep page request: run ${run} ${why}`;
    // A run the sweep never registered: GuardDuty is off in the region, and stays off (no detector, no baseline).
    expect(await page(`${sweepId}#forged`, REGION)).toBe(
      refused(`${sweepId}#forged`, "is no run of this stack's sweep"),
    );
    // A live run (as the sweep registers one), with another secret, or asked for a region it does not sweep.
    const run = `${sweepId}#live`;
    await registerRun(createAwsClients(), table, { sweepId, run, secret, regions: ['us-east-1'] });
    expect(await page(run, 'us-east-1', 'b'.repeat(64))).toBe(refused(run, 'does not take this secret'));
    expect(await page(run, REGION)).toBe(refused(run, `sweeps no guardduty in ${REGION}`));
    const guardduty = new GuardDutyClient(emulatorClientConfig(testEndpoint(), REGION));
    expect((await guardduty.send(new ListDetectorsCommand({}))).DetectorIds).toEqual([]);
    // The same live run, with its secret, in its region: served.
    expect(await page(run, 'us-east-1')).toMatchObject({ seen: 1 });
    // A sweep's own runs end with it: their records are gone, and no guard serves them any more.
    await sweep({ continue: false }, 15 * 60_000);
    const { Items = [] } = await new DynamoDBClient(emulatorClientConfig(testEndpoint(), 'us-east-1')).send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :run',
        ExpressionAttributeValues: { ':run': { S: 'sweep#run' } },
      }),
    );
    expect(Items.map((item) => item.sk?.S)).toEqual([run]);
  });
});
