/**
 * Which CloudTrail record an event is: its event id and a digest of what the record says. A redelivery of a record has
 * the same key; a different record that shares the id (AWS's documentation has such a pair) never does.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { CloudTrailEvent } from './envelope.js';

/** `<eventID>#<sha256 of identity, event name, request, response and additional data>`. */
export function recordKey(event: CloudTrailEvent): string {
  const { eventID, userIdentity, eventName, requestParameters, responseElements, additionalEventData } = event.detail;
  // The time and the envelope are left out: a replay stamps its own, and a redelivery is the same record.
  const said = canonicalJson({ userIdentity, eventName, requestParameters, responseElements, additionalEventData });
  return `${eventID}#${createHash('sha256').update(said).digest('hex')}`;
}
