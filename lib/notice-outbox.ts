/**
 * Exactly one notice per event, rule and outcome, across Lambda's retries: a notice is claimed in the state table
 * (pending) before it is published and marked sent after. A retry that finds it pending publishes it again (a notice
 * is never lost to a failed publish); one that finds it sent does not (no duplicate).
 * Items: pk = "notice#<event id>", sk = "<rule>#<outcome>", with the notice, its status and a TTL; beside them the
 * writes of attempts that failed (sk = "<rule>#earlier-writes"), for the next notice to name.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
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

export class NoticeOutbox {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  /** True when this notice should be published now; false when it was sent already. */
  async claim(eventId: string, key: string, notice: Notice, topicArn: string): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: `notice#${eventId}` },
            sk: { S: key },
            status: { S: 'pending' },
            notice: { S: JSON.stringify(notice) },
            topicArn: { S: topicArn },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': { S: 'pending' } },
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        return false;
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
   * Adds the writes an attempt made before it failed, so that the notice of a later attempt (the retry's, or the
   * failure's) names them: the retry re-reads the resource and finds them done.
   */
  async recordWrites(eventId: string, rule: string, writes: EarlierWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `notice#${eventId}` }, sk: { S: `${rule}#earlier-writes` } },
        UpdateExpression: 'SET writes = list_append(if_not_exists(writes, :none), :writes), expiresAt = :expires',
        ExpressionAttributeValues: {
          ':none': { L: [] },
          ':writes': { L: writes.map((write) => ({ S: JSON.stringify(write) })) },
          ':expires': { N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) },
        },
      }),
    );
  }

  /** The writes earlier attempts at this event made before they failed, oldest first. */
  async earlierWrites(eventId: string, rule: string): Promise<EarlierWrite[]> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: `notice#${eventId}` }, sk: { S: `${rule}#earlier-writes` } },
        ConsistentRead: true,
      }),
    );
    return (Item?.writes?.L ?? []).flatMap((write) => (write.S ? [JSON.parse(write.S) as EarlierWrite] : []));
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
