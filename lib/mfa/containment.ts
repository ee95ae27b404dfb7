/**
 * Containment (pure): a user without an MFA device who can still sign in or call AWS is quarantined, whether an event
 * or the sweep found them. Already-done parts are not redone.
 */
import type { IamUserFacts } from '../iam-users.js';
import { type Decision, type Finding, noAction, type Severity } from '../rule.js';
import type { Settings } from '../settings.js';
import {
  attachPolicy,
  type ContainmentAction,
  quarantineRecord,
  setKeyStatus,
  tagQuarantined,
} from './quarantine-actions.js';

/** The event name the sweep's records carry (no event reported what it found). */
export const SWEEP_EVENT = 'Sweep';

/** Why a user is being contained: the finding for the notice, and the tag value that records it. */
export interface ContainmentCause {
  finding: Finding;
  marker: string;
}

/** A user the sweep listed: what the sweep knows of it (no event, device or actor). */
export interface SweptUser {
  userName: string;
  region: string;
  sweepId: string;
  /** When the sweep listed the user (ISO-8601). */
  time: string;
}

/** A listed user's present state. */
export interface SweptUserState {
  swept: SweptUser;
  user: IamUserFacts;
}

/** A drifted decision no write can fix: the steps for a human. */
export function forHuman(reason: string, steps: string[], severity: Severity, findings: Finding[]): Decision<never> {
  return { status: 'drifted', reason, findings, actions: [], needsHuman: steps, severity };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function activeKeyIds(user: IamUserFacts): string[] {
  return user.accessKeys.filter((key) => key.active).map((key) => key.id);
}

/** What the user can still sign in or call AWS with, in words; empty when nothing. */
function credentialsText(user: IamUserFacts): string {
  const parts = [
    ...(user.hasPassword ? ['a console password'] : []),
    ...(activeKeyIds(user).length > 0 ? [plural(activeKeyIds(user).length, 'active access key')] : []),
  ];
  return parts.join(' and ');
}

/** The QUARANTINE_TAG value: IAM tag values allow letters, digits, spaces and _ . : / = + - @ only. */
export function quarantineMarker(now: string, eventName: string, eventId: string): string {
  return `${now} ${eventName} ${eventId}`.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256);
}

/**
 * A user without MFA device who can still sign in or call AWS is quarantined; already-done parts are not redone,
 * and keys deactivated now are added to those the engine's record (state table) already holds.
 */
export function decideContainment(
  user: IamUserFacts,
  settings: Settings,
  cause: ContainmentCause,
): Decision<ContainmentAction> {
  const name = user.userName;
  if (user.mfaDevices.length > 0) {
    return noAction('compliant', `${name} still has MFA device ${user.mfaDevices.join(', ')}`);
  }
  const credentials = credentialsText(user);
  if (credentials === '') {
    return noAction(
      'compliant',
      `${name} has no MFA device but neither a console password nor an active access key: nothing to contain`,
    );
  }
  const findings: Finding[] = [
    cause.finding,
    {
      attribute: 'credentials',
      before: credentials,
      after: 'usable only to enrol an MFA device or change the password',
    },
  ];
  if (user.exempt) {
    return forHuman(
      `${name} is exempt (tagged ${settings.exemptTag}): notice only`,
      [
        `${name} has no MFA device but ${credentials}, and is exempt (tag ${settings.exemptTag}) so the engine did not quarantine it: confirm it is a break-glass user whose credentials are locked away, or enrol an MFA device for it.`,
      ],
      'high',
      findings,
    );
  }
  const { mfaQuarantinePolicyArn: policyArn, mfaDeactivateKeys } = settings;
  if (policyArn === undefined) {
    return forHuman(
      `${name} has no MFA device and ${credentials}; no quarantine policy is configured`,
      [
        `Set DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN to the stack's driftguard-<stage>-mfa-quarantine policy; meanwhile attach it to ${name} by hand (aws iam attach-user-policy --user-name ${name} --policy-arn <its ARN>).`,
      ],
      'high',
      findings,
    );
  }
  // A key is deactivated only where the engine can record it (the state table), so that release gives it back.
  const recordable = settings.stateTable !== undefined;
  const toDeactivate = mfaDeactivateKeys && recordable ? activeKeyIds(user) : [];
  const recorded = [...new Set([...user.recordedKeys, ...toDeactivate])];
  const since = user.quarantinedSince ?? cause.marker;
  const actions: ContainmentAction[] = [];
  if (!user.policyAttached) actions.push(attachPolicy(name, policyArn));
  if (user.quarantinedSince === undefined) actions.push(tagQuarantined(name, since));
  toDeactivate.forEach((keyId, index) => {
    actions.push(setKeyStatus(name, keyId, 'Inactive', index === 0));
  });
  if (actions.length === 0) return noAction('compliant', `${name} is already quarantined (${user.quarantinedSince})`);
  const unrecorded =
    mfaDeactivateKeys && !recordable && activeKeyIds(user).length > 0
      ? [
          `${name}'s access keys were left active: DRIFTGUARD_STATE_TABLE is not set, so the engine could not record them to give them back on release; deactivate them by hand (aws iam update-access-key --user-name ${name} --access-key-id <id> --status Inactive).`,
        ]
      : [];
  return {
    status: 'drifted',
    reason: `${name} has no MFA device and ${credentials}`,
    findings,
    actions,
    needsHuman: unrecorded,
    severity: 'high',
    bookkeeping: recordable ? [quarantineRecord(name, since, recorded)] : [],
  };
}

/** A user the sweep found: contained like after an event, the sweep recorded as the cause. */
export function decideSweptUser({ swept, user }: SweptUserState, settings: Settings): Decision<ContainmentAction> {
  return decideContainment(user, settings, {
    finding: { attribute: 'mfa', before: 'no MFA device (found by the sweep)', after: 'quarantined until they enrol' },
    marker: quarantineMarker(swept.time, SWEEP_EVENT, swept.sweepId),
  });
}
