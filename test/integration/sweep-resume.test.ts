/**
 * The sweep's resume matrix against the emulator: cut off by its deadline inside each pass and at region boundaries,
 * a continuation resumes exactly where the cut stopped (nothing swept twice, nothing skipped); `--fresh` starts over;
 * a continuation without a cursor does nothing; a dry run neither keeps nor consumes a cursor; IAM users come in
 * pages. Time is a fake clock (Date only) that jumps past the deadline when a chosen item is swept.
 */

import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsCallCounter } from '../../lib/aws.js';
import { RULES } from '../../lib/registry.js';
import { loadSettings } from '../../lib/settings.js';
import { runSweep, type SweepItem, type SweepOptions } from '../../lib/sweep/sweep.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { sweepCommand } from '../../scripts/sweep.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { type Interceptor, interceptedClients } from '../support/intercept.js';
import { trailWithoutBaseline } from '../support/trails.js';

const ACCOUNT = '123456789012';
const REGIONS = ['us-east-1', 'eu-west-1'];
const USERS_PER_PAGE = 3;
const USERS = Array.from({ length: 7 }, (_, i) => `resume-user-${i}`);
/** 51 groups make two DescribeLogGroups pages (50 a page) in the first region; the second has one page. */
const EAST_GROUPS = Array.from({ length: 51 }, (_, i) => `/resume/us-east-1/group-${String(i).padStart(3, '0')}`);
const WEST_GROUPS = ['/resume/eu-west-1/group-000', '/resume/eu-west-1/group-001'];
const TRAILS: Record<string, string> = { 'us-east-1': 'east-trail', 'eu-west-1': 'west-trail' };

const RULE = {
  logGroups: 'log-group-encryption-retention',
  trails: 'cloudtrail-trail-integrity',
  keys: 'kms-key-protection',
  users: 'iam-user-mfa-quarantine',
  activity: 'activity-alarms',
  config: 'config-recorder-on',
  guardduty: 'guardduty-enabled',
};

const config = (region: string) => emulatorClientConfig(testEndpoint(), region);
const keyOf = (rule: string, region: string, resource: string) => `${rule} ${region} ${resource}`;
const itemKey = (item: SweepItem) => keyOf(item.rule, item.region, item.resource);

/**
 * IAM pages ListUsers (MaxItems defaults to 100, an opaque Marker); the emulator returns every user at once. This
 * pages its answer like IAM, with a marker that holds no state, as a new Lambda container would need.
 */
const iamPaging: Interceptor = async (call, send) => {
  if (call.command !== 'ListUsers') return send();
  const from = Number(String(call.input.Marker ?? 'from:0').split(':')[1]);
  delete call.input.Marker;
  const output = await send();
  const users = ((output.Users ?? []) as { UserName?: string }[]).sort((a, b) =>
    String(a.UserName).localeCompare(String(b.UserName)),
  );
  const next = from + USERS_PER_PAGE;
  return {
    ...output,
    Users: users.slice(from, next),
    IsTruncated: next < users.length,
    ...(next < users.length ? { Marker: `from:${next}` } : {}),
  };
};

function engine() {
  return { settings: loadSettings(), aws: interceptedClients(iamPaging) };
}

/** A sweep of both regions, as a new Lambda container (or CLI process) would run it. */
const sweep = (options: Partial<SweepOptions> = {}) =>
  runSweep(engine(), { rules: RULES, regions: REGIONS, account: ACCOUNT, ...options, continueOnly: false });

/** The frequent schedule's run: only continues an open sweep (undefined when none is open). */
const continueSweep = (options: Partial<SweepOptions> = {}) =>
  runSweep(engine(), { rules: RULES, regions: REGIONS, account: ACCOUNT, ...options, continueOnly: true });

async function seed() {
  for (const [region, groups] of [
    ['us-east-1', EAST_GROUPS],
    ['eu-west-1', WEST_GROUPS],
  ] as const) {
    const logs = new CloudWatchLogsClient(config(region));
    for (const logGroupName of groups) await logs.send(new CreateLogGroupCommand({ logGroupName }));
  }
  for (const [region, name] of Object.entries(TRAILS)) await trailWithoutBaseline(region, name, ACCOUNT);
  const iam = new IAMClient(config('us-east-1'));
  for (const UserName of USERS) await iam.send(new CreateUserCommand({ UserName }));
}

/** The stack's key in a region: the one protected key there (nothing else has recorded a key). */
async function stackKeyArn(region: string): Promise<string> {
  const alias = String(loadSettings().logKmsKey);
  const { KeyMetadata } = await new KMSClient(config(region)).send(new DescribeKeyCommand({ KeyId: alias }));
  return String(KeyMetadata?.Arn);
}

