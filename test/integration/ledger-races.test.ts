/**
 * The event's record (lib/event-ledger.ts) under races and crashes: the event is claimed once its rule has decided,
 * so a duplicate delivery, an attempt that stops between its writes, a settle that fails, a resource deleted
 * meanwhile, or a repeat whose re-read fails must still give one set of writes and one true notice.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGuardHandler } from '../../lib/handler.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  deliverAsLambda,
  expireEventLock,
  guardHandler,
  writeCalls,
} from '../support/handler-harness.js';
import { answersLostInsideRetries, interceptedClients, serverError } from '../support/intercept.js';
import { KMS_SCENARIO, LOG_GROUP_SCENARIO } from '../support/rule-scenarios.js';

const apis = (notice: { document: Record<string, unknown> } | undefined, field: string) =>
  ((notice?.document[field] ?? []) as { api: string }[]).map(({ api }) => api);

describe('the event record under races and crashes', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('a duplicate that read before the first attempt reads again under its claim: no second write, one notice', async () => {
    const event = await LOG_GROUP_SCENARIO.prepare();
    const { guard } = LOG_GROUP_SCENARIO;
    // D: the duplicate delivery. Its reads pass; it is held after its last read (before its claim) until A is done.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let paused: () => void = () => undefined;
    const reachedGate = new Promise<void>((resolve) => {
      paused = resolve;
    });
    const dCalls: string[] = [];
    let held = false;
    const dAws = interceptedClients(async ({ client, command }, send) => {
      const call = `${client}:${command}`;
      dCalls.push(call);
      if (call === 'DynamoDB:UpdateItem' && !held) {
        // The claim: hold it until A has run.
        held = true;
        paused();
        await gate;
      }
      return send();
    });
    const dHandler = createGuardHandler(guard, {
      settings: loadSettings(),
      aws: dAws,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const dRun = dHandler(event, contextFor(guard, event)).then(
      (result) => result.outcome,
      (error: Error) => `threw ${error.name}`,
    );
    await reachedGate;
    // A: the original delivery, first attempt: fixes the group, its publish fails (so it settles "retry", pending).
    const aRecorder = new CallRecorder();
    aRecorder.fail('SNS:Publish', 1, serverError);
    const aResult = await guardHandler(guard, aRecorder)(event, contextFor(guard, event)).then(
      (result) => result.outcome,
      (error: Error) => `threw ${error.name}`,
    );
    const fixedByA = await describeGroup(String(event.detail.requestParameters?.logGroupName), event.detail.awsRegion);
    release();
    const dOutcome = await dRun;
    const notices = await readNotices();
    expect(aResult).toBe('threw RemediationFailedError');
    expect(fixedByA?.kmsKeyId).toMatch(/^arn:aws:kms:/);
    // D writes nothing to the group: it finds it fixed and sends the notice A could not.
    expect(dOutcome).toBe('compliant');
    expect(writeCalls(dCalls).filter((call) => !call.startsWith('DynamoDB:'))).toEqual(['SNS:Publish']);
    expect(notices.map((n) => n.document.outcome)).toEqual(['remediated']);
    expect(apis(notices[0], 'actions')).toEqual(['logs:AssociateKmsKey', 'logs:PutRetentionPolicy']);
  });

  it('an attempt that dies between its writes: the retry names its own write and the one it found made', async () => {
    const event = await LOG_GROUP_SCENARIO.prepare();
    const { guard } = LOG_GROUP_SCENARIO;
    // A: AssociateKmsKey goes through, then the invocation hangs in PutRetentionPolicy until Lambda kills it.
    const aAws = interceptedClients(async ({ client, command }, send) => {
      if (`${client}:${command}` === 'CloudWatchLogs:PutRetentionPolicy') await new Promise(() => undefined);
      return send();
    });
    const aHandler = createGuardHandler(guard, {
      settings: loadSettings(),
      aws: aAws,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    void aHandler(event, contextFor(guard, event));
    const name = String(event.detail.requestParameters?.logGroupName);
    for (let i = 0; i < 200; i++) {
      if ((await describeGroup(name, event.detail.awsRegion))?.kmsKeyId) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expireEventLock(event, guard);
    // B: Lambda's retry.
    const retried = await deliverAsLambda(guardHandler(guard, new CallRecorder()), event, contextFor(guard, event));
    const notices = await readNotices();
    expect(retried.attempts.map(({ result }) => result?.outcome)).toEqual(['remediated']);
    expect(notices).toHaveLength(1);
    expect(apis(notices[0], 'actions')).toEqual(['logs:PutRetentionPolicy']);
    expect(apis(notices[0], 'earlierAttempts')).toEqual(['logs:AssociateKmsKey']);
  });

  it('a failed fix whose settle fails is released with its writes: the retry names them', async () => {
    const event = await LOG_GROUP_SCENARIO.prepare();
    const { guard } = LOG_GROUP_SCENARIO;
    const recorder = new CallRecorder();
    recorder.fail('CloudWatchLogs:PutRetentionPolicy', 1, serverError);
    // The failed attempt's settle (SET #status = :status ... earlierWrites) fails once; its release succeeds.
    recorder.fail('DynamoDB:UpdateItem', 1, serverError, (input) =>
      String(input.UpdateExpression).startsWith('SET #status = :status'),
    );
    const delivery = await deliverAsLambda(guardHandler(guard, recorder), event, contextFor(guard, event));
    const notices = await readNotices();
    expect(delivery.deadLettered).toBe(false);
    expect(notices).toHaveLength(1);
    expect(apis(notices[0], 'actions')).toEqual(['logs:PutRetentionPolicy']);
    expect(apis(notices[0], 'earlierAttempts')).toEqual(['logs:AssociateKmsKey']);
  });
  it('settle and its first fallback both fail after the publish: a later delivery sends no second notice', async () => {
    const event = await KMS_SCENARIO.prepare();
    const { guard } = KMS_SCENARIO;
    const recorder = new CallRecorder();
    recorder.fail('DynamoDB:UpdateItem', 2, serverError, (input) => JSON.stringify(input).includes(':sent'));
    const first = await deliverAsLambda(guardHandler(guard, recorder), event, contextFor(guard, event));
    await expireEventLock(event, guard);
    // An EventBridge duplicate (or a DLQ redrive, or a replay against the stack's table), later.
    const again = await deliverAsLambda(guardHandler(guard, new CallRecorder()), event, contextFor(guard, event));
    const notices = await readNotices();
    expect(first.deadLettered).toBe(false);
    expect(again.deadLettered).toBe(false);
    expect(notices.map((n) => n.document.outcome)).toEqual(['remediated']);
  });

  it('a repeat of a done event whose re-read fails answers from the record', async () => {
    const event = await LOG_GROUP_SCENARIO.prepare();
    const { guard } = LOG_GROUP_SCENARIO;
    const recorder = new CallRecorder();
    const handler = guardHandler(guard, recorder);
    const first = await handler(event, contextFor(guard, event));
    recorder.fail(LOG_GROUP_SCENARIO.firstRead, Number.POSITIVE_INFINITY, serverError);
    const repeat = await deliverAsLambda(handler, event, contextFor(guard, event));
    expect(repeat.deadLettered).toBe(false);
    expect(repeat.attempts.map(({ result }) => result)).toEqual([first]);
  });
  it('a resource deleted before the first write, then a failed settle: the retry sends no notice of writes never made', async () => {
    const event = await LOG_GROUP_SCENARIO.prepare();
    const { guard } = LOG_GROUP_SCENARIO;
    const name = String(event.detail.requestParameters?.logGroupName);
    const region = event.detail.awsRegion;
    let settleFaults = 1;
    const aws = interceptedClients(async ({ client, command, input }, send) => {
      const call = `${client}:${command}`;
      if (call === 'CloudWatchLogs:AssociateKmsKey') {
        // Deleted by its owner between the decision and the first write.
        await new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), region)).send(
          new DeleteLogGroupCommand({ logGroupName: name }),
        );
      }
      if (
        call === 'DynamoDB:UpdateItem' &&
        settleFaults > 0 &&
        String(input.UpdateExpression).startsWith('SET #status = :status')
      ) {
        settleFaults -= 1;
        throw serverError();
      }
      return send();
    });
    const handler = createGuardHandler(guard, {
      settings: loadSettings(),
      aws,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const delivery = await deliverAsLambda(handler, event, contextFor(guard, event));
    const notices = await readNotices();
    expect(delivery.attempts.map(({ result }) => result?.outcome)).toEqual([undefined, 'ignored']);
    expect(notices).toEqual([]);
  });
  it("a claim and a settle the SDK sent again after they applied are this attempt's: remediated once, no error", async () => {
    // Prepare: the claim's first answer and the settle's first answer are lost after DynamoDB applied them.
    const event = await KMS_SCENARIO.prepare();
    const { guard } = KMS_SCENARIO;
    const lost = { claim: 1, settle: 1 };
    const aws = answersLostInsideRetries(3, ({ command, input }) => {
      const expression = String(input.UpdateExpression ?? '');
      if (command === 'UpdateItem' && expression.startsWith('SET #status = :inProgress') && lost.claim > 0) {
        lost.claim -= 1;
        return true;
      }
      if (command === 'UpdateItem' && expression.startsWith('SET #status = :status') && lost.settle > 0) {
        lost.settle -= 1;
        return true;
      }
      return false;
    });
    const handler = createGuardHandler(guard, {
      settings: loadSettings(),
      aws,
      logger: new Logger({ logLevel: 'SILENT' }),
    });

    // Act
    const delivery = await deliverAsLambda(handler, event, contextFor(guard, event));

    // Assess
    expect(lost).toEqual({ claim: 0, settle: 0 });
    expect(delivery.attempts.map(({ result, error }) => result?.outcome ?? error?.name)).toEqual(['remediated']);
    expect((await readNotices()).map((n) => n.document.outcome)).toEqual(['remediated']);
    expect(KMS_SCENARIO.isFixed(await KMS_SCENARIO.readState(event))).toBe(true);
  });
});
