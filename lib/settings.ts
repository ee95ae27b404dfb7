/** The engine's settings: one typed object, read once at cold start from DRIFTGUARD_ variables. */

/** The only retentionInDays values CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS_ALLOWED = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export type Mode = 'enforce' | 'notify';

export interface Settings {
  mode: Mode;
  /** KMS key ARN, alias ARN or alias name associated with log groups that have no key. */
  logKmsKey: string | undefined;
  logRetentionDays: number;
  logRetentionMinDays: number | undefined;
  logRetentionMaxDays: number | undefined;
  noticeTopicArn: string | undefined;
  exemptTag: string;
  exemptLogGroupPrefixes: string[];
  stateTable: string | undefined;
  /** DRIFTGUARD_ENGINE_ROLE_ARNS: the engine's own roles; their calls are its own, and ignored. */
  engineRoleArns: string[];
  /** DRIFTGUARD_MFA_DEACTIVATE_KEYS: also set a quarantined user's active access keys Inactive. */
  mfaDeactivateKeys: boolean;
  /** DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: the stack's managed policy driftguard-<stage>-mfa-quarantine. */
  mfaQuarantinePolicyArn: string | undefined;
  /** DRIFTGUARD_FORWARD_ROLE_ARN: the role EventBridge forwards other regions' events home with; unset: no forwarders. */
  forwardRoleArn: string | undefined;
  /** DRIFTGUARD_FORWARDER_NAME: the forwarding rule's name in every other region (deployed: driftguard-<stage>-forward). */
  forwarderName: string;
  /** DRIFTGUARD_FORWARD_REGIONS: the regions that get a forwarder; undefined: every region the sweep covers. */
  forwardRegions: string[] | undefined;
  /** The stack's custom-resource requests: whose they must be, and where their answers may go. */
  customResource: CustomResourceSettings;
  /** DRIFTGUARD_STAGE: the deployed stack's stage (names the engine's own alarms and filters); unset locally. */
  stage: string | undefined;
  /** DRIFTGUARD_ACTIVITY_TRAIL: the trail (name or ARN) whose log group carries the activity alarms; unset: the home region's multi-region trail. */
  activityTrail: string | undefined;
  /** DRIFTGUARD_ACTIVITY_LOG_GROUP: the stack's log group a trail delivering to none is linked to. */
  activityLogGroup: string | undefined;
  /** DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: the role CloudTrail assumes to deliver to that log group. */
  activityDeliveryRoleArn: string | undefined;
  /** DRIFTGUARD_GUARDDUTY_ENABLE_MISSING: a swept region with no GuardDuty detector gets one (default true). */
  guarddutyEnableMissing: boolean;
}

/**
 * DRIFTGUARD_STACK_ID: the stack's own ARN (the template sets it from AWS::StackId); a custom-resource request of any
 * other stack is malformed, and without it every one is. DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL=allow lets a ResponseURL
 * on loopback stand in for CloudFormation's S3 host: only the tests and the emulator set it, never the stack.
 */
export interface CustomResourceSettings {
  stackId: string | undefined;
  loopbackResponseUrl: boolean;
}

const STACK_ARN_PATTERN =
  /^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][A-Za-z0-9-]{0,127}\/[A-Za-z0-9-]+$/;

