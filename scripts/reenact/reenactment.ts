/** What a reenactment is and what it is given: shared by the replay and every reenactment file. */
import type { CloudTrailEvent } from '../../lib/envelope.js';
import type { RuleContext } from '../../lib/rule.js';

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

export function reenactmentKey(event: Pick<CloudTrailEvent, 'source'> & { detail: { eventName: string } }): string {
  return `${event.source}:${event.detail.eventName}`;
}
