/**
 * Attack: in a region the engine has not baselined yet, an intruder weakens GuardDuty (features off, the detector
 * suspended, an ARCHIVE filter, an active trusted IP list, an export under another account's key), then lets an event
 * of theirs reach the engine, hoping the weakened detector is adopted as the baseline the engine then defends. The
 * event's capture is refused (no baseline stored, and the keep-time check refuses it too), a human is told the gap and
 * the next step, and nothing is written to GuardDuty but the enabling of a suspended detector. A detector that meets
 * the policy still has its baseline captured by the event; one weakened after the decision, before the record is kept,
 * is refused by the keeper. GuardDuty's twin of Config's "a region the intruder set up
 * before any baseline" (config-recorder-blinded.test.ts).
 */

import { readFileSync } from 'node:fs';
import {
  CreateDetectorCommand,
  CreateFilterCommand,
  CreateIPSetCommand,
  CreatePublishingDestinationCommand,
  GuardDutyClient,
  UpdateDetectorCommand,
} from '@aws-sdk/client-guardduty';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { captureGuardDutyBaseline, GuardDutyBaselineStore, readDetector } from '../../../lib/guardduty-baselines.js';
import { guarddutyGuard } from '../../../lib/guards/guardduty-guard.js';
import { settleDecision } from '../../../lib/pipeline.js';
import { decideGuardDuty, type GuardDutyTarget, guarddutyEnabled } from '../../../lib/rules/guardduty-enabled.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { freshEngine, testEndpoint } from '../../support/emulator.js';
import { CallRecorder, contextFor, guardHandler } from '../../support/handler-harness.js';

