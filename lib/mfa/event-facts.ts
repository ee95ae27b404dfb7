/** What the MFA rules take from an event: who did what, when, from where. */
import type { CloudTrailEvent } from '../envelope.js';
import { actorName } from '../screening.js';

/** Who did what, when: what every MFA event target carries from its event. */
export interface EventFacts {
  account: string;
  region: string;
  eventName: string;
  eventId: string;
  eventTime: string;
  actor: string;
  /** The caller's userIdentity.type (IAMUser, AssumedRole, Root, ...). */
  actorType: string;
  sourceIp: string | undefined;
}

export function eventFacts(event: CloudTrailEvent): EventFacts {
  return {
    account: event.account,
    region: event.detail.awsRegion,
    eventName: event.detail.eventName,
    eventId: event.detail.eventID,
    eventTime: event.detail.eventTime,
    actor: actorName(event.detail.userIdentity),
    actorType: event.detail.userIdentity.type,
    sourceIp: event.detail.sourceIPAddress,
  };
}

/** A case the MFA rules never produce (a root target at inspection): a bug, not an AWS error. */
export class UnreachableMfaCaseError extends Error {
  override name = 'UnreachableMfaCaseError';
}
