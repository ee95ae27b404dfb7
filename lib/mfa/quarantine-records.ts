/**
 * What a quarantine took, kept in the stack's state table where only the engine writes (pk = "iam-user#<name>",
 * sk = "quarantine"): since when, and the access keys the engine set Inactive. Release reactivates these and no other;
 * the user's tags are a marker for humans and are never read as this list (anyone with iam:TagUser can write tags).
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from '../aws.js';
import { registerRecordKeeper, StateTableMissingError } from '../records.js';
import type { RuleContext } from '../rule.js';

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

function quarantineRecords(ctx: RuleContext): QuarantineRecords {
  // Decided only where a state table is set (lib/mfa/containment.ts): without one, no key is deactivated.
  if (ctx.settings.stateTable === undefined) throw new StateTableMissingError('quarantine records');
  return new QuarantineRecords(ctx.aws, ctx.settings.stateTable);
}

// The pipeline keeps a rule's quarantine records through these (lib/records.ts).
registerRecordKeeper('quarantine', async (record, ctx) => {
  await quarantineRecords(ctx).put(record.userName, { since: record.since, keys: record.keys });
  return undefined;
});
registerRecordKeeper('quarantine-released', async (record, ctx) => {
  await quarantineRecords(ctx).delete(record.userName);
  return undefined;
});
