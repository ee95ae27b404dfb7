/**
 * The trail guard against the emulator: each trigger replayed with --reenact (a fully configured trail, its baseline
 * captured, then the event's call), and the trail read back (DescribeTrails, GetEventSelectors, GetTrailStatus,
 * insights, tags) must equal its baseline. What cannot be restored gives needs-human and no write.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudTrailClient, DescribeTrailsCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteBucketCommand, DeleteBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { settleDecision } from '../../lib/pipeline.js';
import type { SweepContext } from '../../lib/rule.js';
import { type TrailSweepTarget, trailIntegrity } from '../../lib/rules/trail-integrity.js';
import { loadSettings } from '../../lib/settings.js';
import { TrailBaselineStore } from '../../lib/trail-baselines.js';
import { readTrail, type TrailConfig } from '../../lib/trails.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import type { ReenactContext } from '../../scripts/reenact/index.js';
import { trailReenactments } from '../../scripts/reenact/trails.js';
import { type ReplayReport, runReplay } from '../../scripts/replay.js';
import { anotherEvent, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { trailWithoutBaseline } from '../support/trails.js';

const TRAIL = 'org-audit-trail';
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${TRAIL}`;
const sample = (name: string) => `events/cloudtrail-${name}.json`;

async function replay(files: string[], reenact = true): Promise<ReplayReport> {
  return runReplay({ files, endpoint: testEndpoint(), reenact, json: true, print: () => undefined });
}

function engine() {
  return { settings: loadSettings(), aws: createAwsClients() };
}

async function baselineOf(arn = TRAIL_ARN) {
  const ctx = engine();
  return new TrailBaselineStore(ctx.aws, ctx.settings.stateTable).get(arn);
}

/** What the baseline and a read-back must agree on (when logging stopped is history, not configuration). */
function configuration(config: TrailConfig | undefined) {
  if (!config) return undefined;
  const { stoppedLoggingAt: _history, ...rest } = config;
  return rest;
}

