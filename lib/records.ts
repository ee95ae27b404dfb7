/** The engine's own records, kept in the state table: which keys resources use, and trail baselines. */

import { KeyUsageStore } from './key-usage.js';
import type { EngineRecord, RuleContext } from './rule.js';
import { captureTrailBaseline } from './trail-baselines.js';

export async function keepRecord(record: EngineRecord, ctx: RuleContext): Promise<void> {
  switch (record.kind) {
    case 'key-usage':
      if (ctx.settings.stateTable)
        await new KeyUsageStore(ctx.aws, ctx.settings.stateTable).record(record.keyArn, record.dependent);
      return;
    case 'trail-baseline':
      await captureTrailBaseline(ctx, record.trail, record.region, record.from, record.mode);
      return;
  }
}

/** What a reason tells of the records a reader should know of (a trail's baseline): kept, or only planned. */
export function toldRecords(records: readonly EngineRecord[], kept: boolean): string {
  const told = records.flatMap((record) => {
    if (record.kind !== 'trail-baseline') return [];
    if (record.mode === 'follow') return [kept ? 'the baseline follows' : 'the baseline would follow'];
    return [kept ? 'baseline captured' : 'would capture its baseline (dry run)'];
  });
  return told.length > 0 ? `; ${told.join('; ')}` : '';
}
