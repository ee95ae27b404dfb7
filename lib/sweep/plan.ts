/**
 * What the sweep function knows of the guards, as plain data: each guard's passes (which function runs their pages)
 * and the events the forwarders carry. Derived from the registry here; in the sweep's bundle this module is replaced by
 * the same data as a literal (scripts/build.ts), so that the bundle holds no rule's code: the guards run their pages.
 */
import { GUARDS } from '../registry.js';
import type { Severity } from '../rule.js';
import type { GuardEvents } from '../rules/region-forwarders.js';

/** A pass whose pages a guard runs: its rule, and the function key of the guard that holds it. */
export interface PlannedPass {
  pass: string;
  rule: string;
  severity: Severity;
  onlyRegion?: string;
  functionKey: string;
}

export interface SweepPlan {
  passes: PlannedPass[];
  /** The guards' events, as the forwarders' patterns take them. */
  triggers: GuardEvents[];
}

export function sweepPlan(): SweepPlan {
  return {
    passes: GUARDS.flatMap((guard) =>
      guard.rules.flatMap((rule) =>
        rule.sweep
          ? [
              {
                pass: rule.sweep.pass,
                rule: rule.id,
                severity: rule.severity,
                ...(rule.sweep.onlyRegion ? { onlyRegion: rule.sweep.onlyRegion } : {}),
                functionKey: guard.functionKey,
              },
            ]
          : [],
      ),
    ),
    triggers: GUARDS.map((guard) => ({ rules: guard.rules.map(({ trigger }) => ({ trigger })) })),
  };
}

export const SWEEP_PLAN: SweepPlan = sweepPlan();
