/**
 * An IAM user left without an MFA device while holding a console password or an active access key is quarantined:
 * the stack's deny-unless-MFA policy is attached, the user is tagged, and (when configured) the active access keys are
 * set Inactive and recorded. Re-enrolment (EnableMFADevice) releases exactly what the engine did. No automation can
 * enrol an MFA device (it takes two codes from the device), so containment is the fix, and root goes to a human.
 * The sweep lists every IAM user (from us-east-1 only: IAM is global) and contains those the events missed.
 */
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  type CloudTrailEvent,
  MalformedEventError,
  NAME_RULES,
  requireStringParameter,
  requireValidName,
} from '../envelope.js';
import {
  describeIamUser,
  describeRootUser,
  IAM_REGION,
  IAM_USER_READS,
  IAM_USERS,
  type IamUserFacts,
  readIamUser,
} from '../iam-users.js';
import {
  decideContainment,
  decideSweptUser,
  forHuman,
  quarantineMarker,
  type SweptUser,
  type SweptUserState,
} from '../mfa/containment.js';
import { type EventFacts, eventFacts, UnreachableMfaCaseError } from '../mfa/event-facts.js';
import {
  CONTAINMENT_COMMANDS,
  classifyQuarantineFailure,
  type QuarantineAction,
  RELEASE_COMMANDS,
} from '../mfa/quarantine-actions.js';
import { decideRelease } from '../mfa/release.js';
import { type Decision, defineRule, noAction, type Skip } from '../rule.js';
import type { Settings } from '../settings.js';

export const MFA_DEVICE_EVENTS = ['DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice'] as const;

/** The user name CloudTrail records when the root user manages its own MFA device. */
const ROOT_USER_NAME = 'AWS ROOT USER';
const ROOT_DEVICE_SUFFIX = '/root-account-mfa-device';

const COMMANDS = { ...CONTAINMENT_COMMANDS, ...RELEASE_COMMANDS };

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
}

export type MfaTarget = MfaUserTarget | RootMfaTarget;

/** A user after an MFA device event. */
export interface MfaDeviceState {
  target: MfaUserTarget;
  /** Undefined when no user bears the deleted device's name (the event names only the device). */
  user: IamUserFacts | undefined;
  /** Read time, so that decide() stays pure. */
  now: string;
}

/** A user after an MFA device event, or as the sweep found it. */
export type MfaUserState = MfaDeviceState | SweptUserState;

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

/**
 * Whose device the call acted on: the user the request names ("AWS ROOT USER" is the root user); else
 * root-account-mfa-device is the root user's; else, for a deleted device or the root user's call, the owner by the
 * device's name (arn:aws:iam::<account>:mfa/user1 is user1's); else the caller's own (a role session owns none: root).
 */
function targetOf(event: CloudTrailEvent): MfaTarget | Skip {
  const facts = eventFacts(event);
  const serialNumber = requireStringParameter(event, 'serialNumber');
  const named = optionalUserName(event);
  const identity = event.detail.userIdentity;
  const rootTarget: RootMfaTarget = { ...facts, kind: 'root', serialNumber };
  // The root user's name in these records is "AWS ROOT USER", outside IAM's user-name rules.
  if (named === ROOT_USER_NAME) return rootTarget;
  if (named !== undefined) {
    const userName = requireValidName(event, 'detail.requestParameters.userName', named, NAME_RULES.iamUser);
    return { ...facts, kind: 'user', userName, serialNumber, ownerFrom: 'event' };
  }
  if (serialNumber.endsWith(ROOT_DEVICE_SUFFIX)) return rootTarget;
  if (event.detail.eventName === 'DeleteVirtualMFADevice' || identity.type === 'Root') {
    // The event names only the device; by convention (and AWS's self-manage policy) a virtual device bears its user's name.
    const name = deviceName(serialNumber);
    if (name !== undefined) return { ...facts, kind: 'user', userName: name, serialNumber, ownerFrom: 'device-name' };
    if (identity.type === 'Root') return rootTarget;
    return { skip: `${serialNumber} is not a virtual MFA device ARN` };
  }
  if (identity.type === 'IAMUser' && identity.userName) {
    return { ...facts, kind: 'user', userName: identity.userName, serialNumber, ownerFrom: 'caller' };
  }
  // Without a user name the call acts on the caller's own device; a role session owns none, so it was root's (AssumeRoot).
  return rootTarget;
}

