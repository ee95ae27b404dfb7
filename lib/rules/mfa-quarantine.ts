/**
 * An IAM user left without an MFA device while holding a console password or an active access key is quarantined:
 * the stack's deny-unless-MFA policy is attached, the user is tagged, and (when configured) the active access keys are
 * set Inactive and recorded. Re-enrolment (EnableMFADevice) releases exactly what the engine did. No automation can
 * enrol an MFA device (it takes two codes from the device), so containment is the fix, and root goes to a human.
 */
import {
  AttachUserPolicyCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  IAMClient,
  paginateListAccessKeys,
  paginateListAttachedUserPolicies,
  paginateListMFADevices,
  paginateListUserTags,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { type AwsClients, awsErrorName } from '../aws.js';
import {
  type CloudTrailEvent,
  MalformedEventError,
  NAME_RULES,
  requireStringParameter,
  requireValidName,
} from '../envelope.js';
import {
  type Action,
  type Decision,
  defineRule,
  type Finding,
  type PermissionDeclaration,
  type Resource,
  type RuleContext,
  type Severity,
  type Skip,
} from '../rule.js';
import { actorName } from '../screening.js';
import type { Settings } from '../settings.js';

export const MFA_DEVICE_EVENTS = ['DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice'] as const;

/** Set on a quarantined user: when and after which event (the engine's own record, and a human's hint). */
export const QUARANTINE_TAG = 'driftguard:quarantined';
/** The access keys the engine set Inactive, space-separated: release reactivates these and no other. */
export const QUARANTINED_KEYS_TAG = 'driftguard:quarantined-keys';

/** The user name CloudTrail records when the root user manages its own MFA device. */
const ROOT_USER_NAME = 'AWS ROOT USER';
const ROOT_DEVICE_SUFFIX = '/root-account-mfa-device';

// ---------------------------------------------------------------------------------------------------------------
// The quarantine policy: AWS's documented self-manage-MFA policy (IAM User Guide,
// reference_policies_examples_iam_mfa-selfmanage), plus changing one's own password while MFA is absent.

const OWN_USER = 'arn:aws:iam::*:user/${aws:username}';

/** Actions AWS's BlockMostAccessUnlessSignedInWithMFA statement leaves allowed without MFA (enrolling a device). */
export const AWS_MFA_ENROLMENT_ACTIONS = [
  'iam:CreateVirtualMFADevice',
  'iam:EnableMFADevice',
  'iam:ListMFADevices',
  'iam:ListUsers',
  'iam:ListVirtualMFADevices',
  'iam:ResyncMFADevice',
] as const;

/** What the quarantine adds to AWS's exceptions: a user may change their own password before enrolling. */
export const PASSWORD_CHANGE_ACTIONS = ['iam:ChangePassword', 'iam:GetAccountPasswordPolicy'] as const;

export const mfaQuarantinePolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AllowListActions',
      Effect: 'Allow',
      Action: ['iam:ListUsers', 'iam:ListVirtualMFADevices'],
      Resource: '*',
    },
    {
      Sid: 'AllowUserToCreateVirtualMFADevice',
      Effect: 'Allow',
      Action: ['iam:CreateVirtualMFADevice'],
      Resource: 'arn:aws:iam::*:mfa/*',
    },
    {
      Sid: 'AllowUserToManageTheirOwnMFA',
      Effect: 'Allow',
      Action: ['iam:EnableMFADevice', 'iam:GetMFADevice', 'iam:ListMFADevices', 'iam:ResyncMFADevice'],
      Resource: OWN_USER,
    },
    {
      Sid: 'AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA',
      Effect: 'Allow',
      Action: ['iam:DeactivateMFADevice'],
      Resource: [OWN_USER],
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    },
    {
      Sid: 'AllowUserToChangeTheirOwnPassword',
      Effect: 'Allow',
      Action: ['iam:ChangePassword'],
      Resource: OWN_USER,
    },
    {
      Sid: 'AllowUserToReadThePasswordPolicy',
      Effect: 'Allow',
      Action: ['iam:GetAccountPasswordPolicy'],
      Resource: '*',
    },
    {
      Sid: 'BlockMostAccessUnlessSignedInWithMFA',
      Effect: 'Deny',
      NotAction: [...AWS_MFA_ENROLMENT_ACTIONS, ...PASSWORD_CHANGE_ACTIONS],
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
    },
  ],
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Targets and state

