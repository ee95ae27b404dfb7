/**
 * The config guard against the emulator: events written here from AWS's documented CloudTrail shapes (not the samples
 * in events/), replayed with --reenact through --endpoint in several regions, leave each region's recorder recording
 * everything with its channel, as its baseline says; failed calls and the engine's own calls write nothing; the sweep
 * captures what it sees first and asks a human where there is nothing to restore from.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ConfigServiceClient,
  PutConfigurationRecorderCommand,
  PutDeliveryChannelCommand,
  StartConfigurationRecorderCommand,
  StopConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { ConfigBaselineStore } from '../../lib/config-baselines.js';
import { readRegionRecording } from '../../lib/config-recording.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { configGuard } from '../../lib/guards/config-guard.js';
import { createGuardHandler } from '../../lib/handler.js';
import { settleDecision } from '../../lib/pipeline.js';
import type { SweepContext } from '../../lib/rule.js';
import { type ConfigSweepTarget, configRecorderOn } from '../../lib/rules/config-recorder-on.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { invocationContext, runReplay } from '../../scripts/replay.js';
import { apiCallEvent, type Json } from '../support/api-call-events.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { startResponseUrl } from '../support/response-url.js';

const ACCOUNT = '123456789012';

function engine() {
  return { settings: loadSettings(), aws: createAwsClients() };
}

/** The region read back, and the baseline it must equal (a recorder recording everything, its channel, started). */
async function expectRecordingAsBaseline(region: string) {
  const ctx = engine();
  const baseline = await new ConfigBaselineStore(ctx.aws, ctx.settings.stateTable).get(region);
  const now = await readRegionRecording(ctx.aws, region);
  expect(baseline).toBeDefined();
  expect(now.recorder).toEqual(baseline?.recorder);
  expect(now.channel).toEqual(baseline?.channel);
  expect(now.recorder).toMatchObject({
    allSupported: true,
    includeGlobalResourceTypes: true,
    recordingFrequency: 'CONTINUOUS',
  });
  expect(now.recording).toBe(true);
}

/** Events of calls no sample in events/ holds, one region each, written to a temporary directory. */
function writeEvents(dir: string, calls: [string, string, Json][]): string[] {
  return calls.map(([eventName, region, requestParameters]) => {
    const file = join(dir, `${eventName}-${region}.json`);
    writeFileSync(
      file,
      JSON.stringify(apiCallEvent({ account: ACCOUNT, source: 'aws.config', eventName, region, requestParameters })),
    );
    return file;
  });
}