/** Steps after the root user's MFA was removed: only root can enrol it again. */
function rootMfaSteps(target: RootMfaTarget): string[] {
  return [
    `Sign in as the root user of ${target.account} and assign an MFA device again (IAM console > Security credentials > Assign MFA device), preferably a hardware key (IAM.6); automation cannot enrol it.`,
    `If ${target.eventName} of ${target.serialNumber} at ${target.eventTime} from ${target.sourceIp ?? 'an unknown IP'} was not planned, treat the root credentials as compromised: change the root password, delete any root access keys, and review CloudTrail for root activity since then.`,
    'In an AWS Organizations member account with centralized root access, the management account can instead delete the root credentials (sts:AssumeRoot).',
  ];
}

export function decideRootMfaChange(target: RootMfaTarget): Decision<never> {
  if (target.eventName === 'EnableMFADevice') {
    return noAction('compliant', `the root user enrolled MFA device ${target.serialNumber}`);
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

export function decideMfaDeviceChange(state: MfaDeviceState, settings: Settings): Decision<QuarantineAction> {
  const { target, user } = state;
  if (user === undefined) {
    // The root user names its own device as it likes: a device of no IAM user that the root user acted on is its own.
    if (target.actorType === 'Root' && target.eventName !== 'DeleteVirtualMFADevice') {
      return decideRootMfaChange({ ...target, kind: 'root' });
    }
    return noAction(
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

/** The rule's decision: after an MFA device event, or for a user the sweep listed. */
export function decideMfaUser(state: MfaUserState, settings: Settings): Decision<QuarantineAction> {
  return 'swept' in state ? decideSweptUser(state, settings) : decideMfaDeviceChange(state, settings);
}

export const mfaQuarantine = defineRule<MfaTarget, MfaUserState, typeof COMMANDS>({
  id: 'iam-user-mfa-quarantine',
  title: 'IAM users who lose their MFA device are quarantined until they enrol one again; root MFA goes to a human',
  severity: 'high',
  controls: ['IAM.5', 'IAM.6', 'IAM.9', 'IAM.19'],
  trigger: { source: 'aws.iam', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...MFA_DEVICE_EVENTS] },
  commands: COMMANDS,
  // The sweep lists the account's users.
  reads: [...IAM_USER_READS, { actions: ['iam:ListUsers'], resource: IAM_USERS }],

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

  decide: decideMfaUser,

  classifyFailure: classifyQuarantineFailure,

  sweep: {
    pass: 'users',
    onlyRegion: IAM_REGION,
    async list(region, token, { aws, sweepId }): Promise<{ items: SweptUser[]; next?: string }> {
      const page = await aws.client(IAMClient, region).send(new ListUsersCommand({ Marker: token }));
      // The page's read time: the quarantine marker of a user it finds.
      const time = new Date().toISOString();
      const items = (page.Users ?? []).flatMap(({ UserName }) =>
        UserName === undefined ? [] : [{ userName: UserName, region, sweepId, time }],
      );
      return { items, next: page.IsTruncated ? page.Marker : undefined };
    },
    async assess(swept: SweptUser, region, ctx) {
      const user = await readIamUser(ctx.aws, region, swept.userName, ctx.settings);
      if (user === undefined) return undefined;
      const state: SweptUserState = { swept, user };
      return {
        name: swept.userName,
        resource: describeIamUser(swept.userName, { account: ctx.account, region }),
        state,
        decision: decideSweptUser(state, ctx.settings),
      };
    },
  },
});
