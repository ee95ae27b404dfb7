/**
 * Lambda's retry semantics through each guard's handler, against the emulator: a write that keeps failing gives one
 * failed notice on the last of the three attempts; a failure a retry repairs gives one remediated notice and no failed
 * one; a notice whose publish failed is sent by the retry, once; a repeated event id gives no write and no notice.
 * Faults are injected on one command (the emulator cannot throttle); notices are read from the topic's SQS inbox.
 * Then the MFA guard's screening and pre-checks through its handler.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { RemediationFailedError } from '../../lib/handler.js';
import { type DeliveredNotice, freshEngine, readNotices } from '../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  deliverAsLambda,
  guardHandler,
  outsideStateTable,
  reenacted,
  resourceCalls,
  sampleEvent,
  stateTableItems,
  writeCalls,
} from '../support/handler-harness.js';
import { assumedRole, madeBy } from '../support/identities.js';
import { serverError } from '../support/intercept.js';
import { MFA_SCENARIO, RULE_SCENARIOS, type RuleScenario, SIGN_IN_SCENARIO } from '../support/rule-scenarios.js';

const outcomeOf = (notice: DeliveredNotice) => String(notice.document.outcome);

/** The scenario prepared, its handler on a call recorder, and the notices read after each attempt. */
async function prepared(scenario: RuleScenario) {
  const event = await scenario.prepare();
  const recorder = new CallRecorder();
  const handler = guardHandler(scenario.guard, recorder);
  const context = contextFor(scenario.guard, event);
  const noticesByAttempt: DeliveredNotice[][] = [];
  const deliver = () =>
    deliverAsLambda(handler, event, context, async () => void noticesByAttempt.push(await readNotices()));
  return { event, recorder, handler, context, noticesByAttempt, deliver };
}