/** Who did what, when: what every MFA target carries from its event. */
export interface EventFacts {
  account: string;
  region: string;
  eventName: string;
  eventId: string;
  eventTime: string;
  actor: string;
  sourceIp: string | undefined;
}

export interface MfaUserTarget extends EventFacts {
  kind: 'user';
  userName: string;
  serialNumber: string;
  /** Where the user's name came from: the event, the caller's own name, or the deleted device's name. */
  ownerFrom: 'event' | 'caller' | 'device-name';
}

export interface RootMfaTarget extends EventFacts {
  kind: 'root';
  serialNumber: string;
  /** An IAM user whose device the root user acted on, when the event names one. */
  onUser: string | undefined;
}

export type MfaTarget = MfaUserTarget | RootMfaTarget;

/** An IAM user's present state, as far as MFA containment needs it. */
export interface IamUserFacts {
  userName: string;
  mfaDevices: string[];
  hasPassword: boolean;
  accessKeys: { id: string; active: boolean }[];
  exempt: boolean;
  /** The QUARANTINE_TAG value, when the user is quarantined. */
  quarantinedSince: string | undefined;
  /** The keys recorded in QUARANTINED_KEYS_TAG. */
  recordedKeys: string[];
  /** The configured quarantine policy is attached. */
  policyAttached: boolean;
}

export interface MfaDeviceState {
  target: MfaUserTarget;
  /** Undefined when no user bears the deleted device's name (the event names only the device). */
  user: IamUserFacts | undefined;
  /** Read time, so that decide() stays pure. */
  now: string;
}

export function eventFacts(event: CloudTrailEvent): EventFacts {
  return {
    account: event.account,
    region: event.detail.awsRegion,
    eventName: event.detail.eventName,
    eventId: event.detail.eventID,
    eventTime: event.detail.eventTime,
    actor: actorName(event.detail.userIdentity),
    sourceIp: event.detail.sourceIPAddress,
  };
}

/** The device's name: the last part of a virtual device's ARN (arn:aws:iam::<account>:mfa/<path><name>). */
function deviceName(serialNumber: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:mfa\/(?:.*\/)?([\w+=,.@-]+)$/.exec(serialNumber);
  return match?.[1];
}

function optionalUserName(event: CloudTrailEvent): string | undefined {
  const value = event.detail.requestParameters?.userName;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new MalformedEventError(
      `${event.detail.eventName} event ${event.detail.eventID}: detail.requestParameters.userName must be a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function targetOf(event: CloudTrailEvent): MfaTarget | Skip {
  const facts = eventFacts(event);
  const serialNumber = requireStringParameter(event, 'serialNumber');
  const given = optionalUserName(event);
  // The root user's name in these records is "AWS ROOT USER", outside IAM's user-name rules.
  const named =
    given === undefined || given === ROOT_USER_NAME
      ? given
      : requireValidName(event, 'detail.requestParameters.userName', given, NAME_RULES.iamUser);
  const identity = event.detail.userIdentity;
  const rootDevice = named === ROOT_USER_NAME || serialNumber.endsWith(ROOT_DEVICE_SUFFIX);
  if (identity.type === 'Root' || rootDevice) {
    return { ...facts, kind: 'root', serialNumber, onUser: named === ROOT_USER_NAME ? undefined : named };
  }
  if (named !== undefined) return { ...facts, kind: 'user', userName: named, serialNumber, ownerFrom: 'event' };
  if (event.detail.eventName === 'DeleteVirtualMFADevice') {
    // The event names only the device; by convention (and AWS's self-manage policy) a virtual device bears its user's name.
    const name = deviceName(serialNumber);
    if (name === undefined) return { skip: `${serialNumber} is not a virtual MFA device ARN` };
    return { ...facts, kind: 'user', userName: name, serialNumber, ownerFrom: 'device-name' };
  }
  if (identity.type === 'IAMUser' && identity.userName) {
    return { ...facts, kind: 'user', userName: identity.userName, serialNumber, ownerFrom: 'caller' };
  }
  // Without a user name the call acts on the caller's own device; a role session owns none, so it was root's (AssumeRoot).
  return { ...facts, kind: 'root', serialNumber, onUser: undefined };
}

export function describeIamUser(userName: string, facts: Pick<EventFacts, 'account' | 'region'>): Resource {
  return {
    type: 'IAM user',
    id: userName,
    arn: `arn:aws:iam::${facts.account}:user/${userName}`,
    region: facts.region,
    consoleUrl: `https://us-east-1.console.aws.amazon.com/iam/home#/users/details/${encodeURIComponent(userName)}?section=security_credentials`,
  };
}

