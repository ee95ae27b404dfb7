/**
 * Writes an attempt made before it failed are named in the notice that follows: the retry re-reads the resource,
 * finds them done, and would otherwise report only its own. Read from the notices (the topic's SQS inbox).
 */

import { beforeEach, describe, expect, it } from 'vitest';
import { type DeliveredNotice, describeGroup, freshEngine, readNotices } from '../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  deliverAsLambda,
  expireEventLock,
  guardHandler,
} from '../support/handler-harness.js';
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

  it('of an attempt that stopped after its writes, before recording anything else, are sent by the retry, once', async () => {
    // Prepare: the first attempt claims the event with the notice it plans, fixes the group, then its publish, its
    // settle and its release all fail, and its lock expires (as a timeout or a crash leaves it).
    const event = await LOG_GROUP_SCENARIO.prepare();
    const recorder = new CallRecorder();
    recorder.fail('SNS:Publish', 1, serverError);
    recorder.fail('DynamoDB:TransactWriteItems', 1, serverError);
    recorder.fail('DynamoDB:UpdateItem', 2, serverError, (input) =>
      /^SET #status = :(status|retry)/.test(String(input.UpdateExpression)),
    );
    const handler = guardHandler(LOG_GROUP_SCENARIO.guard, recorder);
    const context = contextFor(LOG_GROUP_SCENARIO.guard, event);

    // Act: the first attempt; then its invocation's time runs out (its lock, the deadline, is now past); the retries.
    const died = await handler(event, context).then(
      () => 'settled',
      (error: Error) => error.name,
    );
    await expireEventLock(event, LOG_GROUP_SCENARIO.guard);
    const group = await describeGroup(String(event.detail.requestParameters?.logGroupName), event.detail.awsRegion);
    const retried = await deliverAsLambda(handler, event, context);
    const again = await deliverAsLambda(handler, event, context);

    // Assess: the first attempt's writes held; the retry finds the group fixed and sends the notice the first attempt
    // planned, naming both fixes; the repeat sends nothing.
    expect(died).not.toBe('settled');
    expect(group?.kmsKeyId).toMatch(/^arn:aws:kms:/);
    expect(retried.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    expect(again.attempts.map(({ result }) => result?.outcome)).toEqual(['compliant']);
    const notices: DeliveredNotice[] = await readNotices();
    expect(notices.map((notice) => notice.document.outcome)).toEqual(['remediated']);
    expect(((notices[0]?.document.actions ?? []) as { api: string }[]).map(({ api }) => api)).toEqual([
      'logs:AssociateKmsKey',
      'logs:PutRetentionPolicy',
    ]);
  });
});