describe('config guard against the emulator', () => {
  beforeAll(async () => {
    await freshEngine();
  });

  it('restores every trigger in its own region (home and others), in the order AWS requires, and says so', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'driftguard-config-'));
    const files = writeEvents(dir, [
      ['StopConfigurationRecorder', 'us-east-1', { configurationRecorderName: 'main' }],
      ['DeleteConfigurationRecorder', 'sa-east-1', { configurationRecorderName: 'main' }],
      ['DeleteDeliveryChannel', 'ca-central-1', { deliveryChannelName: 'audit' }],
      [
        'PutConfigurationRecorder',
        'eu-west-3',
        {
          configurationRecorder: {
            name: 'main',
            roleARN: `arn:aws:iam::${ACCOUNT}:role/reenact-config-recorder`,
            recordingGroup: {
              allSupported: false,
              includeGlobalResourceTypes: false,
              exclusionByResourceTypes: { resourceTypes: ['AWS::EC2::SecurityGroup', 'AWS::IAM::Role'] },
              recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
            },
            recordingMode: {
              recordingFrequency: 'CONTINUOUS',
              recordingModeOverrides: [{ resourceTypes: ['AWS::EC2::Instance'], recordingFrequency: 'DAILY' }],
            },
          },
        },
      ],
      [
        'PutDeliveryChannel',
        'ap-northeast-1',
        {
          deliveryChannel: {
            name: 'default',
            s3BucketName: 'exfil-bucket-444455556666',
            snsTopicARN: 'arn:aws:sns:ap-northeast-1:444455556666:exfil',
          },
        },
      ],
    ]);

    const report = await runReplay({
      files,
      endpoint: testEndpoint(),
      reenact: true,
      json: true,
      print: () => undefined,
    });

    const results = report.items.map((item) => item.result);
    expect(results.map((r) => [r.eventName, r.outcome, r.actions.map((a) => a.api)])).toEqual([
      ['StopConfigurationRecorder', 'remediated', ['config:StartConfigurationRecorder']],
      [
        'DeleteConfigurationRecorder',
        'remediated',
        ['config:PutConfigurationRecorder', 'config:StartConfigurationRecorder'],
      ],
      ['DeleteDeliveryChannel', 'remediated', ['config:PutDeliveryChannel', 'config:StartConfigurationRecorder']],
      ['PutConfigurationRecorder', 'remediated', ['config:PutConfigurationRecorder']],
      // Pointed elsewhere: put back, and a human asked to find out why.
      ['PutDeliveryChannel', 'needs-human', ['config:PutDeliveryChannel']],
    ]);
    for (const region of ['us-east-1', 'sa-east-1', 'ca-central-1', 'eu-west-3', 'ap-northeast-1']) {
      await expectRecordingAsBaseline(region);
    }
    expect(results[3]?.findings.map((f) => f.attribute)).toEqual([
      'recordingGroup',
      'includeGlobalResourceTypes',
      'recordingMode',
    ]);
    expect(results[4]?.needsHuman[0]).toContain('channel bucket');
    const notices = await readNotices();
    expect(notices).toHaveLength(5);
    expect(notices.every((n) => n.attributes.rule === 'config-recorder-on')).toBe(true);
    const deleted = notices.find((n) => n.subject.includes('DeleteConfigurationRecorder'));
    expect(deleted?.document.findings).toEqual([
      expect.objectContaining({
        attribute: 'recorder',
        before: expect.stringMatching(/^deleted \(nothing recorded since /),
      }),
      expect.objectContaining({ attribute: 'recording', after: 'on' }),
    ]);
  });

  it('a failed call and the engine’s own call write nothing', async () => {
    const report = await runReplay({
      files: [
        'events/config-StopConfigurationRecorder-failed-NoSuchRecorder.json',
        'events/config-PutConfigurationRecorder-by-remediation-engine.json',
      ],
      endpoint: testEndpoint(),
      reenact: true,
      json: true,
      print: () => undefined,
    });
    expect(report.items.map((item) => [item.result.outcome, item.result.actions])).toEqual([
      ['ignored', []],
      ['ignored', []],
    ]);
    expect(report.items[1]?.result.reason).toContain('made by the engine itself');
  });
});

describe('the config sweep pass against the emulator', () => {
  const SWEEP_ID = 'sweep-2026-12-01T06:00:00.000Z';
  const sweepContext = (): SweepContext => ({
    ...engine(),
    account: ACCOUNT,
    sweepId: SWEEP_ID,
    now: '2026-12-01T06:00:00.000Z',
    dryRun: false,
  });

  async function sweep(region: string) {
    const pass = configRecorderOn.sweep;
    if (!pass) throw new Error('config-recorder-on declares no sweep');
    const ctx = sweepContext();
    const { items } = await pass.list(region, undefined, ctx);
    expect(items).toEqual([{ region, account: ACCOUNT, sweepId: SWEEP_ID } satisfies ConfigSweepTarget]);
    const assessed = await pass.assess(items[0], region, ctx);
    if (!assessed) throw new Error('the sweep assessed nothing');
    return settleDecision(configRecorderOn, assessed.resource, assessed.state, assessed.decision, ctx);
  }

  it('starts a stopped recorder it sees first and captures its baseline; a region with nothing needs a human', async () => {
    await freshEngine();
    const region = 'eu-south-1';
    const config = new ConfigServiceClient(emulatorClientConfig(testEndpoint(), region));
    await new S3Client({ ...emulatorClientConfig(testEndpoint(), region), forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: 'team-config', CreateBucketConfiguration: { LocationConstraint: region } }),
    );
    await config.send(
      new PutConfigurationRecorderCommand({
        ConfigurationRecorder: {
          name: 'team',
          // As the policy wants (the service-linked role, global types): nothing but the stop for a human to look at.
          roleARN: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
          recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
        },
      }),
    );
    await config.send(
      new PutDeliveryChannelCommand({ DeliveryChannel: { name: 'team', s3BucketName: 'team-config' } }),
    );
    await config.send(new StopConfigurationRecorderCommand({ ConfigurationRecorderName: 'team' }));

    const seen = await sweep(region);
    const empty = await sweep('eu-north-1');

    expect(seen.outcome).toBe('remediated');
    const ctx = engine();
    expect((await readRegionRecording(ctx.aws, region)).recording).toBe(true);
    const baseline = await new ConfigBaselineStore(ctx.aws, ctx.settings.stateTable).get(region);
    expect(baseline).toMatchObject({
      recorder: { name: 'team' },
      channel: { s3BucketName: 'team-config' },
      recording: true,
      capturedFrom: SWEEP_ID,
    });
    expect(empty.outcome).toBe('needs-human');
    expect(empty.reason).toContain('no AWS Config recorder in eu-north-1');
  });
});

