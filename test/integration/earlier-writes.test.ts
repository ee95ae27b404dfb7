/**
 * Writes an attempt made before it failed are named in the notice that follows: the retry re-reads the resource,
 * finds them done, and would otherwise report only its own. Read from the notices (the topic's SQS inbox).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type DeliveredNotice, freshEngine, readNotices } from '../support/emulator.js';
import { CallRecorder, contextFor, deliverAsLambda, guardHandler } from '../support/handler-harness.js';
import { serverError } from '../support/intercept.js';
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
    // Prepare: the first attempt fixes the group, then its publish, its settle and its release all fail, and its lock
    // expires (as a timeout or a crash leaves it): nothing it did is on the event's record.
    const event = await LOG_GROUP_SCENARIO.prepare();
    const recorder = new CallRecorder();
    recorder.fail('SNS:Publish', 1, serverError);
    recorder.fail('DynamoDB:TransactWriteItems', 1, serverError);
    recorder.fail('DynamoDB:UpdateItem', 1, serverError, (input) =>
      String(input.UpdateExpression).startsWith('SET #status = :retry'),
    );
    const handler = guardHandler(LOG_GROUP_SCENARIO.guard, recorder);
    const context = contextFor(LOG_GROUP_SCENARIO.guard, event);
    const dying = { ...context, getRemainingTimeInMillis: () => 1 };

    // Act
    const died = await handler(event, dying).then(
      () => 'settled',
      (error: Error) => error.name,
    );
    const retried = await deliverAsLambda(handler, event, context);
    const again = await deliverAsLambda(handler, event, context);

    // Assess: the retry finds the group fixed, and says an earlier attempt may have changed it; no second notice.
    expect(died).not.toBe('settled');
    expect(retried.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    expect(again.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    const notices: DeliveredNotice[] = await readNotices();
    expect(notices.map((notice) => notice.document.outcome)).toEqual(['needs-human']);
    expect(String(notices[0]?.document.reason)).toMatch(/^an earlier attempt at this event stopped/);
    expect(notices[0]?.text).toContain('check CloudTrail for writes to it since');
  });
});
