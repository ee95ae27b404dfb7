/**
 * --reenact: make an event's drift real on an emulator before the guard runs, by performing the event's own API call
 * (after creating whatever state that call needs). One reenactment per trigger; a test keeps them in step with the rules.
 */
import type { CloudTrailEvent } from '../../lib/envelope.js';
import type { RuleContext } from '../../lib/rule.js';
import { kmsReenactments } from './kms.js';
import { logGroupReenactments } from './log-groups.js';
import { mfaReenactments } from './mfa.js';
import { trailReenactments } from './trails.js';

export interface ReenactContext {
  endpoint: string;
  account: string;
  /** Lines to show the user (what was created, what was mapped). */
  notes: string[];
  /** The engine's settings and clients, for what the engine itself must do first (e.g. capture a baseline). */
  engine: RuleContext;
  /** Emulator keys standing in for the keys events name, for one replay run (the emulator chooses key ids). */
  keys: Map<string, { keyId: string; arn: string }>;
}

/** Performs the event's call; may rewrite the event (e.g. map its key onto one the emulator created) and returns it. */
export type Reenactment = (event: CloudTrailEvent, ctx: ReenactContext) => Promise<CloudTrailEvent>;

export const REENACTMENTS: Record<string, Reenactment> = {
  ...logGroupReenactments,
  ...trailReenactments,
  ...kmsReenactments,
  ...mfaReenactments,
};

export function reenactmentKey(event: Pick<CloudTrailEvent, 'source'> & { detail: { eventName: string } }): string {
  return `${event.source}:${event.detail.eventName}`;
}
