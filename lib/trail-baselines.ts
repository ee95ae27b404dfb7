/**
 * The trail baseline store: the full configuration of each trail the engine guards, kept in the stack's DynamoDB state
 * table (pk = "trail#<trail ARN>", sk = "baseline"). Every read and write of baselines goes through here.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, arnRegion, awsErrorName, stateRegion } from './aws.js';
import { recordKeyUsage } from './key-usage.js';
import { registerRecordKeeper } from './records.js';
import type { RuleContext } from './rule.js';
import { StateTableMissingError } from './state-table-missing.js';
import { oncePerRun, type SharedReads } from './sweep/once-per-run.js';
import { trailWeakenings } from './trail-weakenings.js';
import { readTrail, type TrailConfig } from './trails.js';

export interface TrailBaseline {
  config: TrailConfig;
  /** When it was captured (ISO-8601). */
  capturedAt: string;
  /** The event id it was captured from, or "capture" for a sweep/deploy/replay capture. */
  capturedFrom: string;
}

export { StateTableMissingError };

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

  /**
   * Stores the baseline: `first` only where the trail has none (captures must not rewrite what the engine guards),
   * `follow` in place of the one it read (`replacing`, compared by its capturedAt: none when there was none). False
   * when the condition failed: a `first` found one already, or a `follow`'s baseline was rewritten meanwhile.
   */
  async put(baseline: TrailBaseline, mode: CaptureMode, replacing?: TrailBaseline): Promise<boolean> {
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
            ...keyOf(baseline.config.trailArn),
            baseline: { S: JSON.stringify(baseline) },
            trailName: { S: baseline.config.name },
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

/**
 * Every baseline of trails homed in the region (the sweep's way to find trails deleted while no event was seen), in
 * any partition. The whole table is scanned, page by page: once per sweep run (`reads`) for all its regions.
 */
export async function trailBaselinesInRegion(
  aws: AwsClients,
  table: string | undefined,
  region: string,
  reads?: SharedReads,
): Promise<TrailBaseline[]> {
  if (table === undefined) throw new StateTableMissingError();
  const byRegion = await oncePerRun(`trail baselines in ${table}`, reads, async () => {
    const found = new Map<string, TrailBaseline[]>();
    const dynamodb = aws.client(DynamoDBClient, stateRegion());
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'begins_with(pk, :prefix) AND sk = :sk',
          ExpressionAttributeValues: { ':prefix': { S: 'trail#arn:' }, ':sk': { S: 'baseline' } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const home = arnRegion(item.pk?.S?.slice('trail#'.length) ?? '');
        if (!home || !item.baseline?.S) continue;
        const baselines = found.get(home) ?? [];
        baselines.push(JSON.parse(item.baseline.S) as TrailBaseline);
        found.set(home, baselines);
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    return found;
  });
  return byRegion.get(region) ?? [];
}

/** `first`: a capture, stored only where none exists; `follow`: the baseline follows an accepted change. */
export type CaptureMode = 'first' | 'follow';

/** Reads a trail and stores its configuration as its baseline where it has none; undefined when it has one. */
export async function captureTrailBaseline(ctx: RuleContext, name: string, region: string, from: string) {
  const config = await readTrail(ctx.aws, name, region);
  if (!config) return undefined;
  const baseline = { config, capturedAt: new Date().toISOString(), capturedFrom: from };
  if (!(await new TrailBaselineStore(ctx.aws, ctx.settings.stateTable).put(baseline, 'first'))) return undefined;
  await recordTrailKey(ctx, config, region);
  return baseline;
}

/** The trail's KMS key, recorded as used by it (for the KMS guard). */
async function recordTrailKey(ctx: RuleContext, config: TrailConfig, region: string) {
  if (config.kmsKeyId && ctx.settings.stateTable) {
    await recordKeyUsage(ctx.aws, ctx.settings.stateTable, config.kmsKeyId, {
      type: 'trail',
      region,
      id: config.trailArn,
    });
  }
}

/** Whether the baseline may follow the trail as read now: only to a configuration that weakens nothing it had. */
export type FollowVerdict = { follow: true } | { follow: false; why: string };

export function followVerdict(old: TrailBaseline | undefined, fresh: TrailConfig): FollowVerdict {
  const lost = old ? trailWeakenings(old.config, fresh) : [];
  if (lost.length === 0) return { follow: true };
  const told = lost.map((w) => `${w.attribute} ${w.before} -> ${w.after}`).join(', ');
  return { follow: false, why: `the trail changed again meanwhile (${told})` };
}

/**
 * The baseline follows an accepted change: the trail is read again and stored in place of the baseline the follow
 * read, unless the read weakens that baseline (a change that landed after the decision's read) or the baseline was
 * rewritten meanwhile. Returns why it was kept, or undefined when it followed.
 */
export async function followTrailBaseline(
  ctx: RuleContext,
  name: string,
  region: string,
  from: string,
): Promise<string | undefined> {
  const config = await readTrail(ctx.aws, name, region);
  if (!config) return 'the trail was deleted meanwhile';
  const store = new TrailBaselineStore(ctx.aws, ctx.settings.stateTable);
  const old = await store.get(config.trailArn);
  const verdict = followVerdict(old, config);
  if (!verdict.follow) return verdict.why;
  const baseline = { config, capturedAt: new Date().toISOString(), capturedFrom: from };
  if (!(await store.put(baseline, 'follow', old))) return 'the baseline was rewritten meanwhile';
  await recordTrailKey(ctx, config, region);
  return undefined;
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

// The pipeline keeps a rule's trail-baseline records through this (lib/records.ts).
registerRecordKeeper('trail-baseline', async (record, ctx) => {
  if (record.mode === 'first') {
    await captureTrailBaseline(ctx, record.trail, record.region, record.from);
    return undefined;
  }
  const kept = await followTrailBaseline(ctx, record.trail, record.region, record.from);
  return kept && `Trail ${record.trail}: baseline kept: ${kept}; the next event or sweep compares the trail with it.`;
});
