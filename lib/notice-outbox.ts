/**
 * Exactly one alarm notice per alarm state change, across Lambda's retries (lib/alarms/alarm-notice.ts; the guards'
 * events keep theirs on the event's record, lib/event-ledger.ts): a notice is claimed in the state table (pending)
 * before it is published and marked sent after. A retry that finds it pending publishes it again (a notice is never
 * lost to a failed publish); one that finds it sent does not (no duplicate).
 * Items: pk = "notice#<event id>", sk = "<rule>#notice", with the notice, its status and a TTL.
 */
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from './aws.js';
import type { Notice } from './notices.js';

const KEEP_SECONDS = 7 * 24 * 60 * 60;

export class NoticeOutbox {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  /** Whether this notice should be published now: false when it was sent already. */
  async claim(eventId: string, key: string, notice: Notice, topicArn: string): Promise<boolean> {
    try {
      await this.dynamodb.send(
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
}
