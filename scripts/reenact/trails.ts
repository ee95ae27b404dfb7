/**
 * Reenactments of the trail triggers: first a fully configured trail (bucket with CloudTrail's bucket policy,
 * multi-region, log file validation, CloudWatch Logs group and role, KMS key, selectors, insights, tags, logging),
 * whose baseline the engine captures; then the event's own call.
 */
import {
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  PutEventSelectorsCommand,
  type PutEventSelectorsCommandInput,
  PutInsightSelectorsCommand,
  type PutInsightSelectorsCommandInput,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
  type UpdateTrailCommandInput,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { cloudTrailStatements } from '../../lib/key-policy.js';
import { captureTrailBaseline } from '../../lib/trail-baselines.js';
import { trailReference } from '../../lib/trails.js';
import { emulatorClientConfig } from '../emulator/client.js';
import { accountAdministers } from '../provision.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

/** CloudTrail's documented bucket policy: it may read the ACL and write under AWSLogs/<account>/. */
export function cloudTrailBucketPolicy(bucket: string, account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });
}

/** The trail key's policy: the account administers it, CloudTrail may encrypt this account's trail logs. */
function cloudTrailKeyPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [accountAdministers(account), ...cloudTrailStatements(account).map((required) => required.statement)],
  });
}

async function ensureBucket(ctx: ReenactContext, region: string, bucket: string) {
  const s3 = new S3Client({ ...emulatorClientConfig(ctx.endpoint, region), forcePathStyle: true });
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
    ctx.notes.push(`created bucket ${bucket} with CloudTrail's bucket policy`);
  } catch (error) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as Error).name)) throw error;
  }
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket, ctx.account) }));
}

async function ensureLogsRole(ctx: ReenactContext, region: string): Promise<string> {
  const iam = new IAMClient(emulatorClientConfig(ctx.endpoint, region));
  const RoleName = 'reenact-cloudtrail-to-cloudwatch-logs';
  try {
    return (await iam.send(new GetRoleCommand({ RoleName }))).Role?.Arn as string;
  } catch {
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    const { Role } = await iam.send(
      new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    );
    return Role?.Arn as string;
  }
}

/** The fully configured trail every trail reenactment starts from; its baseline captured by the engine. */
async function configuredTrail(ctx: ReenactContext, name: string, region: string) {
  const cloudtrail = new CloudTrailClient(emulatorClientConfig(ctx.endpoint, region));
  try {
    await cloudtrail.send(new DeleteTrailCommand({ Name: name }));
    ctx.notes.push(`deleted the existing trail ${name} to start from a known configuration`);
  } catch (error) {
    if ((error as Error).name !== 'TrailNotFoundException') throw error;
  }
  const bucket = `reenact-trail-${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${ctx.account}`.slice(0, 63);
  await ensureBucket(ctx, region, bucket);
  const logGroup = `/driftguard/reenact/cloudtrail/${name}`;
  const logs = new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, region));
  await logs.send(new CreateLogGroupCommand({ logGroupName: logGroup })).catch((error: Error) => {
    if (error.name !== 'ResourceAlreadyExistsException') throw error;
  });
  const role = await ensureLogsRole(ctx, region);
  const { KeyMetadata } = await new KMSClient(emulatorClientConfig(ctx.endpoint, region)).send(
    new CreateKeyCommand({ Description: `reenact key of trail ${name}`, Policy: cloudTrailKeyPolicy(ctx.account) }),
  );
  const { TrailARN } = await cloudtrail.send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: bucket,
      S3KeyPrefix: 'audit',
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      CloudWatchLogsLogGroupArn: `arn:aws:logs:${region}:${ctx.account}:log-group:${logGroup}:*`,
      CloudWatchLogsRoleArn: role,
      KmsKeyId: KeyMetadata?.Arn,
      TagsList: [
        { Key: 'owner', Value: 'security' },
        { Key: 'purpose', Value: 'audit' },
      ],
    }),
  );
  await cloudtrail.send(
    new PutEventSelectorsCommand({
      TrailName: name,
      EventSelectors: [
        {
          ReadWriteType: 'All',
          IncludeManagementEvents: true,
          DataResources: [{ Type: 'AWS::S3::Object', Values: [`arn:aws:s3:::${bucket}-data/`] }],
        },
      ],
    }),
  );
  await cloudtrail.send(
    new PutInsightSelectorsCommand({ TrailName: name, InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }] }),
  );
  await cloudtrail.send(new StartLoggingCommand({ Name: name }));
  await captureTrailBaseline(ctx.engine, name, region, 'reenact');
  ctx.notes.push(`created trail ${TrailARN} fully configured and logging; the engine captured its baseline`);
  return { cloudtrail, bucket };
}

