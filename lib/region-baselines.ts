/** A per-region baseline in the state table (pk <kind>#<region>, sk baseline): read, first capture, follow. */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, awsErrorName, stateRegion } from './aws.js';
import { StateTableMissingError } from './state-table-missing.js';

export interface RegionBaseline {
  region: string;
  /** When it was captured (ISO-8601): a follow replaces only the baseline it read. */
  capturedAt: string;
}

export class RegionBaselineStore<B extends RegionBaseline> {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string | undefined,
    /** The partition key's prefix, e.g. guardduty. */
    private readonly kind: string,
    /** What is kept, for the missing-table error, e.g. "GuardDuty baselines". */
    private readonly what: string,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  private keyOf(region: string) {
    return { pk: { S: `${this.kind}#${region}` }, sk: { S: 'baseline' } };
  }

  private tableName(): string {
    if (this.table === undefined) throw new StateTableMissingError(this.what);
    return this.table;
  }

  async get(region: string): Promise<B | undefined> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName(), Key: this.keyOf(region), ConsistentRead: true }),
    );
    const body = Item?.baseline?.S;
    return body === undefined ? undefined : (JSON.parse(body) as B);
  }

  /**
   * `first` stores only where the region has none; `follow` replaces the one it read (`replacing`, by its capturedAt).
   * False when the condition failed.
   */
  async put(baseline: B, mode: 'first' | 'follow', replacing?: B): Promise<boolean> {
    const condition =
      mode === 'follow' && replacing
        ? {
            ConditionExpression: 'capturedAt = :was',
            ExpressionAttributeValues: { ':was': { S: replacing.capturedAt } },
          }
        : { ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName(),
          Item: {
            ...this.keyOf(baseline.region),
            baseline: { S: JSON.stringify(baseline) },
            capturedAt: { S: baseline.capturedAt },
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
