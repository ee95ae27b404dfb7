/**
 * --reenact: make an event's drift real on an emulator before the guard runs, by performing the event's own API call
 * (after creating whatever state that call needs). One reenactment per trigger; a test keeps them in step with the rules.
 */
import { activityReenactments } from './activity.js';
import { configReenactments } from './config.js';
import { guarddutyReenactments } from './guardduty.js';
import { kmsReenactments } from './kms.js';
import { logGroupReenactments } from './log-groups.js';
import { mfaReenactments } from './mfa.js';
import type { Reenactment } from './reenactment.js';
import { trailReenactments } from './trails.js';

export { type ReenactContext, type Reenactment, reenactmentKey } from './reenactment.js';

export const REENACTMENTS: Record<string, Reenactment> = {
  ...logGroupReenactments,
  ...trailReenactments,
  ...kmsReenactments,
  ...mfaReenactments,
  ...activityReenactments,
  ...configReenactments,
  ...guarddutyReenactments,
};
