/**
 * Console sign-ins without MFA: the root user's is critical and goes to a human; an IAM user's is high, and a user
 * with no MFA device is quarantined as mfa-quarantine does (same policy, tag and key handling).
 * Federated sign-ins (roles, IAM Identity Center) are the identity provider's to protect with MFA.
 */
import { type CloudTrailEvent, MalformedEventError } from '../envelope.js';
import { describeIamUser, describeRootUser, IAM_USER_READS, type IamUserFacts, readIamUser } from '../iam-users.js';
import { decideContainment, forHuman, quarantineMarker } from '../mfa/containment.js';
import { type EventFacts, eventFacts, UnreachableMfaCaseError } from '../mfa/event-facts.js';
import { CONTAINMENT_COMMANDS, type ContainmentAction, classifyQuarantineFailure } from '../mfa/quarantine-actions.js';
import { type Decision, defineRule, type Finding, noAction, type Skip } from '../rule.js';
import type { Settings } from '../settings.js';

/** CloudTrail's docs spell it "Signin"; real sign-in events say "Sign In": both are matched. */
export const SIGN_IN_DETAIL_TYPES = ['AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'];

export interface SignInTarget extends EventFacts {
  kind: 'user' | 'root';
  /** The IAM user who signed in (undefined for root). */
  userName: string | undefined;
  mfaUsed: boolean;
}

export interface SignInState {
  target: SignInTarget & { userName: string };
  user: IamUserFacts;
  /** Read time, so that decide() stays pure. */
  now: string;
}

function signInResult(event: CloudTrailEvent): string | undefined {
  const response = event.detail.responseElements;
  if (response === null || typeof response !== 'object') return undefined;
  const result = (response as Record<string, unknown>).ConsoleLogin;
  return typeof result === 'string' ? result : undefined;
}

/** MFAUsed is "Yes"/"No", and "YES" in AWS's own root example: compared without case. */
function usedMfa(event: CloudTrailEvent): boolean {
  const value = event.detail.additionalEventData?.MFAUsed;
  return typeof value === 'string' && value.toLowerCase() === 'yes';
}

/** "an AssumedRole", "a FederatedUser": identity types that start with a vowel take "an". */
function withArticle(identityType: string): string {
  return `${/^[AEIOU]/i.test(identityType) ? 'an' : 'a'} ${identityType}`;
}

function targetOf(event: CloudTrailEvent): SignInTarget | Skip {
  const result = signInResult(event);
  if (result !== 'Success') return { skip: `the sign-in did not succeed (ConsoleLogin ${result ?? 'not recorded'})` };
  const identity = event.detail.userIdentity;
  const facts = { ...eventFacts(event), mfaUsed: usedMfa(event) };
  if (identity.type === 'Root') return { ...facts, kind: 'root', userName: undefined };
  if (identity.type !== 'IAMUser') {
    return {
      skip: `${withArticle(identity.type)} sign-in: MFA is the identity provider's to enforce (federation, IAM Identity Center)`,
    };
  }
  const userName = identity.userName ?? identity.arn?.split('/').pop();
  if (!userName) {
    throw new MalformedEventError(
      `ConsoleLogin event ${event.detail.eventID}: an IAMUser sign-in must name the user (userIdentity.userName or arn)`,
    );
  }
  return { ...facts, kind: 'user', userName };
}

function signInFinding(target: SignInTarget): Finding {
  return {
    attribute: 'consoleSignIn',
    before: `without MFA at ${target.eventTime} from ${target.sourceIp ?? 'an unknown IP'}`,
    after: 'every console sign-in uses MFA',
  };
}

export function decideRootSignIn(target: SignInTarget): Decision<never> {
  return forHuman(
    `the root user signed in to the console without MFA from ${target.sourceIp ?? 'an unknown IP'}`,
    [
      `Sign in as the root user of ${target.account} and assign an MFA device (IAM console > Security credentials > Assign MFA device), preferably a hardware key (IAM.6); automation cannot enrol it.`,
      `If this sign-in at ${target.eventTime} from ${target.sourceIp ?? 'an unknown IP'} was not expected, treat the root password as compromised: change it and review CloudTrail for root activity since then.`,
    ],
    'critical',
    [signInFinding(target)],
  );
}

/** An IAM user signed in without MFA: quarantined when they have no device, a notice otherwise. */
export function decideConsoleSignIn(state: SignInState, settings: Settings): Decision<ContainmentAction> {
  const { target, user } = state;
  const finding = signInFinding(target);
  if (user.mfaDevices.length > 0) {
    return forHuman(
      `${user.userName} signed in without MFA although MFA device ${user.mfaDevices.join(', ')} is assigned`,
      [
        `${user.userName} has MFA device ${user.mfaDevices.join(', ')} yet signed in without MFA at ${target.eventTime} from ${target.sourceIp ?? 'an unknown IP'}: find out how (the device may have been enrolled since), and reset the password if the sign-in was not theirs.`,
      ],
      'high',
      [finding],
    );
  }
  // A user already quarantined signs in without MFA to enrol a device: compliant, as nothing is left to do.
  return decideContainment(user, settings, {
    finding,
    marker: quarantineMarker(state.now, target.eventName, target.eventId),
  });
}

export const consoleSignInMfa = defineRule<SignInTarget, SignInState, typeof CONTAINMENT_COMMANDS>({
  id: 'console-signin-mfa',
  title: 'Console sign-ins use MFA: root without MFA goes to a human, an IAM user without a device is quarantined',
  severity: 'high',
  controls: ['IAM.5', 'IAM.9', 'IAM.19'],
  trigger: { source: 'aws.signin', detailTypes: SIGN_IN_DETAIL_TYPES, eventNames: ['ConsoleLogin'] },
  commands: CONTAINMENT_COMMANDS,
  reads: IAM_USER_READS,

  target: targetOf,

  describe(target) {
    return target.userName === undefined ? describeRootUser(target) : describeIamUser(target.userName, target);
  },

  preScreen(target) {
    if (target.mfaUsed) return noAction('compliant', 'signed in with MFA');
    return target.kind === 'root' ? decideRootSignIn(target) : undefined;
  },

  async inspect(target, { aws, settings }) {
    const { userName } = target;
    if (userName === undefined) throw new UnreachableMfaCaseError('root sign-ins are decided without inspection');
    const user = await readIamUser(aws, target.region, userName, settings);
    if (user === undefined) return undefined;
    return { target: { ...target, userName }, user, now: new Date().toISOString() };
  },

  decide: decideConsoleSignIn,

  classifyFailure: classifyQuarantineFailure,
});
