/**
 * Exactly one notice per event, rule and outcome, across Lambda's retries: a notice is claimed in the state table
 * (pending) before it is published and marked sent after. A retry that finds it pending publishes it again (a notice
 * is never lost to a failed publish); one that finds it sent does not (no duplicate).
 * Items: pk = "notice#<event id>", sk = "<rule>#<outcome>", with the notice, its status and a TTL; beside them the
 * writes of attempts that failed, on their claim (earlierWrites), for the next notice to name.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from './aws.js';
import type { EarlierWrite, Notice } from './notices.js';

const KEEP_SECONDS = 7 * 24 * 60 * 60;

export interface PendingNotice {
  key: string;
  notice: Notice;
  topicArn: string;
}

/** What claiming a notice found: whether to publish it, and what earlier failed attempts wrote. */
export interface Claim {
  claimed: boolean;
  earlierWrites: EarlierWrite[];
}

const writesOf = (value: AttributeValue | undefined): EarlierWrite[] =>
  (value?.L ?? []).flatMap((write) => (write.S ? [JSON.parse(write.S) as EarlierWrite] : []));

export class NoticeOutbox {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  /**
   * Whether this notice should be published now (false when it was sent already), and the writes earlier attempts
   * at the event made before they failed (kept on the claim they made, read back by this one at no extra call).
   */
  async claim(eventId: string, key: string, notice: Notice, topicArn: string): Promise<Claim> {
    try {
      // An update, not a put: the writes earlier attempts kept on the claim stay on it.
      const { Attributes } = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: `notice#${eventId}` }, sk: { S: key } },
          UpdateExpression: 'SET #status = :pending, notice = :notice, topicArn = :topic, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': { S: 'pending' },
            ':notice': { S: JSON.stringify(notice) },
            ':topic': { S: topicArn },
            ':expires': { N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) },
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { claimed: true, earlierWrites: writesOf(Attributes?.earlierWrites) };
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        return { claimed: false, earlierWrites: [] };
      }
      throw error;
    }
  }

  async markSent(eventId: string, key: string): Promise<void> {
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `notice#${eventId}` }, sk: { S: key } },
        UpdateExpression: 'SET #status = :sent',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sent': { S: 'sent' } },
      }),
    );
  }

  /** Counts this attempt at a failing event and returns how many there have been. */
  async countFailure(eventId: string, rule: string): Promise<number> {
    const { Attributes } = await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `notice#${eventId}` }, sk: { S: `${rule}#failed-attempts` } },
        UpdateExpression: 'ADD attempts :one SET expiresAt = :expires',
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':expires': { N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) },
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.attempts?.N ?? 1);
  }

  /**
   * Adds to the claim the writes an attempt made before it failed: the next attempt re-reads the resource, finds
   * them done, and its notice names them.
   */
  async keepWrites(eventId: string, key: string, writes: EarlierWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `notice#${eventId}` }, sk: { S: key } },
        UpdateExpression: 'SET earlierWrites = list_append(if_not_exists(earlierWrites, :none), :writes)',
        ExpressionAttributeValues: {
          ':none': { L: [] },
          ':writes': { L: writes.map((write) => ({ S: JSON.stringify(write) })) },
        },
      }),
    );
  }

  /** Notices of this event claimed by an earlier attempt whose publish did not finish. */
  async pending(eventId: string): Promise<PendingNotice[]> {
    const { Items = [] } = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': { S: `notice#${eventId}` }, ':pending': { S: 'pending' } },
      }),
    );
    return Items.map((item) => ({
      key: item.sk?.S ?? '',
      notice: JSON.parse(item.notice?.S ?? '{}') as Notice,
      topicArn: item.topicArn?.S ?? '',
    }));
  }
}