/** Every item of a whole sweep, in the order of its pages: passes, then regions, then pages. */
async function pagesInOrder(): Promise<{ name: string; items: string[] }[]> {
  const userPages = [];
  for (let from = 0; from < USERS.length; from += USERS_PER_PAGE) {
    userPages.push({
      name: `users, page ${from / USERS_PER_PAGE + 1}`,
      items: USERS.slice(from, from + USERS_PER_PAGE).map((user) => keyOf(RULE.users, 'us-east-1', user)),
    });
  }
  return [
    {
      name: 'log groups of us-east-1, page 1',
      items: EAST_GROUPS.slice(0, 50).map((g) => keyOf(RULE.logGroups, 'us-east-1', g)),
    },
    { name: 'log groups of us-east-1, page 2', items: [keyOf(RULE.logGroups, 'us-east-1', EAST_GROUPS[50] ?? '')] },
    { name: 'log groups of eu-west-1', items: WEST_GROUPS.map((g) => keyOf(RULE.logGroups, 'eu-west-1', g)) },
    ...REGIONS.map((region) => ({
      name: `trails of ${region}`,
      items: [keyOf(RULE.trails, region, TRAILS[region] ?? '')],
    })),
    ...(await Promise.all(
      REGIONS.map(async (region) => ({
        name: `keys of ${region}`,
        items: [keyOf(RULE.keys, region, await stackKeyArn(region))],
      })),
    )),
    ...userPages,
    // One item a region: AWS Config's recording there (none in these regions: a human is asked to turn it on).
    ...REGIONS.map((region) => ({
      name: `config of ${region}`,
      items: [keyOf(RULE.config, region, `config ${region}`)],
    })),
    // No multi-region trail here: the activity pass looks once, in the home region, and has nothing to alarm on.
    { name: 'activity alarms', items: [keyOf(RULE.activity, 'us-east-1', 'CloudWatch.1-14')] },
    // One item per region: its GuardDuty detector (none here: the sweep enables it).
    ...REGIONS.map((region) => ({
      name: `GuardDuty of ${region}`,
      items: [keyOf(RULE.guardduty, region, `GuardDuty ${region}`)],
    })),
  ];
}

const START = Date.parse('2026-12-01T06:00:00Z');
const RUN_TIME = 10 * 60_000;

/** A run whose clock passes its deadline as soon as an item of `stopOn` is swept: it stops after that page. */
function cutWhenSwept(stopOn: Set<string>, items: SweepItem[]): Pick<SweepOptions, 'deadline' | 'onItem'> {
  const deadline = Date.now() + RUN_TIME;
  return {
    deadline,
    onItem: (item) => {
      items.push(item);
      if (stopOn.has(itemKey(item))) vi.setSystemTime(deadline + 1);
    },
  };
}

const sorted = (keys: string[]) => [...keys].sort();

describe('the sweep’s resume matrix', () => {
  beforeEach(async () => {
    await freshEngine();
    await seed();
    vi.useFakeTimers({ toFake: ['Date'], now: START });
  }, 120_000);

  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    ['log groups of us-east-1, page 1', 'inside the log-group pass, mid-region (a page token)'],
    ['log groups of us-east-1, page 2', 'in the log-group pass, at a region boundary'],
    ['log groups of eu-west-1', 'at the end of the log-group pass'],
    ['trails of us-east-1', 'inside the trail pass, at a region boundary'],
    ['keys of us-east-1', 'inside the key pass, at a region boundary'],
    ['users, page 1', 'inside the user pass, mid-region (an IAM marker)'],
    ['users, page 3', 'at the end of the user pass'],
    ['config of eu-west-1', 'at the end of the config pass'],
    ['activity alarms', 'at the end of the activity pass'],
    ['GuardDuty of eu-west-1', 'after the very last page'],
  ])('cut after "%s" (%s): the continuation sweeps exactly the rest', async (stopPage) => {
    const pages = await pagesInOrder();
    const cutAt = pages.findIndex((page) => page.name === stopPage);
    const before = pages.slice(0, cutAt + 1).flatMap((page) => page.items);
    const after = pages.slice(cutAt + 1).flatMap((page) => page.items);

    const cutItems: SweepItem[] = [];
    const cutPage = new Set(pages[cutAt]?.items);
    const cut = await sweep(cutWhenSwept(cutPage, cutItems));
    expect(cut.complete).toBe(false);
    expect(sorted(cutItems.map(itemKey))).toEqual(sorted(before));

    // The next scheduled run: a later invocation that only continues.
    vi.setSystemTime(START + 15 * 60_000);
    const restItems: SweepItem[] = [];
    const rest = await continueSweep({
      deadline: Date.now() + RUN_TIME,
      onItem: (item) => restItems.push(item),
    });
    expect(rest?.complete).toBe(true);
    expect(rest?.sweepId).toBe(cut.sweepId);
    expect(sorted(restItems.map(itemKey))).toEqual(sorted(after));
    // One report for the whole sweep, each resource looked at once.
    expect(rest?.seen).toEqual({
      'log-groups': 53,
      trails: 2,
      keys: 2,
      users: USERS.length,
      'config-recorders': REGIONS.length,
      'activity-alarms': 1,
      guardduty: REGIONS.length,
    });
    const counted = Object.values(rest?.counts ?? {}).reduce(
      (sum, counts) => sum + Object.values(counts).reduce((a, b) => a + (b ?? 0), 0),
      0,
    );
    expect(counted).toBe(before.length + after.length);
    expect(rest?.counts[RULE.logGroups]).toEqual({ remediated: 53 });
    // Done: nothing is left to continue.
    expect(await continueSweep()).toBeUndefined();
  });

  it('does nothing when asked only to continue and no sweep is open', async () => {
    const writes = awsCallCounter.writes;
    const items: SweepItem[] = [];
    const report = await continueSweep({ onItem: (item) => items.push(item) });
    expect(report).toBeUndefined();
    expect(items).toEqual([]);
    expect(awsCallCounter.writes).toBe(writes);
    expect((await describeGroup(EAST_GROUPS[0] ?? '', 'us-east-1'))?.retentionInDays).toBeUndefined();
  });

  it('keeps no cursor in a dry run, and neither reads nor clears an open one', async () => {
    const pages = await pagesInOrder();
    const firstPage = new Set(pages[0]?.items);
    const dry = await sweep({ dryRun: true, ...cutWhenSwept(firstPage, []) });
    expect(dry.complete).toBe(false);
    expect(await continueSweep()).toBeUndefined();
    expect((await describeGroup(EAST_GROUPS[0] ?? '', 'us-east-1'))?.retentionInDays).toBeUndefined();

    vi.setSystemTime(START + 60 * 60_000);
    const cut = await sweep(cutWhenSwept(firstPage, []));
    vi.setSystemTime(START + 2 * 60 * 60_000);
    const dryItems: SweepItem[] = [];
    const dryWhole = await sweep({ dryRun: true, onItem: (item) => dryItems.push(item) });
    // From the start, not from the cursor: what the cut fixed is compliant, the rest would be fixed.
    expect(dryWhole.sweepId).not.toBe(cut.sweepId);
    expect(dryWhole.counts[RULE.logGroups]).toEqual({ compliant: 50, planned: 3 });
    expect(dryItems).toHaveLength(pages.flatMap((page) => page.items).length);
    const resumed = await continueSweep();
    expect(resumed?.sweepId).toBe(cut.sweepId);
    expect(resumed?.complete).toBe(true);
    expect(resumed?.counts[RULE.logGroups]).toEqual({ remediated: 53 });
  });
});

