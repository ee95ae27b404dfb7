/**
 * Attack: a customer key set on a log group while the engine recorded nothing of it (the group was exempt by tag then;
 * or the event ran in notify mode, or was dead-lettered), the tag removed, the retention set, then the key scheduled for
 * deletion, which would leave the group's logs unreadable. The retention event records the group's key (it is not the
 * stack's own, which is protected as such), so the KMS guard finds the key in use and cancels its deletion.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { kmsGuard } from '../../../lib/guards/kms-guard.js';
import { logGroupGuard } from '../../../lib/guards/log-group-guard.js';
import { createLogKey, emulatorClientConfig } from '../../../scripts/provision.js';
import { freshEngine, testEndpoint } from '../../support/emulator.js';
import { ACCOUNT, CallRecorder, contextFor, guardHandler, sampleEvent } from '../../support/handler-harness.js';

const REGION = 'eu-west-1';
const GROUP = '/app/attack/key-set-while-exempt';
const SAMPLE_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function retentionEvent(): CloudTrailEvent {
  const event = sampleEvent('logs-PutRetentionPolicy');
  return {
    ...event,
    detail: { ...event.detail, requestParameters: { logGroupName: GROUP, retentionInDays: 365 } },
  };
}

function deletionEvent(keyArn: string): CloudTrailEvent {
  return JSON.parse(
    JSON.stringify(sampleEvent('kms-ScheduleKeyDeletion-by-arn'))
      .replaceAll(SAMPLE_KEY, keyArn)
      .replaceAll('"pendingWindowInDays":30', '"pendingWindowInDays":7'),
  ) as CloudTrailEvent;
}

describe('attack: a key set while nothing recorded it, then scheduled for deletion', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('the retention event records the key, and its deletion is cancelled', async () => {
    // Prepare: the attacker's customer key on the group (nothing recorded: set while the group was exempt).
    const key = await createLogKey(testEndpoint(), REGION, ACCOUNT, 'a customer key set while the group was exempt');
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION));
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: key.arn }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 365 }));
    const recorder = new CallRecorder();
    const retention = retentionEvent();

    // Act: the (compliant) retention event, then the key's deletion scheduled and its event handled.
    const handled = await guardHandler(logGroupGuard, recorder)(retention, contextFor(logGroupGuard, retention));
    await key.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }));
    const deletion = deletionEvent(key.arn);
    const guarded = await guardHandler(kmsGuard, recorder)(deletion, contextFor(kmsGuard, deletion));

    // Assess
    expect(handled.outcome).toBe('compliant');
    expect(guarded.outcome).toBe('remediated');
    expect(guarded.reason).toContain(`in use by log groups ${GROUP}`);
    const { KeyMetadata } = await new KMSClient(emulatorClientConfig(testEndpoint(), REGION)).send(
      new DescribeKeyCommand({ KeyId: key.arn }),
    );
    expect([KeyMetadata?.KeyState, KeyMetadata?.DeletionDate]).toEqual(['Enabled', undefined]);
  });
});