async function expectTrailAsBaseline(name = TRAIL) {
  const baseline = await baselineOf(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`);
  expect(baseline).toBeDefined();
  const now = await readTrail(createAwsClients(), name, REGION);
  expect(configuration(now)).toEqual(configuration(baseline?.config));
  return { baseline, now };
}

/** A trail set up, captured and then changed by a reenactment, without the engine running on it. */
async function preparedBy(eventName: string, file: string) {
  const event = JSON.parse(readFileSync(file, 'utf8'));
  const ctx: ReenactContext = {
    endpoint: testEndpoint(),
    account: ACCOUNT,
    notes: [],
    engine: engine(),
    keys: new Map(),
  };
  await trailReenactments[`aws.cloudtrail:${eventName}`]?.(event, ctx);
}

const cloudtrail = () => new CloudTrailClient(emulatorClientConfig(testEndpoint(), REGION));

describe('trail guard against the emulator', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each(['DeleteTrail-by-name', 'DeleteTrail-by-arn'])(
    're-creates a trail after %s exactly as its baseline',
    async (file) => {
      const report = await replay([sample(file)]);
      const result = report.items[0]?.result;
      expect(result?.outcome).toBe('remediated');
      expect(result?.actions.map((a) => a.api)).toEqual([
        'cloudtrail:CreateTrail',
        'cloudtrail:PutEventSelectors',
        'cloudtrail:PutInsightSelectors',
        'cloudtrail:StartLogging',
      ]);
      const { now } = await expectTrailAsBaseline();
      expect(now).toMatchObject({ isLogging: true, isMultiRegionTrail: true, logFileValidationEnabled: true });
      expect(now?.tags).toEqual([
        { Key: 'owner', Value: 'security' },
        { Key: 'purpose', Value: 'audit' },
      ]);
      const [notice] = await readNotices();
      expect(notice?.attributes).toMatchObject({
        severity: 'critical',
        outcome: 'remediated',
        rule: 'cloudtrail-trail-integrity',
      });
      expect(notice?.subject).toMatch(
        /^\[driftguard\] CRITICAL (trail )?org-audit-trail DeleteTrail by alice: re-created, logging$/,
      );
      expect(notice?.document.findings).toEqual([
        expect.objectContaining({
          attribute: 'trail',
          before: expect.stringMatching(/^deleted \(not logging for \d+s\)$/),
        }),
      ]);
    },
  );

  it('starts a stopped trail and says how long it was not logging', async () => {
    const report = await replay([sample('StopLogging')]);
    const result = report.items[0]?.result;
    expect(result?.outcome).toBe('remediated');
    expect(result?.actions).toEqual([{ api: 'cloudtrail:StartLogging', params: { Name: TRAIL_ARN } }]);
    expect(result?.findings[0]?.before).toMatch(/not logging for \d+s/);
    await expectTrailAsBaseline();
    expect((await readNotices())[0]?.attributes.severity).toBe('critical');
  });

  it.each([
    ['UpdateTrail-disable-multiregion-and-validation', { IsMultiRegionTrail: true, EnableLogFileValidation: true }],
    [
      'UpdateTrail-remove-cloudwatch-logs',
      {
        CloudWatchLogsLogGroupArn: expect.stringContaining(':log-group:'),
        CloudWatchLogsRoleArn: expect.stringContaining(':role/'),
      },
    ],
    ['UpdateTrail-remove-kms', { KmsKeyId: expect.stringContaining(':key/') }],
  ])('puts back only what %s weakened', async (file, restored) => {
    const report = await replay([sample(file)]);
    const result = report.items[0]?.result;
    expect(result?.outcome).toBe('remediated');
    expect(result?.actions).toEqual([{ api: 'cloudtrail:UpdateTrail', params: { Name: TRAIL_ARN, ...restored } }]);
    await expectTrailAsBaseline();
    expect((await readNotices())[0]?.attributes.severity).toBe('high');
  });

  it('restores narrowed management events and the data events the call removed', async () => {
    const report = await replay([sample('PutEventSelectors-write-only')]);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    expect(report.items[0]?.result.findings.map((f) => f.attribute)).toEqual(['managementEvents', 'dataEvents']);
    const { now } = await expectTrailAsBaseline();
    expect(now?.eventSelectors?.[0]).toMatchObject({
      ReadWriteType: 'All',
      IncludeManagementEvents: true,
      DataResources: [{ Type: 'AWS::S3::Object', Values: [expect.stringMatching(/-data\/$/)] }],
    });
  });

  it('moves a trail back to its bucket and flags the change as suspicious', async () => {
    const report = await replay([sample('UpdateTrail-change-bucket')]);
    const result = report.items[0]?.result;
    expect(result?.outcome).toBe('needs-human');
    expect(result?.actions[0]?.params).toEqual({
      Name: TRAIL_ARN,
      S3BucketName: `reenact-trail-org-audit-trail-${ACCOUNT}`,
    });
    expect(result?.needsHuman[0]).toMatch(/changing where a trail writes is how logs get diverted/);
    await expectTrailAsBaseline();
  });

  it.each(['UpdateTrail-s3-prefix-only', 'PutInsightSelectors'])(
    'accepts %s without a write, and the baseline follows',
    async (file) => {
      const report = await replay([sample(file)]);
      const result = report.items[0]?.result;
      expect(result).toMatchObject({ outcome: 'compliant', actions: [] });
      const { baseline } = await expectTrailAsBaseline();
      expect(baseline?.capturedFrom).toBe(result?.eventId);
      expect(await readNotices()).toHaveLength(0);
    },
  );

  it('captures the baseline of a trail someone creates', async () => {
    const report = await replay([sample('CreateTrail')]);
    expect(report.items[0]?.result).toMatchObject({
      outcome: 'compliant',
      reason: 'new trail team-trail; baseline captured',
    });
    await expectTrailAsBaseline('team-trail');
  });

  it('ignores failed calls and the engine’s own CreateTrail', async () => {
    const report = await replay([
      sample('StopLogging-failed-AccessDenied'),
      sample('CreateTrail-by-remediation-engine'),
    ]);
    expect(report.items.map((i) => i.result.outcome)).toEqual(['ignored', 'ignored']);
    expect(await baselineOf()).toBeUndefined();
  });

  it('does nothing more on a second delivery of the same event', async () => {
    const first = await replay([sample('StopLogging')]);
    expect(await readNotices()).toHaveLength(1);
    const again = await replay([sample('StopLogging')], false);
    expect(again.items[0]?.result).toEqual(first.items[0]?.result);
    expect(await readNotices()).toHaveLength(0);
    const later = await replay([anotherEvent(sample('StopLogging'), 'later')], false);
    expect(later.items[0]?.result).toMatchObject({ outcome: 'compliant', actions: [] });
  });

  it('gives needs-human and makes no write for a trail with no baseline', async () => {
    await preparedBy('CreateTrail', sample('CreateTrail'));
    await cloudtrail().send(new StopLoggingCommand({ Name: 'team-trail' }));
    const file = join(mkdtempSync(join(tmpdir(), 'driftguard-')), 'stop-team-trail.json');
    writeFileSync(file, readFileSync(sample('StopLogging'), 'utf8').replaceAll(TRAIL, 'team-trail'));
    const report = await replay([file], false);
    expect(report.items[0]?.result).toMatchObject({ outcome: 'needs-human', actions: [] });
    expect(report.items[0]?.result.needsHuman[0]).toMatch(/capture its baseline/);
    expect((await readTrail(createAwsClients(), 'team-trail', REGION))?.isLogging).toBe(false);
  });

  it('gives needs-human, and re-creates nothing, when the trail’s bucket is gone or refuses CloudTrail', async () => {
    await preparedBy('DeleteTrail', sample('DeleteTrail-by-name'));
    const bucket = `reenact-trail-org-audit-trail-${ACCOUNT}`;
    const s3 = new S3Client({ ...emulatorClientConfig(testEndpoint(), REGION), forcePathStyle: true });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    const refused = await replay([sample('DeleteTrail-by-name')], false);
    expect(refused.items[0]?.result.outcome).toBe('needs-human');
    expect(refused.items[0]?.result.needsHuman[0]).toMatch(new RegExp(`${bucket} refuses CloudTrail`));
    expect(await readTrail(createAwsClients(), TRAIL, REGION)).toBeUndefined();

    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const gone = await replay([anotherEvent(sample('DeleteTrail-by-name'), 'bucket-gone')], false);
    // Checked before any write: a bucket the account does not list is gone or another account's.
    expect(gone.items[0]?.result.needsHuman[0]).toMatch(new RegExp(`${bucket} is not a bucket of account ${ACCOUNT}`));
    const { trailList } = await cloudtrail().send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
  });

  it('gives needs-human naming the key when the trail’s KMS key is pending deletion', async () => {
    await preparedBy('DeleteTrail', sample('DeleteTrail-by-name'));
    const key = (await baselineOf())?.config.kmsKeyId as string;
    await new KMSClient(emulatorClientConfig(testEndpoint(), REGION)).send(
      new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }),
    );
    const report = await replay([sample('DeleteTrail-by-name')], false);
    expect(report.items[0]?.result).toMatchObject({ outcome: 'needs-human', actions: [] });
    expect(report.items[0]?.result.needsHuman[0]).toContain(`aws kms cancel-key-deletion --key-id ${key}`);
    expect(await readTrail(createAwsClients(), TRAIL, REGION)).toBeUndefined();
  });
});

describe('the trail sweep pass against the emulator', () => {
  const SWEEP_ID = 'sweep-2026-12-01T06:00:00.000Z';

  function sweepContext(dryRun = false): SweepContext {
    return { ...engine(), account: ACCOUNT, sweepId: SWEEP_ID, now: '2026-12-01T06:00:00.000Z', dryRun };
  }

  /** One region's trails through the pass, each settled as the sweep does. */
  async function sweepRegion(ctx: SweepContext) {
    const pass = trailIntegrity.sweep;
    if (!pass) throw new Error('the trail rule declares no sweep');
    const page = await pass.list(REGION, undefined, ctx);
    const swept = [];
    for (const item of page.items) {
      const assessed = await pass.assess(item, REGION, ctx);
      if (!assessed) continue;
      const settled = await settleDecision(trailIntegrity, assessed.resource, assessed.state, assessed.decision, ctx);
      swept.push({
        name: assessed.name,
        decision: assessed.decision,
        outcome: settled.outcome,
        reason: settled.reason,
      });
    }
    return { page, swept };
  }

  beforeEach(async () => {
    await freshEngine();
    // A trail created while no event was seen, and one deleted after its baseline was captured.
    await trailWithoutBaseline(REGION, 'team-trail', ACCOUNT);
    await preparedBy('DeleteTrail', sample('DeleteTrail-by-name'));
  });

  it('lists the region’s trails and the deleted ones it has a baseline of, in one page', async () => {
    const { page } = await sweepRegion(sweepContext(true));
    const sweeping = { region: REGION, account: ACCOUNT, sweepId: SWEEP_ID };
    expect(page).toEqual({
      items: [
        { ...sweeping, name: 'team-trail', firstSeen: true },
        { ...sweeping, name: TRAIL, firstSeen: false },
      ] satisfies TrailSweepTarget[],
    });
  });

  it('starts a stopped trail it sees first, says what it lacks, captures its baseline logging; re-creates a deleted one', async () => {
    const { swept } = await sweepRegion(sweepContext());
    expect(swept.map(({ name, outcome }) => [name, outcome])).toEqual([
      ['team-trail', 'needs-human'],
      [TRAIL, 'remediated'],
    ]);
    expect(swept[0]?.reason).toMatch(/^first seen by the sweep: logging, isMultiRegionTrail, .*; baseline captured$/);
    expect(swept[0]?.decision.actions.map((a) => a.api)).toEqual(['cloudtrail:StartLogging']);
    expect(swept[1]?.reason).toBe(`trail ${TRAIL} was deleted`);
    expect(swept[1]?.decision.findings[0]?.before).toBe('deleted (not logging for an unknown time)');
    const captured = await baselineOf(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/team-trail`);
    expect(captured?.capturedFrom).toBe(SWEEP_ID);
    expect(captured?.config.isLogging).toBe(true);
    await expectTrailAsBaseline('team-trail');
    await expectTrailAsBaseline();
  });

  it('captures, starts and re-creates nothing in a dry run, and says what it would capture', async () => {
    const { swept } = await sweepRegion(sweepContext(true));
    expect(swept.map(({ outcome }) => outcome)).toEqual(['planned', 'planned']);
    expect(swept[0]?.reason).toMatch(/; would capture its baseline \(dry run\)$/);
    expect(await baselineOf(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/team-trail`)).toBeUndefined();
    expect((await readTrail(createAwsClients(), 'team-trail', REGION))?.isLogging).toBe(false);
    expect(await readTrail(createAwsClients(), TRAIL, REGION)).toBeUndefined();
  });
});
