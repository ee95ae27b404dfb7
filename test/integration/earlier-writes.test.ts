/**
 * Writes an attempt made before it failed are named in the notice that follows: the retry re-reads the resource,
 * finds them done, and would otherwise report only its own. Read from the notices (the topic's SQS inbox).
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventLedger } from '../../lib/event-ledger.js';
import { recordKey } from '../../lib/record-key.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig, LOCAL_LOG_KEY_ALIAS } from '../../scripts/provision.js';
import { type DeliveredNotice, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { CallRecorder, contextFor, deliverAsLambda, guardHandler } from '../support/handler-harness.js';
import { LOG_GROUP_SCENARIO } from '../support/rule-scenarios.js';

describe('the writes of a failed attempt', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each([
    ['a retry that repairs the failure', 1, 'remediated'],
    ['the failure notice once all attempts failed', 3, 'failed'],
  ])('are named in %s', async (_label, failures, outcome) => {
    // Prepare: the key is associated, then the retention write fails.
    const event = await LOG_GROUP_SCENARIO.prepare();
    const recorder = new CallRecorder();
    recorder.fail('CloudWatchLogs:PutRetentionPolicy', failures);
    const handler = guardHandler(LOG_GROUP_SCENARIO.guard, recorder);

    // Act
    await deliverAsLambda(handler, event, contextFor(LOG_GROUP_SCENARIO.guard, event));

    // Assess
    const notices: DeliveredNotice[] = await readNotices();
    expect(notices.map((notice) => notice.document.outcome)).toEqual([outcome]);
    expect(notices[0]?.document.earlierAttempts).toEqual([
      { api: 'logs:AssociateKmsKey', summary: expect.stringMatching(/^KMS key .* -> arn:aws:kms:/) },
    ]);
    expect(notices[0]?.document.actions).not.toContainEqual(expect.objectContaining({ api: 'logs:AssociateKmsKey' }));
  });

  it('of an attempt that died before recording anything are told by the retry, once', async () => {
    // Prepare: an attempt claims the event, fixes the group, then dies (a timeout, a crash) before any other write to
    // the state table: its lock expires, and nothing it did is on the event's record.
    const event = await LOG_GROUP_SCENARIO.prepare();
    const settings = loadSettings();
    const recorder = new CallRecorder();
    const { guard } = LOG_GROUP_SCENARIO;
    const died = await new EventLedger(recorder.aws, String(settings.stateTable), guard.file).claim(
      recordKey(event),
      Date.now() + 1,
    );
    const region = event.detail.awsRegion;
    const logGroupName = String(event.detail.requestParameters?.logGroupName);
    const { KeyMetadata } = await new KMSClient(emulatorClientConfig(testEndpoint(), region)).send(
      new DescribeKeyCommand({ KeyId: LOCAL_LOG_KEY_ALIAS }),
    );
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), region));
    await logs.send(new AssociateKmsKeyCommand({ logGroupName, kmsKeyId: String(KeyMetadata?.Arn) }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: settings.logRetentionDays }));
    const handler = guardHandler(guard, recorder);

    // Act
    const retried = await deliverAsLambda(handler, event, contextFor(guard, event));
    const again = await deliverAsLambda(handler, event, contextFor(guard, event));

    // Assess: the retry finds the group fixed, and says an earlier attempt may have changed it; no second notice.
    expect(died.kind).toBe('claimed');
    expect(retried.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    expect(again.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    const notices: DeliveredNotice[] = await readNotices();
    expect(notices.map((notice) => notice.document.outcome)).toEqual(['needs-human']);
    expect(String(notices[0]?.document.reason)).toMatch(/^an earlier attempt at this event stopped/);
    expect(notices[0]?.text).toContain('check CloudTrail for writes to it since');
  });
});
