/**
 * One item per event and guard in the state table: the event's idempotency record and its notice outbox at once, so
 * that a remediated event costs two state-table calls: one conditional write that claims the event once the rule has
 * decided (with the notice of what it is about to do, before its first write), one that settles it (with the engine's
 * own records of the event, in one transaction).
 *
 * Item: pk = "idempotency#<record key>" (lib/record-key.ts), sk = the guard's file; status "in-progress" (held until
 * lockedUntil, the invocation's deadline), "retry" (an attempt failed: the next may run) or "done" (result kept);
 * beside it what earlier attempts left: the notice they planned or could not send, whether a notice went out, the
 * writes they made before failing, how many attempts claimed it. Kept a week (expiresAt, the table's TTL).
 *
 * Guarantees: a repeated event makes no write and sends no notice (it returns the first result); an attempt that
 * stops after its writes, whatever the cause (a failed publish, a timeout, a crash), leaves the notice it planned,
 * which the next attempt sends, never twice; a failure is notified once, on Lambda's last attempt.
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  type Put,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from './aws.js';
import type { EarlierWrite, Notice } from './notices.js';

const KEEP_SECONDS = 7 * 24 * 60 * 60;

/** A notice an earlier attempt claimed but did not send (its publish failed, or a retry was due). */
export interface PendingNotice {
  notice: Notice;
  topicArn: string;
  /**
   * Only planned: what an attempt was about to do when it claimed the event (it may have stopped before doing it).
   * A later attempt sends it only if it finds the resource as the rule requires.
   */
  planned?: boolean;
}

/** What claiming an event found: this attempt runs (with what earlier ones left), or it was handled already. */
export type Claim =
  | {
      kind: 'claimed';
      /** The lock this attempt holds (its settle names it). */
      lock: number;
      /** This claim's own mark on the record: a write the SDK sent again after it applied is known as this attempt's. */
      token: string;
      pending: PendingNotice | undefined;
      /** A notice for this event went out already (a failed one, on the last attempt): no second one. */
      noticeSent: boolean;
      earlierWrites: EarlierWrite[];
      /** This attempt's number (counted by the claim itself, so that an attempt that never settles counts too). */
      attempt: number;
      /** An earlier attempt (or delivery) left a record: what this attempt read before its claim may be stale. */
      earlier: boolean;
    }
  | { kind: 'done'; result: unknown };

/** Another attempt at this event holds it now (a concurrent delivery): thrown, so that Lambda retries later. */
export class EventInProgressError extends Error {
  override name = 'EventInProgressError';
}

/** How an attempt ends, for its settle. */
export interface Settlement {
  /** done: the result is kept and a repeat returns it; retry: the next attempt runs. */
  status: 'done' | 'retry';
  /** The result a repeat returns (done only). */
  result?: unknown;
  /** Left for the next attempt to send; undefined: nothing pending (sent, superseded or none). */
  pending?: PendingNotice;
  /** This attempt sent the event's notice. */
  noticeSent?: boolean;
  /** This attempt failed at a fix: its writes named by the next notice. */
  failedWrites?: EarlierWrite[];
  /** The engine's own records of this event, written in the same transaction (e.g. a key's usage). */
  records?: Put[];
}

const writesOf = (value: AttributeValue | undefined): EarlierWrite[] =>
  (value?.L ?? []).flatMap((write) => (write.S ? [JSON.parse(write.S) as EarlierWrite] : []));

function pendingOf(item: Record<string, AttributeValue>): PendingNotice | undefined {
  const notice = item.notice?.S;
  if (!notice) return undefined;
  return {
    notice: JSON.parse(notice) as Notice,
    topicArn: item.topicArn?.S ?? '',
    ...(item.noticePlanned?.BOOL === true ? { planned: true } : {}),
  };
}

/** The record's notice as `pending` leaves it: SET (with whether it is only planned), or REMOVEd. */
function noticeUpdate(
  pending: PendingNotice | undefined,
  set: string[],
  remove: string[],
  values: Record<string, AttributeValue>,
): void {
  if (pending === undefined) {
    remove.push('notice', 'topicArn', 'noticePlanned');
    return;
  }
  set.push('notice = :notice', 'topicArn = :topic', 'noticePlanned = :planned');
  values[':notice'] = { S: JSON.stringify(pending.notice) };
  values[':topic'] = { S: pending.topicArn };
  values[':planned'] = { BOOL: pending.planned === true };
}

/** The attempt still holds the event: its own lock, not expired into another attempt's claim. */
const HELD = '#status = :inProgress AND lockedUntil = :lock';
const lockValues = (lock: number): Record<string, AttributeValue> => ({
  ':inProgress': { S: 'in-progress' },
  ':lock': { N: String(lock) },
});

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';

export class EventLedger {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
    /** Per guard: an event is handled once by each guard whose rules it reaches. */
    private readonly guard: string,
    /**
     * false: a done event runs again (its notice still sent once): the pipeline's own record for callers without a
     * handler, which re-read the resource on every call.
     */
    private readonly answerRepeats = true,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  private key(recordKey: string) {
    return { pk: { S: `idempotency#${recordKey}` }, sk: { S: this.guard } };
  }

