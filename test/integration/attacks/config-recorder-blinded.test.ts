/**
 * Attack: an intruder with ordinary Config permissions blinds AWS Config before acting. (1) Narrow the recorder to one
 * resource type and stop it, hoping the engine fixes one and not the other, or takes the narrowing for the baseline;
 * the events may arrive in either order. (2) Point the delivery channel at a bucket of the intruder's, through a role
 * named like the engine's config guard, hoping to be taken for the engine. (3) In a region with no baseline yet, point
 * Config at the intruder's role and key and send an event, hoping the engine adopts that as the baseline. Each ends with the region recording
 * everything through the baseline's channel, read back from the emulator, and the baseline untouched.
 */
import {
  ConfigServiceClient,
  PutConfigurationRecorderCommand,
  PutDeliveryChannelCommand,
  StartConfigurationRecorderCommand,
  StopConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { type BucketLocationConstraint, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import { ConfigBaselineStore, captureConfigBaseline } from '../../../lib/config-baselines.js';
import { readRegionRecording } from '../../../lib/config-recording.js';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { configGuard } from '../../../lib/guards/config-guard.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { freshEngine, testEndpoint } from '../../support/emulator.js';
import { CallRecorder, contextFor, guardHandler, reenacted, sampleEvent } from '../../support/handler-harness.js';
import { assumedRole, madeBy } from '../../support/identities.js';

async function regionState(region: string) {
  const aws = createAwsClients();
  const baseline = await new ConfigBaselineStore(aws, loadSettings().stateTable).get(region);
  return { baseline, now: await readRegionRecording(aws, region) };
}

function asStopOf(event: CloudTrailEvent): CloudTrailEvent {
  return {
    ...event,
    detail: {
      ...event.detail,
      eventName: 'StopConfigurationRecorder',
      eventID: `${event.detail.eventID}-stop`,
      requestParameters: { configurationRecorderName: 'default' },
    },
  };
}

describe('an intruder blinding AWS Config, through the config guard’s handler', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each([
    ['narrowing first', false],
    ['the stop first (events out of order)', true],
  ])('narrowed to one resource type, then stopped: everything recorded again (%s)', async (_order, reversed) => {
    // Prepare: the recorder narrowed to one type, daily (the event's own call), then stopped.
    const narrowed = await reenacted(sampleEvent('config-PutConfigurationRecorder-narrowed-daily'));
    const region = narrowed.detail.awsRegion;
    const before = await regionState(region);
    await new ConfigServiceClient(emulatorClientConfig(testEndpoint(), region)).send(
      new StopConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }),
    );
    const events = reversed ? [asStopOf(narrowed), narrowed] : [narrowed, asStopOf(narrowed)];
    const handler = guardHandler(configGuard, new CallRecorder());

    // Act
    const results = [];
    for (const event of events) results.push(await handler(event, contextFor(configGuard, event)));

    // Assess: the first event fixes everything from present state; the second finds nothing left to do.
    expect(results[0]?.outcome).toBe('remediated');
    expect(results[0]?.actions.map((a) => a.api)).toEqual([
      'config:PutConfigurationRecorder',
      'config:StartConfigurationRecorder',
    ]);
    expect(results[1]?.outcome).toBe('compliant');
    const after = await regionState(region);
    expect(after.now.recorder).toEqual(before.baseline?.recorder);
    expect(after.now.recording).toBe(true);
    // The baseline still records everything: the narrowing never became it.
    expect(after.baseline?.recorder).toMatchObject({ allSupported: true, recordingFrequency: 'CONTINUOUS' });
  });

  it.each(['driftguard-dev-config-guard-x', 'attacker/driftguard-dev-config-guard'])(
    'a channel pointed at the intruder’s bucket by role %s is pointed back, and a human told',
    async (role) => {
      // Prepare
      const event = madeBy(
        await reenacted(sampleEvent('config-PutDeliveryChannel-other-bucket')),
        assumedRole(role, 'maintenance'),
      );
      const region = event.detail.awsRegion;
      const recorder = new CallRecorder();

      // Act
      const result = await guardHandler(configGuard, recorder)(event, contextFor(configGuard, event));

      // Assess
      expect(result.outcome).toBe('needs-human');
      expect(result.actions.map((a) => a.api)).toEqual(['config:PutDeliveryChannel']);
      expect(result.needsHuman[0]).toContain('exfil-config-archive-444455556666');
      const { baseline, now } = await regionState(region);
      expect(now.channel).toEqual(baseline?.channel);
      expect(now.channel?.s3BucketName).toBe(`reenact-config-123456789012-${region}`);
    },
  );

  it('a region the intruder set up before any baseline: an event captures none, and the keep-time check refuses it too', async () => {
    // Prepare: no baseline; everything recorded, but through the intruder's role and a key of their account.
    const event = sampleEvent('config-PutDeliveryChannel-other-bucket');
    const region = event.detail.awsRegion;
    const endpoint = emulatorClientConfig(testEndpoint(), region);
    await new S3Client({ ...endpoint, forcePathStyle: true }).send(
      new CreateBucketCommand({
        Bucket: 'intruder-config',
        CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
      }),
    );
    const config = new ConfigServiceClient(endpoint);
    await config.send(
      new PutConfigurationRecorderCommand({
        ConfigurationRecorder: {
          name: 'default',
          roleARN: `arn:aws:iam::${event.account}:role/intruder-config`,
          recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
        },
      }),
    );
    await config.send(
      new PutDeliveryChannelCommand({
        DeliveryChannel: {
          name: 'default',
          s3BucketName: 'intruder-config',
          s3KmsKeyArn: `arn:aws:kms:${region}:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        },
      }),
    );
    await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));

    // Act
    const result = await guardHandler(configGuard, new CallRecorder())(event, contextFor(configGuard, event));
    const kept = await captureConfigBaseline(
      { settings: loadSettings(), aws: createAwsClients() },
      region,
      event.detail.eventID,
      event.account,
    );

    // Assess: nothing written, nothing captured, a human told what the region lacks.
    expect(result.outcome).toBe('needs-human');
    expect(result.actions).toEqual([]);
    expect(result.needsHuman[0]).toContain('no baseline');
    expect(kept).toContain('roleARN');
    expect(kept).toContain('channel KMS key');
    expect((await regionState(region)).baseline).toBeUndefined();
  });
});
