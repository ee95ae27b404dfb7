/** The engine's own records, kept in the state table: which keys resources use, trail baselines, quarantines. */

import type { EngineRecord, RuleContext } from './rule.js';

import { StateTableMissingError } from './state-table-missing.js';

export { StateTableMissingError };

type RecordKind = EngineRecord['kind'];
type RecordKeeper<K extends RecordKind> = (
  record: Extract<EngineRecord, { kind: K }>,
  ctx: RuleContext,
) => Promise<string | undefined>;

/**
 * Records are kept by their own modules, each registering its keeper when it loads; the rules that make such records
 * import them. Baselines: lib/config-baselines.ts, guardduty-baselines.ts, trail-baselines.ts; quarantines:
 * lib/mfa/quarantine-records.ts; key usage: the log-group rule (outside an event's settle, which writes it itself).
 * A guard's bundle then carries only its own service clients and records: the log-group guard has no CloudTrail,
 * Config or GuardDuty client, and no quarantine records (test/unit/record-keepers.test.ts checks each guard).
 */
const keepers: { [K in RecordKind]?: RecordKeeper<K> } = {};

export function registerRecordKeeper<K extends RecordKind>(kind: K, keeper: RecordKeeper<K>): void {
  (keepers as Record<K, RecordKeeper<K>>)[kind] = keeper;
}

/** Whether a keeper of `kind` is loaded (each guard's bundle must load the keepers of the records its rules make). */
export const keeperLoaded = (kind: RecordKind): boolean => keepers[kind] !== undefined;

/**
 * Kept before the actions are written, not after: a record that lets the engine undo its own writes (the keys a
 * quarantine deactivates) must exist before the first of them, or a failed attempt would lose it.
 */
export const keptBeforeWrites = (record: EngineRecord): boolean => record.kind === 'quarantine';

/** Keeps the record; returns why it was not kept as planned (a trail's baseline kept instead of following). */
export async function keepRecord(record: EngineRecord, ctx: RuleContext): Promise<string | undefined> {
  const keeper = keepers[record.kind] as RecordKeeper<typeof record.kind> | undefined;
  if (keeper === undefined) throw new Error(`a ${record.kind} record to keep, but its keeper is not loaded`);
  return keeper(record as never, ctx);
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