describe('the sweep command (npm run sweep) after a cut-off sweep', () => {
  let cutId = '';

  beforeEach(async () => {
    await freshEngine();
    await seed();
    vi.useFakeTimers({ toFake: ['Date'], now: START });
    const pages = await pagesInOrder();
    const cut = await sweep(cutWhenSwept(new Set(pages[0]?.items), []));
    expect(cut.complete).toBe(false);
    cutId = cut.sweepId;
    vi.useRealTimers();
  }, 120_000);

  afterEach(() => {
    vi.useRealTimers();
  });

  const command = (options: { fresh?: boolean; dryRun?: boolean }, lines: string[]) =>
    sweepCommand({
      endpoint: testEndpoint(),
      regions: REGIONS,
      json: true,
      rateLimit: 'off',
      print: (line) => lines.push(line),
      ...options,
    });

  /** The log groups the command printed as fixed (its --json lines, one per item that was not compliant). */
  const fixedGroups = (lines: string[]) =>
    lines
      .map((line) => JSON.parse(line) as Partial<SweepItem>)
      .filter((item) => item.rule === RULE.logGroups)
      .map((item) => `${item.outcome} ${item.resource}`);

  it('continues the open sweep where it stopped, then sends its digest', async () => {
    const lines: string[] = [];
    const report = await command({}, lines);
    expect(report.sweepId).toBe(cutId);
    expect(report.complete).toBe(true);
    expect(fixedGroups(lines).sort()).toEqual(
      [EAST_GROUPS[50] ?? '', ...WEST_GROUPS].map((group) => `remediated ${group}`).sort(),
    );
    expect(report.seen['log-groups']).toBe(53);
    expect((await readNotices()).map((notice) => notice.attributes.outcome)).toEqual(['digest']);
  });

  it('starts over with --fresh, and the open cursor is gone once it completes', async () => {
    const lines: string[] = [];
    const report = await command({ fresh: true }, lines);
    expect(report.sweepId).not.toBe(cutId);
    expect(report.complete).toBe(true);
    expect(report.seen['log-groups']).toBe(53);
    expect(report.counts[RULE.logGroups]).toEqual({ compliant: 50, remediated: 3 });
    expect(await continueSweep()).toBeUndefined();
    expect((await readNotices()).map((notice) => notice.attributes.outcome)).toEqual(['digest']);
  });

  it('fixes nothing in a dry run, sends no digest, and leaves the open sweep to continue', async () => {
    const lines: string[] = [];
    const report = await command({ dryRun: true }, lines);
    expect(report.sweepId).not.toBe(cutId);
    expect(fixedGroups(lines).sort()).toEqual(
      [EAST_GROUPS[50] ?? '', ...WEST_GROUPS].map((group) => `planned ${group}`).sort(),
    );
    expect((await describeGroup(WEST_GROUPS[0] ?? '', 'eu-west-1'))?.retentionInDays).toBeUndefined();
    expect(await readNotices()).toEqual([]);
    const resumed = await continueSweep();
    expect(resumed?.sweepId).toBe(cutId);
  });
});
