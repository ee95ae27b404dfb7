/**
 * The writes of a quarantine and of its release, each named with its undo, and what a failed one means. The IAM
 * commands are declared once here; the MFA rules take the ones they send.
 */
import {
  AttachUserPolicyCommand,
  DetachUserPolicyCommand,
  IAMClient,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { IAM_USERS, iamUserExists, isNoSuchEntity, QUARANTINE_TAG, QUARANTINED_KEYS_TAG } from '../iam-users.js';
import { type ActionOf, command, type EngineRecord, type FailureVerdict, type RuleContext } from '../rule.js';
// Keeps the quarantine records made here (registerRecordKeeper).
import './quarantine-records.js';

// Only the stack's quarantine policy may be attached or detached (logical id of the managed policy resource).
const ONLY_QUARANTINE_POLICY = { ArnEquals: { 'iam:PolicyARN': '${MfaQuarantinePolicy}' } };

const SET_KEY_STATUS = command(IAMClient, UpdateAccessKeyCommand, IAM_USERS);

/** What containing a user writes: the policy, the tags, the keys set Inactive. */
export const CONTAINMENT_COMMANDS = {
  'iam:AttachUserPolicy': command(IAMClient, AttachUserPolicyCommand, IAM_USERS, { condition: ONLY_QUARANTINE_POLICY }),
  'iam:TagUser': command(IAMClient, TagUserCommand, IAM_USERS),
  'iam:UpdateAccessKey': SET_KEY_STATUS,
};

/** What releasing a user writes: the policy detached, the recorded keys reactivated, the tags removed. */
export const RELEASE_COMMANDS = {
  'iam:DetachUserPolicy': command(IAMClient, DetachUserPolicyCommand, IAM_USERS, { condition: ONLY_QUARANTINE_POLICY }),
  'iam:UpdateAccessKey': SET_KEY_STATUS,
  'iam:UntagUser': command(IAMClient, UntagUserCommand, IAM_USERS),
};

export type ContainmentAction = ActionOf<typeof CONTAINMENT_COMMANDS>;
export type ReleaseAction = ActionOf<typeof RELEASE_COMMANDS>;
export type QuarantineAction = ContainmentAction | ReleaseAction;

export function attachPolicy(userName: string, policyArn: string): ContainmentAction {
  return {
    api: 'iam:AttachUserPolicy',
    params: { UserName: userName, PolicyArn: policyArn },
    summary: `quarantine policy ${policyArn} attached to ${userName} (undo: aws iam detach-user-policy --user-name ${userName} --policy-arn ${policyArn})`,
    brief: 'quarantined',
  };
}

export function detachPolicy(userName: string, policyArn: string): ReleaseAction {
  return {
    api: 'iam:DetachUserPolicy',
    params: { UserName: userName, PolicyArn: policyArn },
    summary: `quarantine policy ${policyArn} detached from ${userName}`,
    brief: 'released',
  };
}

/** The first key's action names the change in the notice subject; the others add nothing to it. */
export function setKeyStatus(
  userName: string,
  keyId: string,
  status: 'Active' | 'Inactive',
  first: boolean,
): ContainmentAction & ReleaseAction {
  const undo = status === 'Inactive' ? 'Active' : 'Inactive';
  return {
    api: 'iam:UpdateAccessKey',
    params: { UserName: userName, AccessKeyId: keyId, Status: status },
    summary: `access key ${keyId} of ${userName} ${undo} -> ${status} (undo: aws iam update-access-key --user-name ${userName} --access-key-id ${keyId} --status ${undo})`,
    brief: first ? (status === 'Inactive' ? 'keys inactive' : 'keys reactivated') : '',
  };
}

/** A marker for humans only: what the quarantine took is the engine's record in the state table. */
export function tagQuarantined(userName: string, since: string): ContainmentAction {
  return {
    api: 'iam:TagUser',
    params: { UserName: userName, Tags: [{ Key: QUARANTINE_TAG, Value: since }] },
    summary: `${userName} tagged ${QUARANTINE_TAG}=${since} (undo: aws iam untag-user --user-name ${userName} --tag-keys ${QUARANTINE_TAG})`,
    brief: '',
  };
}

/** The engine's record of a quarantine: since when, and the keys it set Inactive (all of them, earlier ones too). */
export function quarantineRecord(userName: string, since: string, keys: string[]): EngineRecord {
  return {
    kind: 'quarantine',
    userName,
    since,
    keys,
    summary: `quarantine of ${userName} recorded${keys.length ? ` (keys ${keys.join(', ')})` : ''}`,
  };
}

export function quarantineReleased(userName: string): EngineRecord {
  return { kind: 'quarantine-released', userName, summary: `quarantine record of ${userName} dropped` };
}

export function untagQuarantined(userName: string): ReleaseAction {
  return {
    api: 'iam:UntagUser',
    params: { UserName: userName, TagKeys: [QUARANTINE_TAG, QUARANTINED_KEYS_TAG] },
    summary: `tags ${QUARANTINE_TAG} and ${QUARANTINED_KEYS_TAG} removed from ${userName}`,
    brief: '',
  };
}

/**
 * What a failed quarantine write means. IAM's NoSuchEntity names the user, the policy or the key: the user gone is
 * nothing left to do; a missing policy is a refusal for a human; a policy no longer attached, or a key deleted
 * meanwhile, is what the write was for.
 */
export async function classifyQuarantineFailure(
  action: QuarantineAction,
  error: unknown,
  { aws }: RuleContext,
  region: string,
): Promise<FailureVerdict | undefined> {
  const userName = action.params.UserName;
  if (!isNoSuchEntity(error) || userName === undefined) return undefined;
  let userExists: boolean;
  try {
    userExists = await iamUserExists(aws, region, userName);
  } catch {
    // Whether the user is there cannot be told: the write's own failure stands.
    return undefined;
  }
  if (!userExists) return { kind: 'gone' };
  switch (action.api) {
    case 'iam:AttachUserPolicy':
      return { kind: 'refused', step: policyMissingStep(userName, action.params.PolicyArn) };
    case 'iam:DetachUserPolicy':
    case 'iam:UpdateAccessKey':
      return { kind: 'done' };
    default:
      return undefined;
  }
}

function policyMissingStep(userName: string, policyArn: string | undefined): string {
  return `The quarantine policy ${policyArn ?? '(none named)'} does not exist: deploy the stack (it creates driftguard-<stage>-mfa-quarantine) or point DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN at it, then contain ${userName} (aws iam attach-user-policy --user-name ${userName} --policy-arn <its ARN>).`;
}