const upperFirst = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

/** CloudTrail records request members lower-camel; the SDK takes them Pascal-case, recursively. */
function pascalKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [upperFirst(k), pascalKeys(v)]));
  }
  return value;
}

function reference(event: CloudTrailEvent) {
  const params = event.detail.requestParameters ?? {};
  const named = String(params.name ?? params.trailName ?? '');
  if (!named) throw new Error(`${event.detail.eventName}: requestParameters names no trail to reenact`);
  return trailReference(named, event.detail.awsRegion);
}

function reenactOnConfiguredTrail(
  call: (cloudtrail: CloudTrailClient, name: string, event: CloudTrailEvent, ctx: ReenactContext) => Promise<void>,
): Reenactment {
  return async (event, ctx) => {
    const { name, region } = reference(event);
    const { cloudtrail } = await configuredTrail(ctx, name, region);
    await call(cloudtrail, name, event, ctx);
    return event;
  };
}

export const trailReenactments: Record<string, Reenactment> = {
  'aws.cloudtrail:DeleteTrail': reenactOnConfiguredTrail(async (cloudtrail, _name, event) => {
    await cloudtrail.send(new DeleteTrailCommand({ Name: String(event.detail.requestParameters?.name) }));
  }),

  'aws.cloudtrail:StopLogging': reenactOnConfiguredTrail(async (cloudtrail, _name, event) => {
    await cloudtrail.send(new StopLoggingCommand({ Name: String(event.detail.requestParameters?.name) }));
  }),

  'aws.cloudtrail:UpdateTrail': reenactOnConfiguredTrail(async (cloudtrail, _name, event, ctx) => {
    const input = pascalKeys(event.detail.requestParameters) as UpdateTrailCommandInput;
    if (input.S3BucketName) await ensureBucket(ctx, reference(event).region, input.S3BucketName);
    await cloudtrail.send(new UpdateTrailCommand(input));
  }),

  'aws.cloudtrail:PutEventSelectors': reenactOnConfiguredTrail(async (cloudtrail, _name, event) => {
    await cloudtrail.send(
      new PutEventSelectorsCommand(pascalKeys(event.detail.requestParameters) as PutEventSelectorsCommandInput),
    );
  }),

  'aws.cloudtrail:PutInsightSelectors': reenactOnConfiguredTrail(async (cloudtrail, _name, event) => {
    await cloudtrail.send(
      new PutInsightSelectorsCommand(pascalKeys(event.detail.requestParameters) as PutInsightSelectorsCommandInput),
    );
  }),

  async 'aws.cloudtrail:CreateTrail'(event, ctx) {
    const { name, region } = reference(event);
    const input = pascalKeys(event.detail.requestParameters) as { S3BucketName?: string } & Record<string, unknown>;
    const cloudtrail = new CloudTrailClient(emulatorClientConfig(ctx.endpoint, region));
    await cloudtrail.send(new DeleteTrailCommand({ Name: name })).catch((error: Error) => {
      if (error.name !== 'TrailNotFoundException') throw error;
    });
    if (input.S3BucketName) await ensureBucket(ctx, region, input.S3BucketName);
    await cloudtrail.send(new CreateTrailCommand({ ...input, Name: name } as never));
    return event;
  },
};
