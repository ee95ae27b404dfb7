/** The engine's own records, kept in the state table: which keys resources use, trail baselines, quarantines. */

import { KeyUsageStore } from './key-usage.js';
import { QuarantineRecords } from './mfa/quarantine-records.js';
import type { EngineRecord, RuleContext } from './rule.js';

import { StateTableMissingError } from './state-table-missing.js';

export { StateTableMissingError };

type BaselineKind = 'config-baseline' | 'guardduty-baseline' | 'trail-baseline';
type BaselineKeeper<K extends BaselineKind> = (
  record: Extract<EngineRecord, { kind: K }>,
  ctx: RuleContext,
) => Promise<string | undefined>;

/**
 * Baselines are kept by their own modules (lib/config-baselines.ts, guardduty-baselines.ts, trail-baselines.ts), each
 * registering its keeper when it loads; the rules that make such records import them. A guard's bundle then carries
 * only its own service clients: the log-group guard has no CloudTrail, Config or GuardDuty client.
 */
const baselineKeepers: { [K in BaselineKind]?: BaselineKeeper<K> } = {};

export function registerBaselineKeeper<K extends BaselineKind>(kind: K, keeper: BaselineKeeper<K>): void {
  (baselineKeepers as Record<K, BaselineKeeper<K>>)[kind] = keeper;
}

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
    case 'config-baseline':
    case 'guardduty-baseline':
    case 'trail-baseline': {
      const keeper = baselineKeepers[record.kind] as BaselineKeeper<typeof record.kind> | undefined;
      if (keeper === undefined) throw new Error(`a ${record.kind} record to keep, but its keeper is not loaded`);
      return keeper(record as never, ctx);
    }
  }
}

/** What a reason tells of the records a reader should know of (a trail's baseline): kept, or only planned. */
export function toldRecords(records: readonly EngineRecord[], kept: boolean): string {
  const told = records.flatMap((record) => {
    if (record.kind !== 'trail-baseline' && record.kind !== 'config-baseline' && record.kind !== 'guardduty-baseline')
      return [];
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