const OTHER_KEY = (region: string) => `arn:aws:kms:${region}:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** The intruder's weakening of the region's detector; returns what the event's sample must name instead of its ids. */
type Weakening = (gd: GuardDutyClient, detectorId: string, region: string) => Promise<[string, string][]>;

const KINDS: [string, string, string, Weakening, RegExp, string[]][] = [
  [
    'features off',
    'ap-northeast-1',
    'UpdateDetector-features-and-frequency',
    async (gd, DetectorId) => {
      const off = ['S3_DATA_EVENTS', 'EKS_AUDIT_LOGS'].map((Name) => ({
        Name: Name as never,
        Status: 'DISABLED' as const,
      }));
      await gd.send(new UpdateDetectorCommand({ DetectorId, Features: off }));
      return [];
    },
    /no baseline captured: feature S3_DATA_EVENTS DISABLED, feature EKS_AUDIT_LOGS DISABLED\. Fix it \(aws guardduty update-detector --region ap-northeast-1 --detector-id '\w+' --features Name=S3_DATA_EVENTS,Status=ENABLED; aws guardduty update-detector --region ap-northeast-1 --detector-id '\w+' --features Name=EKS_AUDIT_LOGS,Status=ENABLED\), then/,
    [],
  ],
  [
    'the detector suspended with a feature off (it is enabled, nothing else)',
    'ap-northeast-2',
    'UpdateDetector-disable',
    async (gd, DetectorId) => {
      await gd.send(
        new UpdateDetectorCommand({
          DetectorId,
          Enable: false,
          Features: [{ Name: 'RDS_LOGIN_EVENTS', Status: 'DISABLED' }],
        }),
      );
      return [];
    },
    /no baseline captured: feature RDS_LOGIN_EVENTS DISABLED/,
    ['GuardDuty:UpdateDetector'],
  ],
  [
    'an ARCHIVE filter',
    'ap-south-1',
    'CreateFilter-archive-everything',
    async (gd, DetectorId) => {
      await gd.send(
        new CreateFilterCommand({
          DetectorId,
          Name: 'quiet',
          Action: 'ARCHIVE',
          Rank: 1,
          FindingCriteria: { Criterion: { severity: { Gte: 0 } } },
        }),
      );
      return [];
    },
    /no baseline captured: filter quiet ARCHIVE/,
    [],
  ],
  [
    'an active trusted IP list',
    'ca-central-1',
    'CreateIPSet-trusted-activated',
    async (gd, DetectorId) => {
      const { IpSetId = '' } = await gd.send(
        new CreateIPSetCommand({
          DetectorId,
          Name: 'office',
          Format: 'TXT',
          Location: 'https://s3.amazonaws.com/example-ops-bucket/trusted-ips.txt',
          Activate: true,
        }),
      );
      return [['0cb0f1a2e3d4c5b6a7988796a5b4c3d2', IpSetId]];
    },
    /no baseline captured: trusted IP list office ACTIVE/,
    [],
  ],
  [
    'an export under another account’s key',
    'sa-east-1',
    'DeletePublishingDestination',
    async (gd, DetectorId, region) => {
      await gd.send(
        new CreatePublishingDestinationCommand({
          DetectorId,
          DestinationType: 'S3',
          DestinationProperties: { DestinationArn: 'arn:aws:s3:::intruder-findings', KmsKeyArn: OTHER_KEY(region) },
        }),
      );
      return [];
    },
    /no baseline captured: export to arn:aws:s3:::intruder-findings key arn:aws:kms:sa-east-1:444455556666:/,
    [],
  ],
];

const ctx = () => ({ settings: loadSettings(), aws: createAwsClients() });

/** The sample's event in `region` against the region's detector (the samples' detector id replaced by the real one). */
function eventIn(sample: string, region: string, detectorId: string, more: [string, string][]): CloudTrailEvent {
  let text = readFileSync(`events/guardduty-${sample}.json`, 'utf8')
    .replaceAll('eu-west-1', region)
    .replaceAll('12abc34d567e8fa901bc2d34e56789f0', detectorId);
  for (const [from, to] of more) text = text.replaceAll(from, to);
  return JSON.parse(text) as CloudTrailEvent;
}

/** The intruder's region: a detector made with AWS's defaults, then weakened; the event of the weakening handled. */
async function attack(region: string, sample: string, weaken: Weakening) {
  const gd = new GuardDutyClient(emulatorClientConfig(testEndpoint(), region));
  const { DetectorId = '' } = await gd.send(new CreateDetectorCommand({ Enable: true }));
  const event = eventIn(sample, region, DetectorId, await weaken(gd, DetectorId, region));
  const recorder = new CallRecorder();
  const result = await guardHandler(guarddutyGuard, recorder)(event, contextFor(guarddutyGuard, event));
  const writes = recorder.calls.filter((c) => c.startsWith('GuardDuty:') && !/:(Get|List|Describe)/.test(c));
  const baseline = await new GuardDutyBaselineStore(createAwsClients(), loadSettings().stateTable).get(region);
  return { event, result, writes, baseline };
}

describe('GuardDuty weakened in a region with no baseline yet, then an event', () => {
  beforeAll(async () => {
    await freshEngine();
  });

  it.each(KINDS)(
    '%s: no baseline, a human told the gap, no write',
    async (_kind, region, sample, weaken, gap, apis) => {
      // Act
      const { event, result, writes, baseline } = await attack(region, sample, weaken);
      const kept = await captureGuardDutyBaseline(ctx(), region, event.detail.eventID, event.account);

      // Assess
      expect(result.outcome).toBe('needs-human');
      expect(result.needsHuman.join(' ')).toMatch(gap);
      expect(result.needsHuman.join(' ')).toContain(`npm run sweep -- --regions ${region}`);
      expect(writes).toEqual(apis);
      expect(typeof kept).toBe('string');
      expect(baseline).toBeUndefined();
      expect((await readDetector(createAwsClients(), region))?.enabled).toBe(true);
    },
  );

  it('a detector that meets the policy: the event captures its baseline', async () => {
    // Act
    const { result, writes, baseline } = await attack(
      'eu-west-3',
      'UpdateDetector-enable-runtime-monitoring',
      async () => [],
    );

    // Assess
    expect(result.outcome).toBe('compliant');
    expect(writes).toEqual([]);
    expect(baseline?.config).toMatchObject({ enabled: true, features: { S3_DATA_EVENTS: 'ENABLED' }, filters: [] });
  });

  it('weakened between the decision and the keeping of the baseline: the keeper refuses, a human is told', async () => {
    // Prepare: a compliant detector, decided on; then an ARCHIVE filter lands before the record is kept.
    const region = 'us-west-2';
    const gd = new GuardDutyClient(emulatorClientConfig(testEndpoint(), region));
    const { DetectorId = '' } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    const target: GuardDutyTarget = {
      region,
      account: '123456789012',
      detectorId: DetectorId,
      eventName: 'UpdateDetector',
      eventId: 'race-1',
      eventTime: '2026-12-01T09:00:00Z',
    };
    const state = { target, current: await readDetector(createAwsClients(), region), baseline: undefined };
    const decision = decideGuardDuty(state, { guarddutyEnableMissing: true });
    await gd.send(
      new CreateFilterCommand({ DetectorId, Name: 'late', Action: 'ARCHIVE', FindingCriteria: { Criterion: {} } }),
    );

    // Act
    const settled = await settleDecision(guarddutyEnabled, guarddutyEnabled.describe(target), state, decision, {
      ...ctx(),
      dryRun: false,
    });

    // Assess
    expect(decision.status).toBe('compliant');
    expect(settled.outcome).toBe('needs-human');
    expect(settled.decision.needsHuman.join(' ')).toMatch(
      new RegExp(
        `GuardDuty in us-west-2: no baseline captured: filter late ARCHIVE\\. Fix it \\(aws guardduty delete-filter --region us-west-2 --detector-id '${DetectorId}' --filter-name 'late'\\)`,
      ),
    );
    expect(await new GuardDutyBaselineStore(createAwsClients(), loadSettings().stateTable).get(region)).toBeUndefined();
  });
});
