/**
 * What a quarantine took, kept in the stack's state table where only the engine writes (pk = "iam-user#<name>",
 * sk = "quarantine"): since when, and the access keys the engine set Inactive. Release reactivates these and no other;
 * the user's tags are a marker for humans and are never read as this list (anyone with iam:TagUser can write tags).
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from '../aws.js';

export interface QuarantineRecord {
  /** The quarantine's marker: when, and after which event or sweep. */
  since: string;
  /** The access keys the engine set Inactive. */
  keys: string[];
}

const keyOf = (userName: string) => ({ pk: { S: `iam-user#${userName}` }, sk: { S: 'quarantine' } });

export class QuarantineRecords {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  async get(userName: string): Promise<QuarantineRecord | undefined> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.table, Key: keyOf(userName), ConsistentRead: true }),
    );
    if (Item?.since?.S === undefined) return undefined;
    return { since: Item.since.S, keys: Item.keys?.L?.flatMap((key) => (key.S ? [key.S] : [])) ?? [] };
  }

  async put(userName: string, record: QuarantineRecord): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...keyOf(userName),
          since: { S: record.since },
          keys: { L: record.keys.map((key) => ({ S: key })) },
        },
      }),
    );
  }

  async delete(userName: string): Promise<void> {
    await this.dynamodb.send(new DeleteItemCommand({ TableName: this.table, Key: keyOf(userName) }));
  }
}