describe.each(RULE_SCENARIOS)('retries through the handler: $label', (scenario) => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('a fix failing on all three attempts gives exactly one failed notice, on the last attempt', async () => {
    // Prepare
    const { event, recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail(scenario.fix, Number.POSITIVE_INFINITY, serverError);

    // Act
    const delivery = await deliver();

    // Assess
    expect(delivery.deadLettered).toBe(true);
    for (const attempt of delivery.attempts) expect(attempt.error).toBeInstanceOf(RemediationFailedError);
    expect(noticesByAttempt.map((notices) => notices.map(outcomeOf))).toEqual([[], [], ['failed']]);
    const [failed] = noticesByAttempt[2] ?? [];
    expect(failed?.attributes.outcome).toBe('failed');
    expect(failed?.subject).toContain('FAILED');
    expect(failed?.document.event).toMatchObject({ id: event.detail.eventID });
    expect(failed?.document.failures).toEqual([
      expect.objectContaining({ api: expect.stringMatching(new RegExp(`:${scenario.fix.split(':')[1]}$`)) }),
    ]);
    expect(scenario.isFixed(await scenario.readState(event))).toBe(false);
  });

  it('an attempt that failed before its claim counts: one failed notice, on the last attempt', async () => {
    // Prepare: the first attempt's first read fails (throttled, say); the fix fails on the two that follow.
    const { recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail(scenario.firstRead, 1, serverError);
    recorder.fail(scenario.fix, Number.POSITIVE_INFINITY, serverError);

    // Act
    const delivery = await deliver();

    // Assess
    expect(delivery.deadLettered).toBe(true);
    expect(delivery.attempts[0]?.error).not.toBeInstanceOf(RemediationFailedError);
    expect(noticesByAttempt.map((notices) => notices.map(outcomeOf))).toEqual([[], [], ['failed']]);
  });

  it('a redelivery after the lasting failure repairs the resource and sends no second notice', async () => {
    // Prepare
    const { event, recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail(scenario.fix, Number.POSITIVE_INFINITY, serverError);
    await deliver();
    recorder.fail(scenario.fix, 0);

    // Act: EventBridge delivers at least once; the dead-lettered event comes back.
    const again = await deliver();

    // Assess
    expect(again.deadLettered).toBe(false);
    expect(again.attempts[0]?.result?.outcome).toBe('remediated');
    expect(noticesByAttempt.flat().map(outcomeOf)).toEqual(['failed']);
    expect(scenario.isFixed(await scenario.readState(event))).toBe(true);
  });

  it('a failure the retry repairs gives one remediated notice and no failed one', async () => {
    // Prepare
    const { event, recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail(scenario.fix, 1);

    // Act
    const delivery = await deliver();

    // Assess
    expect(delivery.deadLettered).toBe(false);
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]?.error).toBeInstanceOf(RemediationFailedError);
    expect(delivery.attempts[1]?.result?.outcome).toBe('remediated');
    expect(noticesByAttempt.map((notices) => notices.map(outcomeOf))).toEqual([[], ['remediated']]);
    expect(scenario.isFixed(await scenario.readState(event))).toBe(true);
  });

  it('a notice whose publish failed is sent by the retry, exactly once', async () => {
    // Prepare
    const { event, recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail('SNS:Publish', 1);

    // Act
    const delivery = await deliver();
    const again = await deliver();

    // Assess
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]?.error).toBeInstanceOf(RemediationFailedError);
    expect(delivery.deadLettered).toBe(false);
    expect(again.deadLettered).toBe(false);
    expect(noticesByAttempt.map((notices) => notices.map(outcomeOf))).toEqual([[], ['remediated'], []]);
    expect(noticesByAttempt[1]?.[0]?.document.event).toMatchObject({ id: event.detail.eventID });
    expect(scenario.isFixed(await scenario.readState(event))).toBe(true);
  });

  it('a notice the retry sent is not sent again when recording it as sent fails', async () => {
    // Prepare: the first publish fails; the retry publishes the pending notice, then cannot mark it sent.
    const { recorder, noticesByAttempt, deliver } = await prepared(scenario);
    recorder.fail('SNS:Publish', 1);
    // The settle that records it sent, whichever call it is: an update, or a transaction with the event's key usage.
    const injected = { settles: 0 };
    const markingSent = (input: Record<string, unknown>) => {
      const matches = JSON.stringify(input).includes(':sent');
      if (matches) injected.settles += 1;
      return matches;
    };
    recorder.fail('DynamoDB:UpdateItem', 1, serverError, markingSent);
    recorder.fail('DynamoDB:TransactWriteItems', 1, serverError, markingSent);

    // Act
    const delivery = await deliver();
    const again = await deliver();

    // Assess
    expect(injected.settles).toBe(1);
    expect(delivery.attempts.map(({ result }) => result?.outcome ?? 'threw')).toEqual(['threw', 'compliant']);
    expect(again.deadLettered).toBe(false);
    expect(noticesByAttempt.flat().map(outcomeOf)).toEqual(['remediated']);
    // The event's own records (a log group's key usage) are kept all the same.
    if (scenario.guard.file === 'log-group-guard') {
      expect((await stateTableItems()).filter((item) => item.pk?.S?.startsWith('key#'))).not.toEqual([]);
    }
  });

  it('a repeated event id gives no second write and no second notice', async () => {
    // Prepare
    const { recorder, handler, context, event } = await prepared(scenario);
    const first = await handler(event, context);
    const notices = await readNotices();
    const mark = recorder.calls.length;

    // Act
    const repeated = await handler(event, context);

    // Assess
    expect(first.outcome).toBe('remediated');
    expect(notices.map(outcomeOf)).toEqual(['remediated']);
    expect(repeated).toEqual(first);
    // It re-reads the resource (the claim follows the rule's decision); its one write is the claim, refused.
    expect(writeCalls(recorder.since(mark))).toEqual(['DynamoDB:UpdateItem']);
    expect(await readNotices()).toEqual([]);
  });
});

/** The event moved to another account (as a forwarded or misrouted event would come). */
function ofAnotherAccount(event: CloudTrailEvent): CloudTrailEvent {
  return { ...event, account: '210987654321', detail: { ...event.detail, recipientAccountId: '210987654321' } };
}