  /**
   * Claims the event until `deadline` (ms since the epoch: the invocation's own), unless it is done or held by a live
   * attempt. One conditional write; what earlier attempts left comes back with it, as does a done event's result.
   * `planned`: the notice of the writes this attempt is about to make, left for the next attempt should this one stop
   * before it settles (it replaces an earlier attempt's, which this attempt's own notice supersedes).
   */
  async claim(recordKey: string, deadline: number, planned?: PendingNotice): Promise<Claim> {
    const now = Date.now();
    const token = randomUUID();
    const plan = planned ? ', notice = :notice, topicArn = :topic, noticePlanned = :planned' : '';
    try {
      const { Attributes = {} } = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(recordKey),
          UpdateExpression: `SET #status = :inProgress, lockedUntil = :lock, claimToken = :token, expiresAt = :expires${plan} ADD attempts :one`,
          ConditionExpression: this.answerRepeats
            ? 'attribute_not_exists(pk) OR #status = :retry OR (#status = :inProgress AND lockedUntil < :now)'
            : 'attribute_not_exists(pk) OR #status <> :inProgress OR lockedUntil < :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inProgress': { S: 'in-progress' },
            ...(this.answerRepeats ? { ':retry': { S: 'retry' } } : {}),
            ':lock': { N: String(deadline) },
            ':token': { S: token },
            ':now': { N: String(now) },
            ':one': { N: '1' },
            ':expires': { N: String(Math.floor(now / 1000) + KEEP_SECONDS) },
            ...(planned
              ? {
                  ':notice': { S: JSON.stringify(planned.notice) },
                  ':topic': { S: planned.topicArn },
                  ':planned': { BOOL: true },
                }
              : {}),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return {
        kind: 'claimed',
        lock: deadline,
        token,
        pending: pendingOf(Attributes),
        noticeSent: Attributes.noticeSent?.BOOL === true,
        earlierWrites: writesOf(Attributes.earlierWrites),
        attempt: Number(Attributes.attempts?.N ?? 0) + 1,
        earlier: Attributes.status !== undefined,
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = error.Item ?? {};
      if (item.status?.S === 'done') return { kind: 'done', result: JSON.parse(item.result?.S ?? 'null') };
      if (item.claimToken?.S === token && item.lockedUntil?.N === String(deadline)) {
        // This claim applied and its answer was lost; the SDK sent it again. What earlier attempts left is read from
        // the record as the claim left it (an earlier notice its plan replaced is not known), and the resource is read
        // again before anything is written.
        return {
          kind: 'claimed',
          lock: deadline,
          token,
          pending: planned ? undefined : pendingOf(item),
          noticeSent: item.noticeSent?.BOOL === true,
          earlierWrites: writesOf(item.earlierWrites),
          attempt: Number(item.attempts?.N ?? 1),
          earlier: true,
        };
      }
      throw new EventInProgressError(
        `event ${recordKey} is being handled by another attempt until ${item.lockedUntil?.N}`,
      );
    }
  }

  /**
   * An attempt that ended in an error before it could claim the event (a read failed) still counts, so that the
   * failure notice goes out on Lambda's last attempt, unless another attempt holds the event (a concurrent duplicate
   * does not count against it). A new record starts as "retry", which the next claim may take. An event already done
   * answers with its result: a repeat whose re-read failed is not an error.
   */
  async countUnclaimedAttempt(recordKey: string): Promise<Extract<Claim, { kind: 'done' }> | undefined> {
    const now = Date.now();
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(recordKey),
          UpdateExpression:
            'SET #status = if_not_exists(#status, :retry), expiresAt = if_not_exists(expiresAt, :expires) ADD attempts :one',
          ConditionExpression:
            'attribute_not_exists(pk) OR #status = :retry OR (#status = :inProgress AND lockedUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':retry': { S: 'retry' },
            ':inProgress': { S: 'in-progress' },
            ':now': { N: String(now) },
            ':one': { N: '1' },
            ':expires': { N: String(Math.floor(now / 1000) + KEEP_SECONDS) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = error.Item ?? {};
      return item.status?.S === 'done' && this.answerRepeats
        ? { kind: 'done', result: JSON.parse(item.result?.S ?? 'null') }
        : undefined;
    }
  }

  /**
   * Settles the attempt in one call, if it still holds the event: its status, its notice (sent or left pending), a
   * failed attempt's writes, and the engine's records of the event in the same transaction. A failure here is thrown:
   * see `settleAfterNotice`.
   */
  async settle(recordKey: string, lock: number, settlement: Settlement, token?: string): Promise<void> {
    const update = this.settleUpdate(recordKey, lock, settlement);
    const records = settlement.records ?? [];
    if (records.length === 0) {
      try {
        await this.dynamodb.send(new UpdateItemCommand({ ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      } catch (error) {
        // Applied, its answer lost, sent again by the SDK: the record is settled by this claim (no other took it).
        const item = isConditionFailure(error) ? (error.Item ?? {}) : {};
        const settledByThisClaim =
          token !== undefined && item.claimToken?.S === token && item.lockedUntil === undefined;
        if (!settledByThisClaim) throw error;
      }
      return;
    }
    // A transaction the SDK sends again carries the same ClientRequestToken: DynamoDB applies it once.
    await this.dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: update.TableName,
              Key: update.Key,
              UpdateExpression: update.UpdateExpression,
              ConditionExpression: update.ConditionExpression,
              ExpressionAttributeNames: update.ExpressionAttributeNames,
              ExpressionAttributeValues: update.ExpressionAttributeValues,
            },
          },
          ...records.map((Put) => ({ Put })),
        ],
      }),
    );
  }

  private settleUpdate(recordKey: string, lock: number, settlement: Settlement): UpdateItemCommandInput {
    const set = ['#status = :status'];
    const remove = ['lockedUntil'];
    const values: Record<string, AttributeValue> = { ':status': { S: settlement.status }, ...lockValues(lock) };
    if (settlement.result !== undefined) {
      set.push('#result = :result');
      values[':result'] = { S: JSON.stringify(settlement.result) };
    }
    noticeUpdate(settlement.pending, set, remove, values);
    if (settlement.noticeSent) {
      set.push('noticeSent = :sent');
      values[':sent'] = { BOOL: true };
    }
    if (settlement.failedWrites && settlement.failedWrites.length > 0) {
      set.push('earlierWrites = list_append(if_not_exists(earlierWrites, :none), :writes)');
      values[':none'] = { L: [] };
      values[':writes'] = { L: settlement.failedWrites.map((write) => ({ S: JSON.stringify(write) })) };
    }
    return {
      TableName: this.table,
      Key: this.key(recordKey),
      UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      // Only the attempt that holds the event settles it: a late or repeated settle cannot overwrite another's claim.
      ConditionExpression: HELD,
      ExpressionAttributeNames: {
        '#status': 'status',
        ...(settlement.result !== undefined ? { '#result': 'result' } : {}),
      },
      ExpressionAttributeValues: values,
    };
  }

  /**
   * After a notice went out, its being sent must be kept: settled, or (when that write fails) marked sent and released,
   * or else marked sent by a write no lock can refuse (it only silences: no other attempt may send this event's notice
   * again), each with the event's records. Only when all three fail may a later attempt send it again; then the last
   * error is thrown, for the caller to log (or, when records were not written, to throw: see the pipeline's
   * settleAfterNotice).
   */
  async settleAfterNotice(
    recordKey: string,
    lock: number,
    settlement: Settlement,
    token?: string,
  ): Promise<'settled' | 'marked'> {
    try {
      await this.settle(recordKey, lock, settlement, token);
      return 'settled';
    } catch {
      const records = settlement.records ?? [];
      try {
        // The next attempt runs (and sends no second notice), with the event's records in the same call.
        await this.settle(recordKey, lock, { status: 'retry', noticeSent: true, records });
      } catch {
        // The lock is lost (another attempt took over) or the write failed again: mark it sent all the same.
        await this.markSent(recordKey, records);
      }
      return 'marked';
    }
  }

  /** The event's notice went out: no attempt sends it again (the lock and status are left as they are). */
  private async markSent(recordKey: string, records: Put[]): Promise<void> {
    const mark = {
      TableName: this.table,
      Key: this.key(recordKey),
      UpdateExpression: 'SET noticeSent = :sent REMOVE notice, topicArn, noticePlanned',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':sent': { BOOL: true } },
    };
    if (records.length === 0) {
      await this.dynamodb.send(new UpdateItemCommand(mark));
      return;
    }
    await this.dynamodb.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Update: mark }, ...records.map((Put) => ({ Put }))] }),
    );
  }

  /**
   * An attempt that ended in an unexpected error lets the next one run at once (its lock would expire anyway), and
   * leaves on the record what the next one must know: the notice pending (this attempt's plan, or a notice it could
   * not send; none: the record's is removed), that a notice went out, and the writes a failed attempt made.
   */
  async release(
    recordKey: string,
    lock: number,
    left: { pending?: PendingNotice | undefined; noticeSent?: boolean; failedWrites?: EarlierWrite[] | undefined } = {},
  ): Promise<void> {
    const { pending, noticeSent, failedWrites } = left;
    const set = ['#status = :retry'];
    const remove = ['lockedUntil'];
    const values: Record<string, AttributeValue> = { ':retry': { S: 'retry' }, ...lockValues(lock) };
    if (noticeSent) {
      // Sent by this attempt (not recorded by its settle): no second one, whatever was pending.
      set.push('noticeSent = :sent');
      remove.push('notice', 'topicArn', 'noticePlanned');
      values[':sent'] = { BOOL: true };
    } else noticeUpdate(pending, set, remove, values);
    if (failedWrites && failedWrites.length > 0) {
      set.push('earlierWrites = list_append(if_not_exists(earlierWrites, :none), :writes)');
      values[':none'] = { L: [] };
      values[':writes'] = { L: failedWrites.map((write) => ({ S: JSON.stringify(write) })) };
    }
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.key(recordKey),
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ConditionExpression: HELD,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  }
}
