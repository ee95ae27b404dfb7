/**
 * Which CloudTrail record an event is: its event id and a digest of what the record says. A redelivery of a record has
 * the same key; a different record that shares the id (AWS's documentation has such a pair) never does.
 */
import { createHash } from 'node:crypto';
import type { CloudTrailEvent } from './envelope.js';

/** `<eventID>#<sha256 of identity, event name, request, response and additional data>`. */
export function recordKey(event: CloudTrailEvent): string {
  const { eventID, userIdentity, eventName, requestParameters, responseElements, additionalEventData } = event.detail;
  // The time and the envelope are left out: a replay stamps its own, and a redelivery is the same record.
  const said = canonicalJson({ userIdentity, eventName, requestParameters, responseElements, additionalEventData });
  return `${eventID}#${createHash('sha256').update(said).digest('hex')}`;
}

/** JSON with every object's keys sorted, so that the same record always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
