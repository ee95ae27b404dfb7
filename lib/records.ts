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
      await captureTrailBaseline(ctx, record.trail, record.region, record.from);
      return;
  }
}
