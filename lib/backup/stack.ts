/**
 * What the stack holds for the log backup (scripts/serverless-manifest.ts adds it): the scheduled function, its
 * least-privilege role, and (unless the backupBucket param names one) the backup bucket in the home region with its
 * policy. The bucket policy is one function for the stack and the emulator's provisioning alike.
 */

import type { PolicyStatement } from '../manifest.js';
import { STATE_TABLE_ARN } from '../rule.js';
import { readBackupSettings, SettingsError } from '../settings.js';

/** Where in the bucket the exports go; the bucket policy lets CloudWatch Logs write under it alone. */
export const BACKUP_PREFIX = 'exported-logs';
export const BACKUP_FUNCTION_KEY = 'backup';

export interface BucketPolicyNames {
  partition: string;
  bucket: string;
  region: string;
  account: string;
  prefix: string;
}

/**
 * The bucket's policy: TLS only; CloudWatch Logs of the bucket's region may read the bucket's ACL and put objects
 * under the prefix with bucket-owner-full-control, for this account's log groups alone (aws:SourceAccount).
 */
export function backupBucketPolicy({ partition, bucket, region, account, prefix }: BucketPolicyNames) {
  const bucketArn = `arn:${partition}:s3:::${bucket}`;
  const logs = { Service: `logs.${region}.amazonaws.com` };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'CloudWatchLogsChecksBucketAcl',
        Effect: 'Allow',
        Principal: logs,
        Action: 's3:GetBucketAcl',
        Resource: bucketArn,
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
      {
        Sid: 'CloudWatchLogsWritesExports',
        Effect: 'Allow',
        Principal: logs,
        Action: 's3:PutObject',
        Resource: `${bucketArn}/${prefix}/*`,
        Condition: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': account },
        },
      },
    ],
  };
}

/** A template value with every string that names a ${...} wrapped in Fn::Sub. */
function sub(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('${') ? { 'Fn::Sub': value } : value;
  if (Array.isArray(value)) return value.map(sub);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sub(v)]));
  return value;
}

export interface BackupStackOptions {
  stage: string;
  functionName: string;
  /** The backupBucket param: empty for the stack's own bucket. */
  bucket: string;
  schedule: string;
  coldAfterDays: number;
  /** The rest of the backup's settings, as the function's environment. */
  environment: Record<string, string>;
}

/** What the backup role may reach: the regions backed up, the groups selected, the buckets exported to. */
export interface BackupScope {
  /** Regions other than the stack's (DRIFTGUARD_BACKUP_BUCKETS' regions); the stack's own is always in. */
  otherRegions: string[];
  /** DRIFTGUARD_BACKUP_LOG_GROUPS: name prefixes; empty: every group. */
  logGroupPrefixes: string[];
  /** Bucket names, or template values (the stack's own: ${BackupBucket}). */
  buckets: string[];
}

const logGroupArn = (region: string, name: string) =>
  `arn:\${AWS::Partition}:logs:${region}:\${AWS::AccountId}:log-group:${name}`;

/**
 * The backup role: list groups and export the selected ones in the regions backed up, follow its tasks, write
 * exports to its own buckets (CreateExportTask's caller must be able to write to the bucket) and check them
 * (HeadBucket), its own records, its notices; nothing else.
 */
