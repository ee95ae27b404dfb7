/**
 * The GuardDuty guard against the emulator: triggers replayed with --reenact (a fully configured detector, its
 * baseline captured, then the event's call in the event's region), the region's detector read back and compared with
 * its baseline. Silencers, failed calls and the engine's own calls make no write. The sweep gives a region with no
 * detector one, or tells a human when DRIFTGUARD_GUARDDUTY_ENABLE_MISSING is false.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import type { CustomResourceRequest } from '../../lib/custom-resource.js';
import { handleCaptureResource } from '../../lib/deploy-capture.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { type DetectorConfig, GuardDutyBaselineStore, readDetector } from '../../lib/guardduty-baselines.js';
import { GUARDDUTY_CAPTURE } from '../../lib/guards/guardduty-guard.js';
import { settleDecision } from '../../lib/pipeline.js';
import type { SweepContext } from '../../lib/rule.js';
import { guarddutyEnabled } from '../../lib/rules/guardduty-enabled.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { type ReplayReport, runReplay } from '../../scripts/replay.js';
import { freshEngine, testEndpoint } from '../support/emulator.js';

const ACCOUNT = '123456789012';
const sample = (name: string) => `events/guardduty-${name}.json`;

async function replay(files: string[]): Promise<ReplayReport> {
  return runReplay({ files, endpoint: testEndpoint(), reenact: true, json: true, print: () => undefined });
}

const engine = () => ({ settings: loadSettings(), aws: createAwsClients() });

/** What a restore must bring back: everything the baseline keeps but the detector's id and the administrator link. */
function restorable(config: DetectorConfig | undefined) {
  if (!config) return undefined;
  const { detectorId: _id, administrator: _admin, trustedIpSets: _lists, ...rest } = config;
  return rest;
}

async function expectAsBaseline(region: string) {
  const ctx = engine();
  const baseline = await new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable).get(region);
  expect(baseline).toBeDefined();
  const now = await readDetector(ctx.aws, region);
  expect(now?.enabled).toBe(true);
  expect(restorable(now)).toEqual(restorable(baseline?.config));
  return { baseline, now };
}

const detectorIds = async (region: string) =>
  (await new GuardDutyClient(emulatorClientConfig(testEndpoint(), region)).send(new ListDetectorsCommand({})))
    .DetectorIds ?? [];

