/**
 * Which log groups and trails use which KMS key, as the guards last saw them: the KMS guard protects every key that
 * something depends on. Items in the state table: pk = "key#<key ARN>", sk = "<type>#<region>#<id>".
 */
import {
  type AttributeValue,
  DynamoDBClient,
  type Put,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { type AwsClients, arnRegion, stateRegion } from './aws.js';
import { oncePerRun, type SharedReads } from './sweep/once-per-run.js';

export type DependentType = 'log-group' | 'trail';

export interface KeyDependent {
  type: DependentType;
  region: string;
  /** Log group name or trail ARN. */
  id: string;
  seenAt: string;
}

const KEY_PREFIX = 'key#';

/** The item recording that `dependent` uses the key, as a put (alone, or in a transaction with the event's record). */
export function keyUsagePut(table: string, keyArn: string, dependent: Omit<KeyDependent, 'seenAt'>): Put {
  return {
    TableName: table,
    Item: {
      pk: { S: `${KEY_PREFIX}${keyArn}` },
      sk: { S: `${dependent.type}#${dependent.region}#${dependent.id}` },
      type: { S: dependent.type },
      region: { S: dependent.region },
      id: { S: dependent.id },
      seenAt: { S: new Date().toISOString() },
    },
  };
}

/** Records that `dependent` uses the key (the writers' way: the reads below stay out of their bundles). */
export async function recordKeyUsage(
  aws: AwsClients,
  table: string,
  keyArn: string,
  dependent: Omit<KeyDependent, 'seenAt'>,
): Promise<void> {
  await aws.client(DynamoDBClient, stateRegion()).send(new PutItemCommand(keyUsagePut(table, keyArn, dependent)));
}

export class KeyUsageStore {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  /** Everything recorded as using the key (first 100, enough to name in a notice and to decide). */
  async dependents(keyArn: string): Promise<KeyDependent[]> {
    const { Items = [] } = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `${KEY_PREFIX}${keyArn}` } },
        Limit: 100,
      }),
    );
    return Items.map((item) => ({
      type: (item.type?.S ?? 'log-group') as DependentType,
      region: item.region?.S ?? '',
      id: item.id?.S ?? '',
      seenAt: item.seenAt?.S ?? '',
    }));
  }

  /**
   * Every key anything is recorded as using, in `region`, each once. The whole table is scanned, page by page: once
   * per sweep run (`reads`) for all its regions.
   */
  async keysInRegion(region: string, reads?: SharedReads): Promise<string[]> {
    const byRegion = await oncePerRun(`keys in ${this.table}`, reads, () => this.keysByRegion());
    return byRegion.get(region) ?? [];
  }

  private async keysByRegion(): Promise<Map<string, string[]>> {
    const byRegion = new Map<string, string[]>();
    const seen = new Set<string>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :key)',
          ExpressionAttributeValues: { ':key': { S: KEY_PREFIX } },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const keyArn = item.pk?.S?.slice(KEY_PREFIX.length);
        const region = keyArn && arnRegion(keyArn);
        if (keyArn === undefined || !region || seen.has(keyArn)) continue;
        seen.add(keyArn);
        const keys = byRegion.get(region) ?? [];
        keys.push(keyArn);
        byRegion.set(region, keys);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return byRegion;
  }
}