/** The event made by the engine's own role, by its exact ARN (the emulator plays the dev stack). */
function byTheEngine(event: CloudTrailEvent): CloudTrailEvent {
  return madeBy(event, assumedRole('driftguard-dev-mfa-guard', 'driftguard'));
}

const SCREENED: [label: string, change: (event: CloudTrailEvent) => CloudTrailEvent, reason: RegExp][] = [
  ['of another account', ofAnotherAccount, /^event of account 210987654321, the engine acts only in 123456789012$/],
  ['made by the engine’s own role', byTheEngine, /^made by the engine itself/],
];

describe('the MFA guard’s screening and pre-checks through its handler', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  describe.each([MFA_SCENARIO, SIGN_IN_SCENARIO])('$label', (scenario) => {
    it.each(SCREENED)(
      'is ignored %s: no AWS call but the idempotency record, no notice',
      async (_label, change, reason) => {
        // Prepare: the drift is real, so an event acted on would quarantine the user.
        const event = change(await scenario.prepare());
        const before = await scenario.readState(event);
        const recorder = new CallRecorder();

        // Act
        const result = await guardHandler(scenario.guard, recorder)(event, contextFor(scenario.guard, event));

        // Assess
        expect(result.outcome).toBe('ignored');
        expect(result.reason).toMatch(reason);
        expect(outsideStateTable(recorder.calls)).toEqual([]);
        expect(await readNotices()).toEqual([]);
        expect(await scenario.readState(event)).toEqual(before);
      },
    );
  });

  it.each([
    ['iam-DeactivateMFADevice-failed', 'ignored', /^the call failed \(AccessDenied\)/],
    ['signin-ConsoleLogin-with-MFA', 'compliant', /^signed in with MFA$/],
    ['iam-DeactivateMFADevice-root', 'needs-human', /root user's MFA device .* was removed/],
    ['signin-ConsoleLogin-no-MFA-root', 'needs-human', /^the root user signed in to the console without MFA/],
  ])('decides %s without reading IAM: %s', async (sample, outcome, reason) => {
    // Prepare
    const event = sampleEvent(sample);
    const recorder = new CallRecorder();
    const { guard } = MFA_SCENARIO;

    // Act
    const result = await guardHandler(guard, recorder)(event, contextFor(guard, event));

    // Assess
    expect(result.outcome).toBe(outcome);
    expect(result.reason).toMatch(reason);
    expect(resourceCalls(recorder.calls)).toEqual([]);
    const notices = await readNotices();
    expect(notices.map(outcomeOf)).toEqual(outcome === 'needs-human' ? ['needs-human'] : []);
    if (outcome === 'needs-human') expect(notices[0]?.attributes.severity).toBe('critical');
  });

  it.each([
    ['a failed sign-in', { responseElements: { ConsoleLogin: 'Failure' } }, /^the sign-in did not succeed/],
    [
      'a federated sign-in',
      {
        userIdentity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/erin@example.com',
        },
      },
      /^an AssumedRole sign-in: MFA is the identity provider's/,
    ],
  ])('skips %s without reading IAM', async (_label, change, reason) => {
    // Prepare: dave exists without MFA, so a sign-in acted on would quarantine him.
    const signIn = await reenacted(sampleEvent('signin-ConsoleLogin-no-MFA-iam-user'));
    const event = { ...signIn, detail: { ...signIn.detail, ...change } } as CloudTrailEvent;
    const before = await SIGN_IN_SCENARIO.readState(event);
    const recorder = new CallRecorder();
    const { guard } = SIGN_IN_SCENARIO;

    // Act
    const result = await guardHandler(guard, recorder)(event, contextFor(guard, event));

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toMatch(reason);
    expect(outsideStateTable(recorder.calls)).toEqual([]);
    expect(await readNotices()).toEqual([]);
    expect(await SIGN_IN_SCENARIO.readState(event)).toEqual(before);
  });
});