export function readCustomResourceSettings(env: Env = process.env): CustomResourceSettings {
  return {
    stackId: readMatching(env, 'DRIFTGUARD_STACK_ID', STACK_ARN_PATTERN, 'values are a CloudFormation stack ARN'),
    loopbackResponseUrl:
      readChoice(env, 'DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL', ['allow', 'deny'] as const, 'deny') === 'allow',
  };
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

type Env = Record<string, string | undefined>;

const KMS_KEY_PATTERN =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|alias\/[A-Za-z0-9/_-]+)$/;
const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
/** An AWS region name, like eu-west-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// EventBridge's rule-name rules; driftguard's forwarders are named driftguard-...forward... so that a reader sees whose they are.
const FORWARDER_NAME_PATTERN = /^driftguard-[.\-_A-Za-z0-9]*forward[.\-_A-Za-z0-9]*$/;
// CloudTrail's trail names (3-128 of letters, digits, . _ -, starting and ending with a letter or digit) or a trail ARN.
const TRAIL_PATTERN =
  /^([A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9])$/;
// A Serverless stage as it appears in the engine's resource names.
const STAGE_PATTERN = /^[A-Za-z0-9-]{1,32}$/;
const POLICY_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:policy\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function invalid(name: string, value: string, allowed: string): never {
  throw new SettingsError(`${name}=${JSON.stringify(value)} is invalid: allowed ${allowed}`);
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) invalid(name, value, `values are ${choices.join(', ')}`);
  return value as T;
}

function readRetention(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const days = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(LOG_RETENTION_DAYS_ALLOWED as readonly number[]).includes(days)) {
    invalid(name, value, `values (days) are ${LOG_RETENTION_DAYS_ALLOWED.join(', ')}`);
  }
  return days;
}

function readMatching(env: Env, name: string, pattern: RegExp, allowed: string): string | undefined {
  const value = read(env, name);
  if (value !== undefined && !pattern.test(value)) invalid(name, value, allowed);
  return value;
}

export function loadSettings(env: Env = process.env): Settings {
  const min = readRetention(env, 'DRIFTGUARD_LOG_RETENTION_MIN_DAYS');
  const max = readRetention(env, 'DRIFTGUARD_LOG_RETENTION_MAX_DAYS');
  if (min !== undefined && max !== undefined && min > max) {
    throw new SettingsError(
      `DRIFTGUARD_LOG_RETENTION_MIN_DAYS=${min} is greater than DRIFTGUARD_LOG_RETENTION_MAX_DAYS=${max}: the minimum must not exceed the maximum`,
    );
  }
  const days = readRetention(env, 'DRIFTGUARD_LOG_RETENTION_DAYS') ?? clampRetention(365, min, max);
  if ((min !== undefined && days < min) || (max !== undefined && days > max)) {
    throw new SettingsError(
      `DRIFTGUARD_LOG_RETENTION_DAYS=${days} is outside DRIFTGUARD_LOG_RETENTION_MIN_DAYS..MAX_DAYS (${min ?? 'unset'}..${max ?? 'unset'}): allowed values lie within the bounds`,
    );
  }
  const logKmsKey = readMatching(
    env,
    'DRIFTGUARD_LOG_KMS_KEY',
    KMS_KEY_PATTERN,
    'values are a KMS key ARN, an alias ARN, or an alias name (alias/...)',
  );
  if (logKmsKey !== undefined && /(^|:)alias\/aws\//.test(logKmsKey)) {
    invalid('DRIFTGUARD_LOG_KMS_KEY', logKmsKey, 'values are customer managed keys (alias/aws/... are AWS managed)');
  }
  const exemptTag = readMatching(env, 'DRIFTGUARD_EXEMPT_TAG', /^.{1,128}$/u, 'a tag key of 1 to 128 characters');
  return {
    ...readMfaSettings(env),
    ...readForwarderSettings(env),
    customResource: readCustomResourceSettings(env),
    ...readActivitySettings(env),
    guarddutyEnableMissing:
      readChoice(env, 'DRIFTGUARD_GUARDDUTY_ENABLE_MISSING', ['true', 'false'] as const, 'true') === 'true',
    mode: readChoice(env, 'DRIFTGUARD_MODE', ['enforce', 'notify'] as const, 'enforce'),
    logKmsKey,
    logRetentionDays: days,
    logRetentionMinDays: min,
    logRetentionMaxDays: max,
    noticeTopicArn: readMatching(env, 'DRIFTGUARD_NOTICE_TOPIC_ARN', TOPIC_ARN_PATTERN, 'values are an SNS topic ARN'),
    exemptTag: exemptTag ?? 'driftguard:exempt',
    exemptLogGroupPrefixes: readList(env, 'DRIFTGUARD_EXEMPT_LOG_GROUPS', /./, 'log group name prefixes'),
    stateTable: readMatching(env, 'DRIFTGUARD_STATE_TABLE', TABLE_PATTERN, 'values are a DynamoDB table name'),
    engineRoleArns: readList(
      env,
      'DRIFTGUARD_ENGINE_ROLE_ARNS',
      ROLE_ARN_PATTERN,
      'IAM role ARNs (arn:aws:iam::<account>:role/<name>)',
    ),
  };
}

/** A comma-separated list: each item must match, or the setting names the item that does not. */
function readList(env: Env, name: string, pattern: RegExp, allowed: string): string[] {
  const items = (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) if (!pattern.test(item)) invalid(name, item, `values are comma-separated ${allowed}`);
  return items;
}