export function backupRoleStatements(functionName: string, scope: BackupScope): PolicyStatement[] {
  const regions = ['${AWS::Region}', ...scope.otherRegions];
  const groups = scope.logGroupPrefixes.length > 0 ? scope.logGroupPrefixes.map((prefix) => `${prefix}*`) : ['*'];
  const inAccount = { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } };
  return [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`,
      },
    },
    {
      Effect: 'Allow',
      Action: ['logs:DescribeLogGroups'],
      Resource: regions.map((region) => ({ 'Fn::Sub': logGroupArn(region, '*') })),
    },
    {
      Effect: 'Allow',
      Action: ['logs:CreateExportTask'],
      Resource: regions.flatMap((region) => groups.map((group) => ({ 'Fn::Sub': logGroupArn(region, group) }))),
    },
    // DescribeExportTasks takes no resource type (IAM's service authorization reference): "*".
    { Effect: 'Allow', Action: ['logs:DescribeExportTasks'], Resource: '*' },
    // Exports under the prefix of its own buckets only, in this account only (a squatted name is another account's).
    {
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: scope.buckets.map((bucket) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}/${BACKUP_PREFIX}/*`,
      })),
      Condition: inAccount,
    },
    {
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: scope.buckets.map((bucket) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}` })),
      Condition: inAccount,
    },
    { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'NoticeTopic' } },
    { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': ['LogKey', 'Arn'] } },
    // Its own records only: every partition key it reads or writes starts with backup#.
    {
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      Resource: { 'Fn::Sub': STATE_TABLE_ARN },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['backup#*'] } },
    },
  ];
}

/** The function and (for the stack's own bucket) the bucket and its policy; the role is backupRoleStatements'. */
export function backupStack(options: BackupStackOptions) {
  // Bad params stop the packaging, named as the function would name them at its start.
  const settings = readBackupSettings({ ...options.environment, DRIFTGUARD_BACKUP_BUCKET: options.bucket });
  if (!Number.isInteger(options.coldAfterDays) || options.coldAfterDays < 0)
    throw new SettingsError(
      `backupColdAfterDays=${options.coldAfterDays} is invalid: allowed values are whole days from 0`,
    );
  const ownBucket = options.bucket === '';
  const bucketEnv = ownBucket ? { Ref: 'BackupBucket' } : options.bucket;
  const fn = {
    name: options.functionName,
    handler: 'index.handler',
    description: 'Exports every finished day of every selected log group to the backup bucket, one task at a time',
    role: 'BackupRole',
    package: { artifact: `.build/${BACKUP_FUNCTION_KEY}.zip` },
    environment: { ...options.environment, DRIFTGUARD_BACKUP_BUCKET: bucketEnv },
    timeout: 900,
    memorySize: 256,
    reservedConcurrency: 1,
    maximumRetryAttempts: 0,
    events: [
      { schedule: { rate: [options.schedule], input: { continue: false } } },
      // The sweep's tick: continues a run left open while work is left (nothing to do otherwise).
      { schedule: { rate: ['rate(15 minutes)'], input: { continue: true } } },
    ],
  };
  const resources: Record<string, unknown> = {};
  if (ownBucket) {
    resources.BackupBucket = {
      Type: 'AWS::S3::Bucket',
      // The backups outlive the stack.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: { 'Fn::Sub': `driftguard-${options.stage}-backup-\${AWS::AccountId}-\${AWS::Region}` },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': ['LogKey', 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'colder-after-days',
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: options.coldAfterDays }],
              NoncurrentVersionTransitions: [{ StorageClass: 'GLACIER', TransitionInDays: options.coldAfterDays }],
            },
          ],
        },
      },
    };
    resources.BackupBucketPolicy = {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'BackupBucket' },
        PolicyDocument: sub(
          backupBucketPolicy({
            partition: '${AWS::Partition}',
            bucket: '${BackupBucket}',
            region: '${AWS::Region}',
            account: '${AWS::AccountId}',
            prefix: BACKUP_PREFIX,
          }),
        ),
      },
    };
  }
  const scope: BackupScope = {
    otherRegions: Object.keys(settings.regionBuckets).sort(),
    logGroupPrefixes: settings.logGroupPrefixes,
    buckets: [ownBucket ? '${BackupBucket}' : options.bucket, ...Object.values(settings.regionBuckets)].filter(
      (bucket, index, all) => all.indexOf(bucket) === index,
    ),
  };
  return { function: fn, resources, roleStatements: backupRoleStatements(options.functionName, scope) };
}