describe('the config guard’s handler as the stack’s ConfigBaselineCapture custom resource', () => {
  const HOME = 'us-east-1';
  const STACK_ID = `arn:aws:cloudformation:${HOME}:${ACCOUNT}:stack/driftguard-dev/7f1c2a30-b0c4-11ef-9f5c-0a1b2c3d4e5f`;

  it('captures the home region’s baseline on Create and answers; a request for another resource gets neither', async () => {
    // Prepare: a recorder recording everything in the home region, with no baseline yet.
    await freshEngine({
      AWS_REGION: HOME,
      DRIFTGUARD_STACK_ID: STACK_ID,
      DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL: 'allow',
    });
    const config = new ConfigServiceClient(emulatorClientConfig(testEndpoint(), HOME));
    await new S3Client({ ...emulatorClientConfig(testEndpoint(), HOME), forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: 'home-config' }),
    );
    await config.send(
      new PutConfigurationRecorderCommand({
        ConfigurationRecorder: {
          name: 'default',
          roleARN: `arn:aws:iam::${ACCOUNT}:role/config`,
          recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
        },
      }),
    );
    await config.send(
      new PutDeliveryChannelCommand({ DeliveryChannel: { name: 'default', s3BucketName: 'home-config' } }),
    );
    await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));
    const responseUrl = await startResponseUrl();
    const handler = createGuardHandler(configGuard, {
      settings: loadSettings(),
      aws: createAwsClients(),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const request = (logicalId: string, id: string) => ({
      RequestType: 'Create' as const,
      ServiceToken: `arn:aws:lambda:${HOME}:${ACCOUNT}:function:driftguard-dev-configGuard`,
      ResponseURL: `${responseUrl.base}/cloudformation-response/${id}?X-Amz-Signature=example`,
      StackId: STACK_ID,
      RequestId: id,
      LogicalResourceId: logicalId,
      ResourceType: `Custom::${logicalId}`,
    });

    try {
      // Act
      await expect(
        handler(
          request('TrailBaselineCapture', 'r-0'),
          invocationContext('driftguard-dev-configGuard', { requestId: 'r-0' }),
        ),
      ).rejects.toThrow(MalformedEventError);
      const baselineBefore = await new ConfigBaselineStore(createAwsClients(), loadSettings().stateTable).get(HOME);
      await handler(
        request('ConfigBaselineCapture', 'r-1'),
        invocationContext('driftguard-dev-configGuard', { requestId: 'r-1' }),
      );

      // Assess
      expect(baselineBefore).toBeUndefined();
      expect(responseUrl.received.map((r) => JSON.parse(r.body))).toEqual([
        expect.objectContaining({
          Status: 'SUCCESS',
          LogicalResourceId: 'ConfigBaselineCapture',
          Data: { Captured: 1 },
        }),
      ]);
      const baseline = await new ConfigBaselineStore(createAwsClients(), loadSettings().stateTable).get(HOME);
      expect(baseline).toMatchObject({
        region: HOME,
        capturedFrom: 'deploy',
        recorder: { name: 'default', allSupported: true },
      });
    } finally {
      await responseUrl.close();
    }
  });
});
