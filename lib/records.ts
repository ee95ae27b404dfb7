/** The engine's own records, kept in the state table: which keys resources use, trail baselines, quarantines. */

import { captureConfigBaseline, followConfigBaseline } from './config-baselines.js';
import { KeyUsageStore } from './key-usage.js';
import { QuarantineRecords } from './mfa/quarantine-records.js';
import type { EngineRecord, RuleContext } from './rule.js';
import { captureTrailBaseline, followTrailBaseline, StateTableMissingError } from './trail-baselines.js';

/**
 * Kept before the actions are written, not after: a record that lets the engine undo its own writes (the keys a
 * quarantine deactivates) must exist before the first of them, or a failed attempt would lose it.
 */
export const keptBeforeWrites = (record: EngineRecord): boolean => record.kind === 'quarantine';

/** Keeps the record; returns why it was not kept as planned (a trail's baseline kept instead of following). */
export async function keepRecord(record: EngineRecord, ctx: RuleContext): Promise<string | undefined> {
  switch (record.kind) {
    case 'quarantine':
      await quarantineRecords(ctx).put(record.userName, { since: record.since, keys: record.keys });
      return;
    case 'quarantine-released':
      await quarantineRecords(ctx).delete(record.userName);
      return;
    case 'key-usage':
      if (ctx.settings.stateTable)
        await new KeyUsageStore(ctx.aws, ctx.settings.stateTable).record(record.keyArn, record.dependent);
      return;
    case 'config-baseline': {
      if (record.mode === 'first') {
        await captureConfigBaseline(ctx, record.region, record.from);
        return;
      }
      const kept = await followConfigBaseline(ctx, record.region, record.from);
      return (
        kept && `AWS Config in ${record.region}: baseline kept: ${kept}; the next event or sweep compares with it.`
      );
    }
    case 'trail-baseline': {
      if (record.mode === 'first') {
        await captureTrailBaseline(ctx, record.trail, record.region, record.from);
        return;
      }
      const kept = await followTrailBaseline(ctx, record.trail, record.region, record.from);
      return (
        kept && `Trail ${record.trail}: baseline kept: ${kept}; the next event or sweep compares the trail with it.`
      );
    }
  }
}

/** What a reason tells of the records a reader should know of (a trail's baseline): kept, or only planned. */
export function toldRecords(records: readonly EngineRecord[], kept: boolean): string {
  const told = records.flatMap((record) => {
    if (record.kind !== 'trail-baseline' && record.kind !== 'config-baseline') return [];
    if (record.mode === 'follow') return [kept ? 'the baseline follows' : 'the baseline would follow'];
    return [kept ? 'baseline captured' : 'would capture its baseline (dry run)'];
  });
  return told.length > 0 ? `; ${told.join('; ')}` : '';
}

function quarantineRecords(ctx: RuleContext): QuarantineRecords {
  // Decided only where a state table is set (lib/mfa/containment.ts): without one, no key is deactivated.
  if (ctx.settings.stateTable === undefined) throw new StateTableMissingError('quarantine records');
  return new QuarantineRecords(ctx.aws, ctx.settings.stateTable);
}
