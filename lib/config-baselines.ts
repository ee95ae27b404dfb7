import type { AwsClients } from './aws.js';
import {
  type ChannelConfig,
  channelNarrowings,
  type RecorderConfig,
  type RegionRecording,
  readRegionRecording,
  recorderNarrowings,
  recordingGaps,
} from './config-recording.js';
import { registerRecordKeeper } from './records.js';
import { RegionBaselineStore } from './region-baselines.js';
import type { RuleContext } from './rule.js';

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

export class ConfigBaselineStore extends RegionBaselineStore<ConfigBaseline> {
  constructor(aws: AwsClients, table: string | undefined) {
    super(aws, table, 'config-recording', 'AWS Config baselines');
  }
}

const storeOf = (ctx: RuleContext) => new ConfigBaselineStore(ctx.aws, ctx.settings.stateTable);

/** The region's recording as a baseline; undefined when it has no customer-managed recorder. */
function baselineOf(
  { recorder, channel, recording }: RegionRecording,
  region: string,
  from: string,
): ConfigBaseline | undefined {
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

/**
 * Stores the region's recording as its baseline where it has none; the baseline, or undefined when none was stored.
 * `onlyIfCompliantFor` (an event's capture, with the account): the region read now must meet the policy and record, or nothing is stored and
 * the gaps are returned (a change that landed between the decision and the capture is not adopted).
 */
export async function captureConfigBaseline(
  ctx: RuleContext,
  region: string,
  from: string,
  onlyIfCompliantFor?: string,
): Promise<ConfigBaseline | string | undefined> {
  const current = await readRegionRecording(ctx.aws, region);
  if (onlyIfCompliantFor !== undefined) {
    const gaps = [
      ...recordingGaps(current, onlyIfCompliantFor),
      ...(current.recording ? [] : [{ attribute: 'recording', before: 'off', after: 'on' }]),
    ];
    if (gaps.length > 0) return gaps.map((g) => `${g.attribute} ${g.before}`).join(', ');
  }
  const baseline = baselineOf(current, region, from);
  if (!baseline) return undefined;
  return (await storeOf(ctx).put(baseline, 'first')) ? baseline : undefined;
}

/** Captures every region's baseline that has none yet (deploy, replay); the regions captured. */
export async function captureConfigBaselines(ctx: RuleContext, regions: string[], from: string): Promise<string[]> {
  const captured: string[] = [];
  for (const region of regions) {
    if (typeof (await captureConfigBaseline(ctx, region, from)) === 'object') captured.push(region);
  }
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
  const fresh = baselineOf(await readRegionRecording(ctx.aws, region), region, from);
  if (!fresh) return 'the recorder was deleted meanwhile';
  const store = storeOf(ctx);
  const old = await store.get(region);
  const lost = followLosses(old, fresh);
  if (lost.length > 0) return `the recording changed again meanwhile (${lost.join(', ')})`;
  if (!(await store.put(fresh, 'follow', old))) return 'the baseline was rewritten meanwhile';
  return undefined;
}

// The pipeline keeps a rule's config-baseline records through this (lib/records.ts).
registerRecordKeeper('config-baseline', async (record, ctx) => {
  if (record.mode === 'first') {
    const refused = await captureConfigBaseline(ctx, record.region, record.from, record.onlyIfCompliantFor);
    return typeof refused === 'string'
      ? `AWS Config in ${record.region}: no baseline captured: ${refused}; the sweep captures it and names what it lacks.`
      : undefined;
  }
  const kept = await followConfigBaseline(ctx, record.region, record.from);
  return kept && `AWS Config in ${record.region}: baseline kept: ${kept}; the next event or sweep compares with it.`;
});
