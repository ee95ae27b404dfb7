/**
 * The AWS Config baseline store: each region's customer-managed recorder and delivery channel as the engine keeps them,
 * in the stack's state table (pk = "config-recording#<region>", sk = "baseline"). Every read and write goes through here.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, awsErrorName, stateRegion } from './aws.js';
import {
  type ChannelConfig,
  channelNarrowings,
  type RecorderConfig,
  readRegionRecording,
  recorderNarrowings,
} from './config-recording.js';
import type { RuleContext } from './rule.js';
import { StateTableMissingError } from './trail-baselines.js';

export interface ConfigBaseline {
  region: string;
  recorder: RecorderConfig;
  /** The channel the recorder delivered through; none when it had none yet. */
  channel?: ChannelConfig;
  recording: boolean;
  /** When it was captured (ISO-8601). */
  capturedAt: string;
  /** The event id it was captured from, or deploy / sweep / reenact. */
  capturedFrom: string;
}

const keyOf = (region: string) => ({ pk: { S: `config-recording#${region}` }, sk: { S: 'baseline' } });

export class ConfigBaselineStore {
  private readonly dynamodb: DynamoDBClient;

  constructor(
    aws: AwsClients,
    private readonly table: string | undefined,
  ) {
    this.dynamodb = aws.client(DynamoDBClient, stateRegion());
  }

  private tableName(): string {
    if (this.table === undefined) throw new StateTableMissingError('AWS Config baselines');
    return this.table;
  }

  async get(region: string): Promise<ConfigBaseline | undefined> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName(), Key: keyOf(region), ConsistentRead: true }),
    );
    const body = Item?.baseline?.S;
    return body === undefined ? undefined : (JSON.parse(body) as ConfigBaseline);
  }

  /**
   * `first` stores only where the region has none; `follow` replaces the one it read (compared by capturedAt). False
   * when the condition failed.
   */
  async put(baseline: ConfigBaseline, mode: 'first' | 'follow', replacing?: ConfigBaseline): Promise<boolean> {
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
            ...keyOf(baseline.region),
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

const storeOf = (ctx: RuleContext) => new ConfigBaselineStore(ctx.aws, ctx.settings.stateTable);

/** The region's recording read now, as a baseline; undefined when it has no customer-managed recorder. */
async function readBaseline(ctx: RuleContext, region: string, from: string): Promise<ConfigBaseline | undefined> {
  const { recorder, channel, recording } = await readRegionRecording(ctx.aws, region);
  if (!recorder) return undefined;
  return {
    region,
    recorder,
    ...(channel ? { channel } : {}),
    recording,
    capturedAt: new Date().toISOString(),
    capturedFrom: from,
  };
}

/** Stores the region's recording as its baseline where it has none; the baseline, or undefined when none was stored. */
export async function captureConfigBaseline(ctx: RuleContext, region: string, from: string) {
  const baseline = await readBaseline(ctx, region, from);
  if (!baseline) return undefined;
  return (await storeOf(ctx).put(baseline, 'first')) ? baseline : undefined;
}

/** Captures every region's baseline that has none yet (deploy, replay); the regions captured. */
export async function captureConfigBaselines(ctx: RuleContext, regions: string[], from: string): Promise<string[]> {
  const captured: string[] = [];
  for (const region of regions) if (await captureConfigBaseline(ctx, region, from)) captured.push(region);
  return captured;
}

/** What a baseline would lose if it followed `fresh`: nothing means it may follow. */
export function followLosses(old: ConfigBaseline | undefined, fresh: ConfigBaseline): string[] {
  if (!old) return [];
  const lost = [
    ...recorderNarrowings(old.recorder, fresh.recorder),
    ...(old.channel && fresh.channel ? channelNarrowings(old.channel, fresh.channel) : []),
    ...(old.channel && !fresh.channel
      ? [{ attribute: 'delivery channel', before: old.channel.name, after: 'none' }]
      : []),
    ...(old.recording && !fresh.recording ? [{ attribute: 'recording', before: 'on', after: 'off' }] : []),
  ];
  return lost.map((n) => `${n.attribute} ${n.before} -> ${n.after}`);
}

/**
 * The baseline follows an accepted change: the region is read again and stored in place of the baseline it read,
 * unless the read narrows that baseline (a change that landed after the decision) or the baseline was rewritten
 * meanwhile. Returns why it was kept, or undefined when it followed.
 */
export async function followConfigBaseline(
  ctx: RuleContext,
  region: string,
  from: string,
): Promise<string | undefined> {
  const fresh = await readBaseline(ctx, region, from);
  if (!fresh) return 'the recorder was deleted meanwhile';
  const store = storeOf(ctx);
  const old = await store.get(region);
  const lost = followLosses(old, fresh);
  if (lost.length > 0) return `the recording changed again meanwhile (${lost.join(', ')})`;
  if (!(await store.put(fresh, 'follow', old))) return 'the baseline was rewritten meanwhile';
  return undefined;
}
