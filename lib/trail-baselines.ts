/**
 * The trail baseline store: the full configuration of each trail the engine guards, kept in the stack's DynamoDB state
 * table (pk = "trail#<trail ARN>", sk = "baseline"). Every read and write of baselines goes through here.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, awsErrorName, stateRegion } from './aws.js';
import { KeyUsageStore } from './key-usage.js';
import type { RuleContext } from './rule.js';
import { readTrail, type TrailConfig } from './trails.js';

export interface TrailBaseline {
  config: TrailConfig;
  /** When it was captured (ISO-8601). */
  capturedAt: string;
  /** The event id it was captured from, or "capture" for a sweep/deploy/replay capture. */
  capturedFrom: string;
}

export class StateTableMissingError extends Error {
  override name = 'StateTableMissingError';
  constructor(what = 'trail baselines') {
    super(`DRIFTGUARD_STATE_TABLE is not set: ${what} are kept in the state table`);
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

  /**
   * Stores the baseline: `first` only where the trail has none (captures must not rewrite what the engine guards),
   * `follow` in its place (an accepted change). False when a `first` found one already.
   */
  async put(baseline: TrailBaseline, mode: CaptureMode): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName(),
          Item: {
            ...keyOf(baseline.config.trailArn),
            baseline: { S: JSON.stringify(baseline) },
            trailName: { S: baseline.config.name },
            capturedAt: { S: baseline.capturedAt },
          },
          ...(mode === 'first' ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (mode === 'first' && awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

/** `first`: a capture, stored only where none exists; `follow`: the baseline follows an accepted change. */
export type CaptureMode = 'first' | 'follow';

/**
 * Reads a trail and stores its configuration as its baseline (and the key it writes with, for the KMS guard). A
 * `first` capture of a trail that has a baseline stores nothing and returns undefined.
 */
export async function captureTrailBaseline(
  ctx: RuleContext,
  name: string,
  region: string,
  from: string,
  mode: CaptureMode = 'first',
) {
  const config = await readTrail(ctx.aws, name, region);
  if (!config) return undefined;
  const baseline = { config, capturedAt: new Date().toISOString(), capturedFrom: from };
  if (!(await new TrailBaselineStore(ctx.aws, ctx.settings.stateTable).put(baseline, mode))) return undefined;
  if (config.kmsKeyId && ctx.settings.stateTable) {
    await new KeyUsageStore(ctx.aws, ctx.settings.stateTable).record(config.kmsKeyId, {
      type: 'trail',
      region,
      id: config.trailArn,
    });
  }
  return baseline;
}

/**
 * Captures the baseline of every trail whose home region is one of `regions` and that has none yet (shadow copies of
 * multi-region trails are left to their home region). Used at deploy and by the replay.
 */
export async function captureTrailBaselines(ctx: RuleContext, regions: string[], from = 'capture'): Promise<string[]> {
  const captured: string[] = [];
  for (const region of regions) {
    const { trailList = [] } = await ctx.aws
      .client(CloudTrailClient, region)
      .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
    for (const trail of trailList) {
      if (!trail.Name || (trail.HomeRegion && trail.HomeRegion !== region)) continue;
      if (await captureTrailBaseline(ctx, trail.Name, region, from)) captured.push(trail.TrailARN ?? trail.Name);
    }
  }
  return captured;
}
