/**
 * The trail baseline store: the full configuration of each trail the engine guards, kept in the stack's DynamoDB state
 * table (pk = "trail#<trail ARN>", sk = "baseline"). Every read and write of baselines goes through here.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from './aws.js';
import type { TrailConfig } from './trails.js';

export interface TrailBaseline {
  config: TrailConfig;
  /** When it was captured (ISO-8601). */
  capturedAt: string;
  /** The event id it was captured from, or "capture" for a sweep/deploy/replay capture. */
  capturedFrom: string;
}

export class StateTableMissingError extends Error {
  override name = 'StateTableMissingError';
  constructor() {
    super('DRIFTGUARD_STATE_TABLE is not set: trail baselines are kept in the state table');
  }
}

const keyOf = (trailArn: string) => ({ pk: { S: `trail#${trailArn}` }, sk: { S: 'baseline' } });

export class TrailBaselineStore {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string | undefined,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  private tableName(): string {
    if (this.table === undefined) throw new StateTableMissingError();
    return this.table;
  }

  async get(trailArn: string): Promise<TrailBaseline | undefined> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName(), Key: keyOf(trailArn), ConsistentRead: true }),
    );
    const body = Item?.baseline?.S;
    return body === undefined ? undefined : (JSON.parse(body) as TrailBaseline);
  }

  /** Every baseline of trails homed in the region (the sweep's way to find trails deleted while no event was seen). */
  async *inRegion(region: string): AsyncGenerator<TrailBaseline> {
    let start: Record<string, never> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({
          TableName: this.tableName(),
          FilterExpression: 'begins_with(pk, :prefix) AND sk = :sk',
          ExpressionAttributeValues: {
            ':prefix': { S: `trail#arn:aws:cloudtrail:${region}:` },
            ':sk': { S: 'baseline' },
          },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.baseline?.S) yield JSON.parse(item.baseline.S) as TrailBaseline;
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  }

  async put(baseline: TrailBaseline): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName(),
        Item: {
          ...keyOf(baseline.config.trailArn),
          baseline: { S: JSON.stringify(baseline) },
          trailName: { S: baseline.config.name },
          capturedAt: { S: baseline.capturedAt },
        },
      }),
    );
  }
}