/** Settings still set but no longer read: each gives one start-up warning naming what replaced it. */
export function ignoredSettingWarnings(env: Env = process.env): string[] {
  return read(env, 'DRIFTGUARD_ENGINE_ROLE_PREFIX') === undefined
    ? []
    : [
        'DRIFTGUARD_ENGINE_ROLE_PREFIX is ignored: a role name prefix is no proof of identity (anyone may name a role like ' +
          "the engine's); the engine's own roles are the exact ARNs in DRIFTGUARD_ENGINE_ROLE_ARNS",
      ];
}

/** The nearest retention inside the bounds: a value below MIN becomes MIN, above MAX becomes MAX. */
export function clampRetention(days: number, min: number | undefined, max: number | undefined): number {
  if (min !== undefined && days < min) return min;
  if (max !== undefined && days > max) return max;
  return days;
}

export type MfaSettings = Pick<Settings, 'mfaDeactivateKeys' | 'mfaQuarantinePolicyArn'>;

export function readMfaSettings(env: Env = process.env): MfaSettings {
  return {
    mfaDeactivateKeys:
      readChoice(env, 'DRIFTGUARD_MFA_DEACTIVATE_KEYS', ['true', 'false'] as const, 'false') === 'true',
    mfaQuarantinePolicyArn: readMatching(
      env,
      'DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN',
      POLICY_ARN_PATTERN,
      'values are an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)',
    ),
  };
}

/** A comma-separated list of regions (`--regions`, region settings), deduplicated; undefined when empty. */
export function parseRegions(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const regions = text
    .split(',')
    .map((region) => region.trim())
    .filter(Boolean);
  const bad = regions.find((region) => !REGION_PATTERN.test(region));
  if (bad) throw new Error(`region "${bad}" is not an AWS region (like eu-west-1)`);
  return [...new Set(regions)];
}

export type ForwarderSettings = Pick<Settings, 'forwardRoleArn' | 'forwarderName' | 'forwardRegions'>;

