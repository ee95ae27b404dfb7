/** Release (pure): a quarantined user who enrolled an MFA device again gets back exactly what the engine took. */
import type { IamUserFacts } from '../iam-users.js';
import { type Decision, type Finding, noAction } from '../rule.js';
import type { Settings } from '../settings.js';
import {
  detachPolicy,
  quarantineReleased,
  type ReleaseAction,
  setKeyStatus,
  untagQuarantined,
} from './quarantine-actions.js';

/**
 * Re-enrolled: undo the quarantine exactly (policy, the keys the engine's record holds that are still there and
 * Inactive, tags). Keys named anywhere else (a user's tags) are never reactivated.
 */
export function decideRelease(user: IamUserFacts, settings: Settings, serialNumber: string): Decision<ReleaseAction> {
  const name = user.userName;
  if (user.quarantinedSince === undefined && !user.policyAttached) {
    return noAction('compliant', `${name} enrolled MFA device ${serialNumber} and is not quarantined`);
  }
  if (user.mfaDevices.length === 0) {
    return noAction('compliant', `${name} has no MFA device at present: the quarantine stays`);
  }
  const { mfaQuarantinePolicyArn: policyArn } = settings;
  const keys = new Map(user.accessKeys.map((key) => [key.id, key]));
  const toReactivate = user.recordedKeys.filter((id) => keys.get(id)?.active === false);
  const deleted = user.recordedKeys.filter((id) => !keys.has(id));
  const actions: ReleaseAction[] = [];
  if (user.policyAttached && policyArn !== undefined) actions.push(detachPolicy(name, policyArn));
  toReactivate.forEach((keyId, index) => {
    actions.push(setKeyStatus(name, keyId, 'Active', index === 0));
  });
  if (user.quarantinedSince !== undefined || user.recordedKeys.length > 0) actions.push(untagQuarantined(name));
  const findings: Finding[] = [
    {
      attribute: 'quarantine',
      before: user.quarantinedSince ? `since ${user.quarantinedSince}` : 'quarantine policy attached',
      after: `released: MFA device ${user.mfaDevices.join(', ')} enrolled`,
    },
    ...deleted.map((id) => ({
      attribute: `accessKey ${id}`,
      before: 'Inactive (set by the engine)',
      after: 'deleted meanwhile: nothing to reactivate',
    })),
  ];
  const needsHuman =
    policyArn === undefined && user.quarantinedSince !== undefined
      ? [
          `DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN is not set: detach the quarantine policy from ${name} by hand (aws iam list-attached-user-policies --user-name ${name}).`,
        ]
      : [];
  return {
    status: 'drifted',
    reason: `${name} enrolled MFA device ${serialNumber}: quarantine released`,
    findings,
    actions,
    needsHuman,
    severity: 'low',
    // Dropped only once everything is given back: a failed attempt keeps the record for the retry.
    bookkeeping: user.quarantinedSince !== undefined ? [quarantineReleased(name)] : [],
  };
}