describe('guardduty guard against the emulator', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('a deleted detector in another region and a weakened one at home come back as their baselines say', async () => {
    // Act
    const report = await replay([
      sample('DeleteDetector-ap-southeast-2'),
      sample('UpdateDetector-features-and-frequency'),
    ]);

    // Assess
    const [deleted, weakened] = report.items;
    expect(deleted?.result.actions.map((a) => a.api)).toEqual([
      'guardduty:CreateDetector',
      'guardduty:CreateFilter',
      'guardduty:CreatePublishingDestination',
    ]);
    expect(deleted?.notes).toContainEqual(
      expect.stringMatching(
        /the event's detector 6cb0f1a2e3d4c5b6a7988796a5b4c3d2 is mapped onto the emulator's [0-9a-f]{32}/,
      ),
    );
    expect(deleted?.result.outcome).toBe('needs-human');
    expect(deleted?.result.needsHuman.join(' ')).toMatch(/findings in ap-southeast-2 are gone for good/);
    expect(deleted?.result.needsHuman.join(' ')).toMatch(
      /aws guardduty invite-members --region ap-southeast-2 .*--account-ids 123456789012/,
    );
    expect(await detectorIds('ap-southeast-2')).toHaveLength(1);
    const { baseline, now } = await expectAsBaseline('ap-southeast-2');
    expect(now?.detectorId).not.toBe(baseline?.config.detectorId);
    expect(now?.features.RUNTIME_MONITORING).toBe('ENABLED');

    expect(weakened?.result.outcome).toBe('remediated');
    expect(weakened?.result.actions).toEqual([
      {
        api: 'guardduty:UpdateDetector',
        params: {
          DetectorId: expect.any(String),
          Features: [
            { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
            { Name: 'EKS_AUDIT_LOGS', Status: 'ENABLED' },
          ],
          FindingPublishingFrequency: 'FIFTEEN_MINUTES',
        },
      },
    ]);
    await expectAsBaseline('eu-west-1');
  });

  it('the emulator, as AWS: GetDetector names the foundational sources, which CreateDetector refuses', async () => {
    const guardduty = new GuardDutyClient(emulatorClientConfig(testEndpoint(), 'ca-central-1'));
    const create = (Features: { Name: never; Status: 'ENABLED' }[]) =>
      guardduty.send(new CreateDetectorCommand({ Enable: true, Features }));
    const named = (...names: string[]) => names.map((Name) => ({ Name: Name as never, Status: 'ENABLED' as const }));

    for (const refused of [named('CLOUD_TRAIL'), named('EKS_RUNTIME_MONITORING', 'RUNTIME_MONITORING')])
      await expect(create(refused)).rejects.toMatchObject({
        name: 'BadRequestException',
        message: expect.stringMatching(/invalid or out-of-range value/),
      });
    expect(await detectorIds('ca-central-1')).toEqual([]);
    await create(named('RUNTIME_MONITORING'));
    expect((await readDetector(createAwsClients(), 'ca-central-1'))?.features).toMatchObject({
      CLOUD_TRAIL: 'ENABLED',
      DNS_LOGS: 'ENABLED',
      FLOW_LOGS: 'ENABLED',
      RUNTIME_MONITORING: 'ENABLED',
    });
  });

  it('silencers, a failed call and the engine’s own call make no write', async () => {
    // Act
    const report = await replay([
      sample('CreateFilter-archive-everything'),
      sample('DeleteDetector-failed-AccessDenied'),
      sample('UpdateDetector-by-remediation-engine'),
      sample('DisassociateFromAdministratorAccount'),
    ]);

    // Assess
    expect(report.items.map((item) => [item.result.outcome, item.result.actions])).toEqual([
      ['needs-human', []],
      ['ignored', []],
      ['ignored', []],
      ['needs-human', []],
    ]);
    expect(report.items[3]?.result.needsHuman.join(' ')).toMatch(/no longer reach administrator account 210987654321/);
    const now = await readDetector(createAwsClients(), 'eu-west-1');
    expect(now?.filters.find((f) => f.name === 'quiet')?.action).toBe('ARCHIVE');
    expect(now?.administrator).toBeUndefined();
  });

  it('the deploy-time capture stores the home region’s baseline, and answers only its own resource', async () => {
    // Prepare
    await new GuardDutyClient(emulatorClientConfig(testEndpoint(), 'eu-west-1')).send(
      new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'ONE_HOUR', Tags: { owner: 'security' } }),
    );
    const stackId = `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/driftguard-dev/11111111-2222-3333-4444-555555555555`;
    const ctx = { ...engine(), settings: loadSettings({ ...process.env, DRIFTGUARD_STACK_ID: stackId }) };
    const request: CustomResourceRequest = {
      RequestType: 'Create',
      ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/r?sig=x',
      StackId: stackId,
      RequestId: 'req-1',
      LogicalResourceId: 'GuardDutyBaselineCapture',
    };
    const answers: string[] = [];
    const send = async (_url: string, body: string) => answers.push(body);
    const logger = new Logger({ logLevel: 'SILENT' });

    // Act
    const result = await handleCaptureResource(GUARDDUTY_CAPTURE, request, ctx, 'eu-west-1', logger, send);
    const foreign = handleCaptureResource(
      GUARDDUTY_CAPTURE,
      { ...request, LogicalResourceId: 'TrailBaselineCapture' },
      ctx,
      'eu-west-1',
      logger,
      send,
    );

    // Assess
    expect(result).toMatchObject({
      status: 'SUCCESS',
      reason: 'captured 1 GuardDuty baselines',
      captured: ['eu-west-1'],
    });
    await expect(foreign).rejects.toThrow(MalformedEventError);
    expect(answers.map((body) => JSON.parse(body).PhysicalResourceId)).toEqual([
      'driftguard-guardduty-baselines-eu-west-1',
    ]);
    const stored = await new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable).get('eu-west-1');
    expect(stored).toMatchObject({
      capturedFrom: 'deploy',
      config: { findingPublishingFrequency: 'ONE_HOUR', tags: { owner: 'security' } },
    });
  });

  describe('the sweep', () => {
    const sweepContext = (settings = loadSettings()): SweepContext => ({
      settings,
      aws: createAwsClients(),
      account: ACCOUNT,
      sweepId: 'sweep-1',
      now: '2026-12-01T06:00:00.000Z',
      dryRun: false,
    });

    async function sweep(region: string, ctx: SweepContext) {
      const pass = guarddutyEnabled.sweep;
      if (!pass) throw new Error('no sweep');
      const { items } = await pass.list(region, undefined, ctx);
      expect(items).toHaveLength(1);
      const assessed = await pass.assess(items[0], region, ctx);
      if (!assessed) throw new Error('nothing assessed');
      return settleDecision(guarddutyEnabled, assessed.resource, assessed.state, assessed.decision, ctx);
    }

    it.each([
      ['true', 'enables GuardDuty and captures its baseline', 'remediated', 1],
      ['false', 'tells a human and writes nothing', 'needs-human', 0],
    ])('in a region with none, with enableMissing %s: %s', async (enableMissing, _label, outcome, detectors) => {
      // Prepare
      const settings = loadSettings({ ...process.env, DRIFTGUARD_GUARDDUTY_ENABLE_MISSING: enableMissing });

      // Act
      const settled = await sweep('sa-east-1', sweepContext(settings));

      // Assess
      expect(settled.outcome).toBe(outcome);
      expect(await detectorIds('sa-east-1')).toHaveLength(detectors);
      const stored = await new GuardDutyBaselineStore(createAwsClients(), settings.stateTable).get('sa-east-1');
      if (detectors === 0) expect(stored).toBeUndefined();
      else expect(stored?.config.features).toMatchObject({ S3_DATA_EVENTS: 'ENABLED', RUNTIME_MONITORING: 'DISABLED' });
    });
  });
});
