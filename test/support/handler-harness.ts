/**
 * Driving a guard's Lambda handler as Lambda does, against the emulator: every AWS call the handler sends recorded,
 * faults injected on chosen commands (what the emulator cannot produce), Lambda's three attempts per delivery, the
 * state table read back, and sample events reenacted onto the emulator.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from '../../lib/aws.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { type Guard, LAMBDA_ATTEMPTS } from '../../lib/guard.js';
import { createGuardHandler } from '../../lib/handler.js';
import type { HandledEvent } from '../../lib/pipeline.js';
import { recordKey } from '../../lib/record-key.js';
import { loadSettings, type Settings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { REENACTMENTS, reenactmentKey } from '../../scripts/reenact/index.js';
import { lambdaContext } from '../../scripts/replay.js';
import { testEndpoint } from './emulator.js';
import { interceptedClients, throttling } from './intercept.js';

/** The account of the emulator and of every sample event. */
export const ACCOUNT = '123456789012';

/**
 * The engine's clients (createAwsClients) with every command they send recorded as "Service:Command" (the state
 * table's DynamoDB client included: the handler makes it through the same clients), and faults on chosen commands.
 */
export class CallRecorder {
  readonly calls: string[] = [];
  readonly aws: AwsClients;
  private readonly faults = new Map<
    string,
    { remaining: number; error: () => Error; matching: (input: Record<string, unknown>) => boolean }
  >();

  constructor() {
    this.aws = interceptedClients(async ({ client, command, input }, send) => {
      const call = `${client}:${command}`;
      this.calls.push(call);
      const fault = this.faults.get(call);
      if (fault && fault.remaining > 0 && fault.matching(input)) {
        fault.remaining -= 1;
        throw fault.error();
      }
      return send();
    });
  }

  /** The next `times` sends of the command (e.g. "IAM:AttachUserPolicy"), of those matching, fail with the error. */
  fail(
    call: string,
    times: number,
    error: () => Error = throttling,
    matching: (input: Record<string, unknown>) => boolean = () => true,
  ): void {
    this.faults.set(call, { remaining: times, error, matching });
  }

  /** Calls recorded from index `from` on (a mark taken with `calls.length`). */
  since(from: number): string[] {
    return this.calls.slice(from);
  }
}

/** Calls other than to the engine's state table (idempotency records, notice claims, baselines: DynamoDB). */
export function outsideStateTable(calls: string[]): string[] {
  return calls.filter((call) => !call.startsWith('DynamoDB:'));
}

/** Calls other than the engine's own records: the state table and the notice (SNS Publish). */
export function resourceCalls(calls: string[]): string[] {
  return outsideStateTable(calls).filter((call) => call !== 'SNS:Publish');
}

const READ_CALL = /:(Describe|Get|List|Query|Scan|Head|BatchGet)/;

export function writeCalls(calls: string[]): string[] {
  return calls.filter((call) => !READ_CALL.test(call));
}

/** A guard's handler as its functions/<guard>.ts exports it, on the recorder's clients and the given settings. */
export function guardHandler(guard: Guard, recorder: CallRecorder, settings: Settings = loadSettings()) {
  return createGuardHandler(guard, { settings, aws: recorder.aws, logger: new Logger({ logLevel: 'SILENT' }) });
}

export type GuardHandler = ReturnType<typeof guardHandler>;

/** The Lambda context of the guard's own function in the engine's account. */
export function contextFor(guard: Guard, event: CloudTrailEvent): Context {
  return lambdaContext(event, ACCOUNT, `driftguard-${guard.file}`);
}

export interface Attempt {
  result?: HandledEvent;
  error?: Error;
}

export interface Delivery {
  attempts: Attempt[];
  /** All of Lambda's attempts failed: the event went to the dead-letter queue. */
  deadLettered: boolean;
}

/** Lambda's asynchronous invocation: up to three attempts until one succeeds, then the dead-letter queue. */
export async function deliverAsLambda(
  handler: GuardHandler,
  event: unknown,
  context: Context,
  afterAttempt: (attempt: Attempt) => Promise<void> = async () => undefined,
): Promise<Delivery> {
  const attempts: Attempt[] = [];
  while (attempts.length < LAMBDA_ATTEMPTS) {
    const attempt = await handler(event, context).then(
      (result): Attempt => ({ result }),
      (error: unknown): Attempt => ({ error: error as Error }),
    );
    attempts.push(attempt);
    await afterAttempt(attempt);
    if (attempt.result) return { attempts, deadLettered: false };
  }
  return { attempts, deadLettered: true };
}

export type StateItem = Record<string, AttributeValue>;

/** Every item of the engine's state table. */
export async function stateTableItems(table = loadSettings().stateTable): Promise<StateItem[]> {
  if (!table) throw new Error('no state table provisioned (DRIFTGUARD_STATE_TABLE)');
  const dynamodb = new DynamoDBClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
  const items: StateItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The event's record as an attempt's lock leaves it once the invocation's deadline has passed (a timeout, a crash). */
export async function expireEventLock(event: CloudTrailEvent, guard: Guard): Promise<void> {
  await new DynamoDBClient(emulatorClientConfig(testEndpoint(), 'us-east-1')).send(
    new UpdateItemCommand({
      TableName: String(loadSettings().stateTable),
      Key: { pk: { S: `idempotency#${recordKey(event)}` }, sk: { S: guard.file } },
      UpdateExpression: 'SET lockedUntil = :past',
      ConditionExpression: '#status = :inProgress',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) }, ':inProgress': { S: 'in-progress' } },
    }),
  );
}

/** An event's record: its idempotency record and notice outbox in one item (lib/event-ledger.ts: pk "idempotency#..."). */
export function isEventRecord(item: StateItem): boolean {
  return (item.pk?.S ?? '').startsWith('idempotency#');
}

/** A sample event, parsed as the handler receives it. */
export function sampleEvent(name: string): CloudTrailEvent {
  return JSON.parse(readFileSync(`events/${name}.json`, 'utf8')) as CloudTrailEvent;
}

/** The event's drift made real on the emulator (its own call, after what that call needs); returns the event as run. */
export async function reenacted(event: CloudTrailEvent, notes: string[] = []): Promise<CloudTrailEvent> {
  const reenactment = REENACTMENTS[reenactmentKey(event)];
  if (!reenactment) throw new Error(`no reenactment for ${reenactmentKey(event)}`);
  return reenactment(event, {
    endpoint: testEndpoint(),
    account: ACCOUNT,
    notes,
    engine: { settings: loadSettings(), aws: createAwsClients() },
    keys: new Map(),
  });
}