export function describeRootUser(facts: Pick<EventFacts, 'account' | 'region'>): Resource {
  return {
    type: 'root user of',
    id: facts.account,
    arn: `arn:aws:iam::${facts.account}:root`,
    region: facts.region,
    consoleUrl: 'https://us-east-1.console.aws.amazon.com/iam/home#/security_credentials',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions (pure)

function settled(status: 'compliant' | 'ignored', reason: string): Decision {
  return { status, reason, findings: [], actions: [], needsHuman: [] };
}

function forHuman(reason: string, steps: string[], severity: Severity, findings: Finding[]): Decision {
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

function attachPolicy(userName: string, policyArn: string): Action {
  return {
    api: 'iam:AttachUserPolicy',
    params: { UserName: userName, PolicyArn: policyArn },
    summary: `quarantine policy ${policyArn} attached to ${userName} (undo: aws iam detach-user-policy --user-name ${userName} --policy-arn ${policyArn})`,
    brief: 'quarantined',
  };
}

function detachPolicy(userName: string, policyArn: string): Action {
  return {
    api: 'iam:DetachUserPolicy',
    params: { UserName: userName, PolicyArn: policyArn },
    summary: `quarantine policy ${policyArn} detached from ${userName}`,
    brief: 'released',
  };
}

function setKeyStatus(userName: string, keyId: string, status: 'Active' | 'Inactive', first: boolean): Action {
  const undo = status === 'Inactive' ? 'Active' : 'Inactive';
  return {
    api: 'iam:UpdateAccessKey',
    params: { UserName: userName, AccessKeyId: keyId, Status: status },
    summary: `access key ${keyId} of ${userName} ${undo} -> ${status} (undo: aws iam update-access-key --user-name ${userName} --access-key-id ${keyId} --status ${undo})`,
    brief: first ? (status === 'Inactive' ? 'keys inactive' : 'keys reactivated') : '',
  };
}

function tagQuarantined(userName: string, since: string, keys: string[]): Action {
  const tags = [
    { Key: QUARANTINE_TAG, Value: since },
    ...(keys.length > 0 ? [{ Key: QUARANTINED_KEYS_TAG, Value: keys.join(' ') }] : []),
  ];
  const keyNames = tags.map((tag) => tag.Key).join(' ');
  return {
    api: 'iam:TagUser',
    params: { UserName: userName, Tags: tags },
    summary: `${userName} tagged ${tags.map((tag) => `${tag.Key}=${tag.Value}`).join(', ')} (undo: aws iam untag-user --user-name ${userName} --tag-keys ${keyNames})`,
    brief: '',
  };
}

function untagQuarantined(userName: string): Action {
  return {
    api: 'iam:UntagUser',
    params: { UserName: userName, TagKeys: [QUARANTINE_TAG, QUARANTINED_KEYS_TAG] },
    summary: `tags ${QUARANTINE_TAG} and ${QUARANTINED_KEYS_TAG} removed from ${userName}`,
    brief: '',
  };
}

/** Why a user is being contained: the finding for the notice, and the tag value that records it. */
export interface ContainmentCause {
  finding: Finding;
  marker: string;
}

/**
 * A user without MFA device who can still sign in or call AWS is quarantined; already-done parts are not redone,
 * and keys deactivated now are added to those already recorded.
 */
export function decideContainment(user: IamUserFacts, settings: Settings, cause: ContainmentCause): Decision {
  const name = user.userName;
  if (user.mfaDevices.length > 0) {
    return settled('compliant', `${name} still has MFA device ${user.mfaDevices.join(', ')}`);
  }
  const credentials = credentialsText(user);
  if (credentials === '') {
    return settled(
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
  const toDeactivate = mfaDeactivateKeys ? activeKeyIds(user) : [];
  const recorded = [...new Set([...user.recordedKeys, ...toDeactivate])];
  const actions: Action[] = [];
  if (!user.policyAttached) actions.push(attachPolicy(name, policyArn));
  if (user.quarantinedSince === undefined || recorded.length > user.recordedKeys.length) {
    actions.push(tagQuarantined(name, user.quarantinedSince ?? cause.marker, recorded));
  }
  toDeactivate.forEach((keyId, index) => {
    actions.push(setKeyStatus(name, keyId, 'Inactive', index === 0));
  });
  if (actions.length === 0) return settled('compliant', `${name} is already quarantined (${user.quarantinedSince})`);
  return {
    status: 'drifted',
    reason: `${name} has no MFA device and ${credentials}`,
    findings,
    actions,
    needsHuman: [],
    severity: 'high',
  };
}

/** Re-enrolled: undo the quarantine exactly (policy, the recorded keys that are still there and Inactive, tags). */
export function decideRelease(user: IamUserFacts, settings: Settings, serialNumber: string): Decision {
  const name = user.userName;
  if (user.quarantinedSince === undefined && !user.policyAttached) {
    return settled('compliant', `${name} enrolled MFA device ${serialNumber} and is not quarantined`);
  }
  if (user.mfaDevices.length === 0) {
    return settled('compliant', `${name} has no MFA device at present: the quarantine stays`);
  }
  const { mfaQuarantinePolicyArn: policyArn } = settings;
  const keys = new Map(user.accessKeys.map((key) => [key.id, key]));
  const toReactivate = user.recordedKeys.filter((id) => keys.get(id)?.active === false);
  const deleted = user.recordedKeys.filter((id) => !keys.has(id));
  const actions: Action[] = [];
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
  };
}

/** Steps after the root user's MFA was removed: only root can enrol it again. */
function rootMfaSteps(target: RootMfaTarget): string[] {
  return [
    `Sign in as the root user of ${target.account} and assign an MFA device again (IAM console > Security credentials > Assign MFA device), preferably a hardware key (IAM.6); automation cannot enrol it.`,
    `If ${target.eventName} of ${target.serialNumber} at ${target.eventTime} from ${target.sourceIp ?? 'an unknown IP'} was not planned, treat the root credentials as compromised: change the root password, delete any root access keys, and review CloudTrail for root activity since then.`,
    ...(target.onUser
      ? [
          `The call also named IAM user ${target.onUser}: check that user's MFA devices (aws iam list-mfa-devices --user-name ${target.onUser}).`,
        ]
      : []),
    'In an AWS Organizations member account with centralized root access, the management account can instead delete the root credentials (sts:AssumeRoot).',
  ];
}

export function decideRootMfaChange(target: RootMfaTarget): Decision {
  if (target.eventName === 'EnableMFADevice') {
    return settled('compliant', `the root user enrolled MFA device ${target.serialNumber}`);
  }
  return forHuman(
    `the root user's MFA device ${target.serialNumber} was removed (${target.eventName} by ${target.actor}); only the root user can enrol one`,
    rootMfaSteps(target),
    'critical',
    [{ attribute: 'rootMfaDevice', before: target.serialNumber, after: `removed by ${target.eventName}` }],
  );
}

const LOST_DEVICE_WORDS: Record<string, string> = {
  DeactivateMFADevice: 'deactivated',
  DeleteVirtualMFADevice: 'deleted',
};

export function decideMfaDeviceChange(state: MfaDeviceState, settings: Settings): Decision {
  const { target, user } = state;
  if (user === undefined) {
    return settled(
      'ignored',
      `no IAM user is named after the deleted device ${target.serialNumber}: a device is deactivated before it is deleted, and its owner was checked on that DeactivateMFADevice event`,
    );
  }
  if (target.eventName === 'EnableMFADevice') return decideRelease(user, settings, target.serialNumber);
  const inferred = target.ownerFrom === 'device-name' ? ' (owner inferred from the device name)' : '';
  return decideContainment(user, settings, {
    finding: {
      attribute: 'mfaDevice',
      before: `${target.serialNumber}${inferred}`,
      after: `${LOST_DEVICE_WORDS[target.eventName] ?? target.eventName} by ${target.actor}; no MFA device left`,
    },
    marker: quarantineMarker(state.now, target.eventName, target.eventId),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and writing IAM

const isNoSuchEntity = (error: unknown) =>
  ['NoSuchEntityException', 'NoSuchEntity'].includes(awsErrorName(error) ?? '');

export async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

async function hasLoginProfile(iam: IAMClient, userName: string): Promise<boolean> {
  try {
    await iam.send(new GetLoginProfileCommand({ UserName: userName }));
    return true;
  } catch (error) {
    if (isNoSuchEntity(error)) return false;
    throw error;
  }
}

async function mfaSerials(iam: IAMClient, userName: string): Promise<string[]> {
  const pages = await collect(paginateListMFADevices({ client: iam }, { UserName: userName }));
  return pages.flatMap((page) => page.MFADevices ?? []).map((device) => device.SerialNumber ?? '');
}

/** The user's MFA-relevant state; undefined when the user does not exist. */
export async function readIamUser(
  aws: AwsClients,
  region: string,
  userName: string,
  settings: Settings,
): Promise<IamUserFacts | undefined> {
  const iam = aws.client(IAMClient, region);
  let mfaDevices: string[];
  try {
    mfaDevices = await mfaSerials(iam, userName);
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
  const [hasPassword, keyPages, policyPages, tagPages] = await Promise.all([
    hasLoginProfile(iam, userName),
    collect(paginateListAccessKeys({ client: iam }, { UserName: userName })),
    collect(paginateListAttachedUserPolicies({ client: iam }, { UserName: userName })),
    collect(paginateListUserTags({ client: iam }, { UserName: userName })),
  ]);
  const tags = new Map(tagPages.flatMap((page) => page.Tags ?? []).map((tag) => [tag.Key, tag.Value ?? '']));
  const exemptValue = tags.get(settings.exemptTag);
  const policyArn = settings.mfaQuarantinePolicyArn;
  return {
    userName,
    mfaDevices,
    hasPassword,
    accessKeys: keyPages
      .flatMap((page) => page.AccessKeyMetadata ?? [])
      .map((key) => ({ id: key.AccessKeyId ?? '', active: key.Status === 'Active' })),
    exempt: exemptValue !== undefined && exemptValue !== 'false',
    quarantinedSince: tags.get(QUARANTINE_TAG),
    recordedKeys: (tags.get(QUARANTINED_KEYS_TAG) ?? '').split(' ').filter((id) => id !== ''),
    policyAttached:
      policyArn !== undefined &&
      policyPages.flatMap((page) => page.AttachedPolicies ?? []).some((policy) => policy.PolicyArn === policyArn),
  };
}

/** The configured quarantine policy does not exist (or cannot be attached). */
export class QuarantinePolicyMissingError extends Error {
  override name = 'QuarantinePolicyMissingError';
}

/** A case the MFA rules never produce (an unknown action, a root target at inspection): a bug, not an AWS error. */
export class UnreachableMfaCaseError extends Error {
  override name = 'UnreachableMfaCaseError';
}

async function userExists(iam: IAMClient, userName: string): Promise<boolean> {
  try {
    await mfaSerials(iam, userName);
    return true;
  } catch (error) {
    if (isNoSuchEntity(error)) return false;
    throw error;
  }
}

/**
 * One IAM write. NoSuchEntity names either the user (gone: isGone) or the policy or key: a missing policy is a
 * refusal for a human; a policy no longer attached or a key deleted meanwhile is nothing to do.
 */
export async function applyMfaAction(action: Action, region: string, ctx: RuleContext): Promise<void> {
  const iam = ctx.aws.client(IAMClient, region);
  const params = action.params as never;
  const userName = String(action.params.UserName);
  try {
    switch (action.api) {
      case 'iam:AttachUserPolicy':
        await iam.send(new AttachUserPolicyCommand(params));
        return;
      case 'iam:DetachUserPolicy':
        await iam.send(new DetachUserPolicyCommand(params));
        return;
      case 'iam:UpdateAccessKey':
        await iam.send(new UpdateAccessKeyCommand(params));
        return;
      case 'iam:TagUser':
        await iam.send(new TagUserCommand(params));
        return;
      case 'iam:UntagUser':
        await iam.send(new UntagUserCommand(params));
        return;
      default:
        throw new UnreachableMfaCaseError(`the MFA guard cannot apply ${action.api}`);
    }
  } catch (error) {
    if (!isNoSuchEntity(error) || !(await userExists(iam, userName))) throw error;
    if (action.api === 'iam:AttachUserPolicy') {
      throw new QuarantinePolicyMissingError(`${String(action.params.PolicyArn)} cannot be attached`, { cause: error });
    }
    if (action.api === 'iam:DetachUserPolicy' || action.api === 'iam:UpdateAccessKey') return;
    throw error;
  }
}

export function explainMfaFailure(action: Action, error: unknown): string | undefined {
  if (!(error instanceof QuarantinePolicyMissingError)) return undefined;
  const userName = String(action.params.UserName);
  return `The quarantine policy ${String(action.params.PolicyArn)} does not exist: deploy the stack (it creates driftguard-<stage>-mfa-quarantine) or point DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN at it, then contain ${userName} (aws iam attach-user-policy --user-name ${userName} --policy-arn <its ARN>).`;
}

export const isIamUserGone = isNoSuchEntity;

const IAM_USERS = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*';
const READS = ['iam:ListMFADevices', 'iam:GetLoginProfile', 'iam:ListAccessKeys', 'iam:ListAttachedUserPolicies'];

/** IAM permissions for a rule that reads users and may write the given user actions and quarantine policy actions. */
export function mfaPermissions(userWrites: string[], policyWrites: string[]): PermissionDeclaration[] {
  return [
    { actions: [...READS, 'iam:ListUserTags', ...userWrites], resource: IAM_USERS },
    {
      actions: policyWrites,
      resource: IAM_USERS,
      // Only the stack's quarantine policy may be attached or detached (logical id of the managed policy resource).
      condition: { ArnEquals: { 'iam:PolicyARN': '${MfaQuarantinePolicy}' } },
    },
  ];
}

export const mfaQuarantine = defineRule<MfaTarget, MfaDeviceState>({
  id: 'iam-user-mfa-quarantine',
  title: 'IAM users who lose their MFA device are quarantined until they enrol one again; root MFA goes to a human',
  severity: 'high',
  controls: ['IAM.5', 'IAM.6', 'IAM.9', 'IAM.19'],
  trigger: { source: 'aws.iam', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...MFA_DEVICE_EVENTS] },
  permissions: mfaPermissions(
    ['iam:UpdateAccessKey', 'iam:TagUser', 'iam:UntagUser'],
    ['iam:AttachUserPolicy', 'iam:DetachUserPolicy'],
  ),

  target: targetOf,

  describe(target) {
    return target.kind === 'root' ? describeRootUser(target) : describeIamUser(target.userName, target);
  },

  preScreen(target) {
    return target.kind === 'root' ? decideRootMfaChange(target) : undefined;
  },

  async inspect(target, { aws, settings }) {
    if (target.kind === 'root') throw new UnreachableMfaCaseError('root targets are decided without inspection');
    const user = await readIamUser(aws, target.region, target.userName, settings);
    if (user === undefined && target.ownerFrom !== 'device-name') return undefined;
    return { target, user, now: new Date().toISOString() };
  },

  decide: decideMfaDeviceChange,

  apply: (action, target, ctx) => applyMfaAction(action, target.region, ctx),

  explainFailure: explainMfaFailure,

  isGone: isIamUserGone,
});
