/** Every guard and rule; serverless.yml's patterns, IAM and the README's rules table follow from here. */
import type { Guard } from './guard.js';
import { kmsGuard } from './guards/kms-guard.js';
import { logGroupGuard } from './guards/log-group-guard.js';
import { mfaGuard } from './guards/mfa-guard.js';
import { trailGuard } from './guards/trail-guard.js';
import type { AnyRule } from './rule.js';

export const GUARDS: Guard[] = [logGroupGuard, trailGuard, kmsGuard, mfaGuard];

export const RULES: AnyRule[] = GUARDS.flatMap((guard) => guard.rules);