export function readForwarderSettings(env: Env = process.env): ForwarderSettings {
  const text = read(env, 'DRIFTGUARD_FORWARD_REGIONS');
  const bad = text?.split(',').find((region) => region.trim() !== '' && !REGION_PATTERN.test(region.trim()));
  if (bad !== undefined)
    invalid('DRIFTGUARD_FORWARD_REGIONS', bad.trim(), 'values are AWS region names (like eu-west-1), comma-separated');
  const name = readMatching(
    env,
    'DRIFTGUARD_FORWARDER_NAME',
    FORWARDER_NAME_PATTERN,
    'values are an EventBridge rule name that starts with driftguard- and contains forward (up to 62 of A-Z a-z 0-9 . - _)',
  );
  // The further forwarders are named <name>-2 ... <name>-4: each must stay within EventBridge's 64 characters.
  if (name !== undefined && name.length > 62)
    invalid(
      'DRIFTGUARD_FORWARDER_NAME',
      name,
      'names of up to 62 characters (the further forwarders end in -2, -3, -4)',
    );
  return {
    forwardRoleArn: readMatching(
      env,
      'DRIFTGUARD_FORWARD_ROLE_ARN',
      ROLE_ARN_PATTERN,
      'values are an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    ),
    forwarderName: name ?? 'driftguard-forward',
    forwardRegions: parseRegions(text),
  };
}

export type ActivitySettings = Pick<
  Settings,
  'stage' | 'activityTrail' | 'activityLogGroup' | 'activityDeliveryRoleArn'
>;

export function readActivitySettings(env: Env = process.env): ActivitySettings {
  return {
    stage: readMatching(env, 'DRIFTGUARD_STAGE', STAGE_PATTERN, 'values are 1 to 32 of A-Z a-z 0-9 -'),
    activityTrail: readMatching(
      env,
      'DRIFTGUARD_ACTIVITY_TRAIL',
      TRAIL_PATTERN,
      'values are a CloudTrail trail name (3 to 128 of A-Z a-z 0-9 . _ -) or trail ARN',
    ),
    activityLogGroup: readMatching(
      env,
      'DRIFTGUARD_ACTIVITY_LOG_GROUP',
      /^[.\-_/#A-Za-z0-9]{1,512}$/,
      'values are a log group name (1 to 512 of A-Z a-z 0-9 . - _ / #)',
    ),
    activityDeliveryRoleArn: readMatching(
      env,
      'DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN',
      ROLE_ARN_PATTERN,
      'values are an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    ),
  };
}

/** The log backup's settings (lib/backup/): read by the backup job alone, so that a bad one stops only the backup. */
export interface BackupSettings {
  /** DRIFTGUARD_BACKUP_BUCKET: the home region's bucket (deployed: the stack's, or the backupBucket param). */
  bucket: string | undefined;
  /** DRIFTGUARD_BACKUP_BUCKETS: the bucket of each other region (region=bucket pairs); a bucket must be in its region. */
  regionBuckets: Record<string, string>;
  /** DRIFTGUARD_BACKUP_PREFIX: where in the bucket the exports go (`<prefix>/<region>/<group>/<yyyy>/<mm>/<dd>/`). */
  prefix: string;
  /** DRIFTGUARD_BACKUP_LOG_GROUPS: the log group name prefixes backed up; empty: every group. */
  logGroupPrefixes: string[];
  /** DRIFTGUARD_BACKUP_SINCE_DAYS: how many finished days back a group seen for the first time starts (1: yesterday). */
  sinceDays: number;
  /**
   * DRIFTGUARD_BACKUP_SETTLE_HOURS: how long after a UTC day ends it is exported (default 24, at least 12: CloudWatch
   * Logs says log data can take up to 12 hours to become available for export).
   */
  settleHours: number;
}

// S3's bucket naming rules (no dots next to each other or to a dash, no IP-address form checked here).
const BUCKET_PATTERN = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// S3 key characters that need no encoding; no leading or trailing slash, no empty segment.
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
// CloudWatch Logs' log group name characters.
const LOG_GROUP_PREFIX_PATTERN = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const BUCKET_ALLOWED = 'S3 bucket names (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit)';

export function readBackupSettings(env: Env = process.env): BackupSettings {
  const regionBuckets: Record<string, string> = {};
  for (const pair of readList(env, 'DRIFTGUARD_BACKUP_BUCKETS', /=/, 'region=bucket pairs (eu-west-1=my-bucket)')) {
    const [region = '', bucket = ''] = pair.split('=').map((part) => part.trim());
    if (!REGION_PATTERN.test(region))
      invalid('DRIFTGUARD_BACKUP_BUCKETS', pair, 'region=bucket pairs whose region is an AWS region (like eu-west-1)');
    if (!BUCKET_PATTERN.test(bucket))
      invalid('DRIFTGUARD_BACKUP_BUCKETS', pair, `region=bucket pairs of ${BUCKET_ALLOWED}`);
    if (regionBuckets[region] !== undefined && regionBuckets[region] !== bucket)
      invalid('DRIFTGUARD_BACKUP_BUCKETS', pair, 'one bucket per region');
    regionBuckets[region] = bucket;
  }
  const since = read(env, 'DRIFTGUARD_BACKUP_SINCE_DAYS');
  const sinceDays = since === undefined ? 1 : /^\d{1,4}$/.test(since) ? Number(since) : Number.NaN;
  if (!(sinceDays >= 1 && sinceDays <= 3653) && since !== undefined)
    invalid('DRIFTGUARD_BACKUP_SINCE_DAYS', since, 'values are whole days from 1 (yesterday) to 3653');
  const settle = read(env, 'DRIFTGUARD_BACKUP_SETTLE_HOURS');
  const settleHours = settle === undefined ? 24 : /^\d{1,3}$/.test(settle) ? Number(settle) : Number.NaN;
  if (!(settleHours >= 12 && settleHours <= 336))
    invalid(
      'DRIFTGUARD_BACKUP_SETTLE_HOURS',
      settle ?? '',
      'values are whole hours from 12 (CloudWatch Logs: data can take up to 12 hours to become exportable) to 336',
    );
  const prefix = readMatching(
    env,
    'DRIFTGUARD_BACKUP_PREFIX',
    KEY_PREFIX_PATTERN,
    "values are an S3 key prefix without leading or trailing slash (segments of A-Z a-z 0-9 ! _ . * ' ( ) -)",
  );
  if (prefix !== undefined && prefix.length > 200) invalid('DRIFTGUARD_BACKUP_PREFIX', prefix, 'up to 200 characters');
  return {
    bucket: readMatching(env, 'DRIFTGUARD_BACKUP_BUCKET', BUCKET_PATTERN, `values are ${BUCKET_ALLOWED}`),
    regionBuckets,
    prefix: prefix ?? 'exported-logs',
    logGroupPrefixes: readList(
      env,
      'DRIFTGUARD_BACKUP_LOG_GROUPS',
      LOG_GROUP_PREFIX_PATTERN,
      'log group name prefixes',
    ),
    sinceDays,
    settleHours,
  };
}
