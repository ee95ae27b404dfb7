/**
 * Writes an attempt made before it failed are named in the notice that follows: the retry re-reads the resource,
 * finds them done, and would otherwise report only its own. Read from the notices (the topic's SQS inbox).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type DeliveredNotice, freshEngine, readNotices } from '../support/emulator.js';
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
});
