/** Every guard and rule; serverless.yml's patterns, IAM and the README's rules table follow from here. */
import type { DeployedGuard } from './guard.js';
import { activityGuard, activityGuardDeployment } from './guards/activity-guard.js';
import { configGuard, configGuardDeployment } from './guards/config-guard.js';
import { guarddutyGuard, guarddutyGuardDeployment } from './guards/guardduty-guard.js';
import { kmsGuard, kmsGuardDeployment } from './guards/kms-guard.js';
import { logGroupGuard, logGroupGuardDeployment } from './guards/log-group-guard.js';
import { mfaGuard, mfaGuardDeployment } from './guards/mfa-guard.js';
import { trailGuard, trailGuardDeployment } from './guards/trail-guard.js';
import type { AnyRule, AnyRuleDeclaration } from './rule.js';
import { regionForwardersRule } from './rules/region-forwarders.js';

export const GUARDS: DeployedGuard[] = [
  { ...logGroupGuard, ...logGroupGuardDeployment },
  { ...trailGuard, ...trailGuardDeployment },
  { ...kmsGuard, ...kmsGuardDeployment },
  { ...mfaGuard, ...mfaGuardDeployment },
  { ...configGuard, ...configGuardDeployment },
  { ...activityGuard, ...activityGuardDeployment },
  { ...guarddutyGuard, ...guarddutyGuardDeployment },
];

/** The rules events trigger, each run by its guard. */
export const RULES: AnyRule[] = GUARDS.flatMap((guard) => guard.rules);

/** The forwarders that carry every guard's events home from the other regions; the sweep keeps them in place. */
export const REGION_FORWARDERS = regionForwardersRule(GUARDS);

/**
 * What the sweep goes through, in this order: every rule, then the forwarders (a pass of one call or two per region,
 * after the resource passes the cursor was made for). Locally (npm run sweep) all in process; the sweep function has
 * each guard run its own rules' pages (lib/sweep/plan.ts) and its role holds only the forwarders' powers.
 */
export const SWEPT_RULES: AnyRuleDeclaration[] = [...RULES, REGION_FORWARDERS];
