/**
 * An IAM user as the MFA rules see it: read from IAM (devices, password, keys, the quarantine policy, the engine's
 * tags), and described for notices. The root user is described here too, for the events that concern it.
 */
import {
  GetLoginProfileCommand,
  IAMClient,
  paginateListAccessKeys,
  paginateListAttachedUserPolicies,
  paginateListMFADevices,
  paginateListUserTags,
} from '@aws-sdk/client-iam';
import { type AwsClients, awsErrorName } from './aws.js';
import { QuarantineRecords } from './mfa/quarantine-records.js';
import type { PermissionDeclaration, Resource } from './rule.js';
import type { Settings } from './settings.js';

/** IAM is global: its events reach EventBridge in us-east-1, where the MFA guard runs and the sweep reads users. */
export const IAM_REGION = 'us-east-1';

/** Set on a quarantined user: when and after which event, a marker for humans (never read: the record is the truth). */
export const QUARANTINE_TAG = 'driftguard:quarantined';
/** Written by earlier versions as the key list; never read, removed on release. */
export const QUARANTINED_KEYS_TAG = 'driftguard:quarantined-keys';

/** Every IAM user of the account (a CloudFormation Fn::Sub template). */
export const IAM_USERS = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*';

/** What readIamUser calls. */
export const IAM_USER_READS: PermissionDeclaration[] = [
  {
    actions: [
      'iam:ListMFADevices',
      'iam:GetLoginProfile',
      'iam:ListAccessKeys',
      'iam:ListAttachedUserPolicies',
      'iam:ListUserTags',
    ],
    resource: IAM_USERS,
  },
];

/** An IAM user's present state, as far as MFA containment needs it. */
export interface IamUserFacts {
  userName: string;
  mfaDevices: string[];
  hasPassword: boolean;
  accessKeys: { id: string; active: boolean }[];
  exempt: boolean;
  /** Since when the engine's record (state table) says the user is quarantined; undefined when it has none. */
  quarantinedSince: string | undefined;
  /** The access keys the engine's record says it set Inactive (never the user's tags). */
  recordedKeys: string[];
  /** The configured quarantine policy is attached. */
  policyAttached: boolean;
}

/** IAM's "not found", for a user, a policy or an access key alike. */
export const isNoSuchEntity = (error: unknown) =>
  ['NoSuchEntityException', 'NoSuchEntity'].includes(awsErrorName(error) ?? '');

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
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
  return pages.flatMap((page) => page.MFADevices ?? []).flatMap((device) => device.SerialNumber ?? []);
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
  const [hasPassword, keyPages, policyPages, tagPages, quarantine] = await Promise.all([
    hasLoginProfile(iam, userName),
    collect(paginateListAccessKeys({ client: iam }, { UserName: userName })),
    collect(paginateListAttachedUserPolicies({ client: iam }, { UserName: userName })),
    collect(paginateListUserTags({ client: iam }, { UserName: userName })),
    settings.stateTable ? new QuarantineRecords(aws, settings.stateTable).get(userName) : undefined,
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
      .flatMap((key) =>
        key.AccessKeyId === undefined ? [] : [{ id: key.AccessKeyId, active: key.Status === 'Active' }],
      ),
    exempt: exemptValue !== undefined && exemptValue !== 'false',
    quarantinedSince: quarantine?.since,
    recordedKeys: quarantine?.keys ?? [],
    policyAttached:
      policyArn !== undefined &&
      policyPages.flatMap((page) => page.AttachedPolicies ?? []).some((policy) => policy.PolicyArn === policyArn),
  };
}

/** Whether the user exists (its MFA devices can be listed). */
export async function iamUserExists(aws: AwsClients, region: string, userName: string): Promise<boolean> {
  try {
    await mfaSerials(aws.client(IAMClient, region), userName);
    return true;
  } catch (error) {
    if (isNoSuchEntity(error)) return false;
    throw error;
  }
}

export function describeIamUser(userName: string, where: { account: string; region: string }): Resource {
  return {
    type: 'IAM user',
    id: userName,
    arn: `arn:aws:iam::${where.account}:user/${userName}`,
    region: where.region,
    consoleUrl: `https://us-east-1.console.aws.amazon.com/iam/home#/users/details/${encodeURIComponent(userName)}?section=security_credentials`,
  };
}

export function describeRootUser(where: { account: string; region: string }): Resource {
  return {
    type: 'root user of',
    id: where.account,
    arn: `arn:aws:iam::${where.account}:root`,
    region: where.region,
    consoleUrl: 'https://us-east-1.console.aws.amazon.com/iam/home#/security_credentials',
  };
}
