/**
 * Reenactments of the AWS Config triggers: first the region's recording as the controls want it (a bucket with Config's
 * bucket policy, a role Config assumes, a recorder recording every supported type with the global ones, continuously,
 * its delivery channel, started), whose baseline the engine captures; then the event's own call, in the event's region.
 */
import {
  ConfigServiceClient,
  DeleteConfigurationRecorderCommand,
  DeleteDeliveryChannelCommand,
  DescribeConfigurationRecordersCommand,
  DescribeDeliveryChannelsCommand,
  PutConfigurationRecorderCommand,
  type PutConfigurationRecorderCommandInput,
  PutDeliveryChannelCommand,
  type PutDeliveryChannelCommandInput,
  StartConfigurationRecorderCommand,
  StopConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { captureConfigBaseline } from '../../lib/config-baselines.js';
import { isServiceLinkedRecorder } from '../../lib/config-recording.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { emulatorClientConfig } from '../emulator/client.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

/** Config's documented bucket policy: it may read the ACL, list the bucket, and write under AWSLogs/<account>/Config/. */
export function configBucketPolicy(bucket: string, account: string): string {
  const service = { Service: 'config.amazonaws.com' };
  const fromAccount = { StringEquals: { 'AWS:SourceAccount': account } };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSConfigBucketPermissionsCheck',
        Effect: 'Allow',
        Principal: service,
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: fromAccount,
      },
      {
        Sid: 'AWSConfigBucketExistenceCheck',
        Effect: 'Allow',
        Principal: service,
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: fromAccount,
      },
      {
        Sid: 'AWSConfigBucketDelivery',
        Effect: 'Allow',
        Principal: service,
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/config/AWSLogs/${account}/Config/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'AWS:SourceAccount': account } },
      },
    ],
  });
}

async function ensureBucket(ctx: ReenactContext, region: string, bucket: string, note: string) {
  const s3 = new S3Client({ ...emulatorClientConfig(ctx.endpoint, region), forcePathStyle: true });
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
    ctx.notes.push(note);
  } catch (error) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as Error).name)) throw error;
  }
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: configBucketPolicy(bucket, ctx.account) }));
}

async function ensureRecorderRole(ctx: ReenactContext): Promise<string> {
  const iam = new IAMClient(emulatorClientConfig(ctx.endpoint, 'us-east-1'));
  const RoleName = 'reenact-config-recorder';
  try {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName }));
    if (Role?.Arn) return Role.Arn;
  } catch (error) {
    if ((error as Error).name !== 'NoSuchEntity' && (error as Error).name !== 'NoSuchEntityException') throw error;
  }
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'config.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  const { Role } = await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  if (!Role?.Arn) throw new Error(`the emulator created role ${RoleName} without an ARN`);
  return Role.Arn;
}

/** Removes the region's customer-managed recorders and channels, so that the reenactment starts from a known state. */
async function clearRegion(config: ConfigServiceClient, ctx: ReenactContext, region: string) {
  const { ConfigurationRecorders = [] } = await config.send(new DescribeConfigurationRecordersCommand({}));
  for (const { name } of ConfigurationRecorders) {
    if (!name || isServiceLinkedRecorder(name)) continue;
    await config.send(new StopConfigurationRecorderCommand({ ConfigurationRecorderName: name }));
  }
  const { DeliveryChannels = [] } = await config.send(new DescribeDeliveryChannelsCommand({}));
  for (const { name } of DeliveryChannels) {
    if (name) await config.send(new DeleteDeliveryChannelCommand({ DeliveryChannelName: name }));
  }
  for (const { name } of ConfigurationRecorders) {
    if (!name || isServiceLinkedRecorder(name)) continue;
    await config.send(new DeleteConfigurationRecorderCommand({ ConfigurationRecorderName: name }));
    ctx.notes.push(`deleted the existing recorder ${name} in ${region} to start from a known configuration`);
  }
}

/** The region recording everything, its baseline captured by the engine. */
async function recordingEverything(ctx: ReenactContext, region: string, recorderName: string, channelName: string) {
  const config = new ConfigServiceClient(emulatorClientConfig(ctx.endpoint, region));
  await clearRegion(config, ctx, region);
  const bucket = `reenact-config-${ctx.account}-${region}`;
  await ensureBucket(ctx, region, bucket, `created bucket ${bucket} with Config's bucket policy`);
  const roleArn = await ensureRecorderRole(ctx);
  await config.send(
    new PutConfigurationRecorderCommand({
      ConfigurationRecorder: {
        name: recorderName,
        roleARN: roleArn,
        recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
        recordingMode: { recordingFrequency: 'CONTINUOUS' },
      },
    }),
  );
  await config.send(
    new PutDeliveryChannelCommand({
      DeliveryChannel: {
        name: channelName,
        s3BucketName: bucket,
        s3KeyPrefix: 'config',
        configSnapshotDeliveryProperties: { deliveryFrequency: 'Six_Hours' },
      },
    }),
  );
  await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: recorderName }));
  const captured = await captureConfigBaseline(ctx.engine, region, 'reenact');
  ctx.notes.push(
    `recorder ${recorderName} in ${region} records every supported type (global ones too) continuously through channel ${channelName} to ${bucket}; ${captured ? 'the engine captured its baseline' : 'its baseline was captured before'}`,
  );
  return config;
}

function param(event: CloudTrailEvent, path: string[]): string {
  let value: unknown = event.detail.requestParameters;
  for (const key of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new Error(`${event.detail.eventName}: requestParameters.${path.join('.')} names nothing to reenact`);
  }
  if (isServiceLinkedRecorder(value)) {
    throw new Error(`${value} is a service-linked recorder: only its owning service makes one, so it is not reenacted`);
  }
  return value;
}

/** The recorder or channel member of the request, as CloudTrail recorded it (the SDK takes the same member names). */
function member<T>(event: CloudTrailEvent, key: string): T {
  const value = event.detail.requestParameters?.[key];
  if (!value || typeof value !== 'object')
    throw new Error(`${event.detail.eventName}: requestParameters.${key} is missing`);
  return value as T;
}

export const configReenactments: Record<string, Reenactment> = {
  async 'aws.config:StopConfigurationRecorder'(event, ctx) {
    const name = param(event, ['configurationRecorderName']);
    const config = await recordingEverything(ctx, event.detail.awsRegion, name, 'default');
    await config.send(new StopConfigurationRecorderCommand({ ConfigurationRecorderName: name }));
    return event;
  },

  async 'aws.config:DeleteConfigurationRecorder'(event, ctx) {
    const name = param(event, ['configurationRecorderName']);
    const config = await recordingEverything(ctx, event.detail.awsRegion, name, 'default');
    await config.send(new DeleteConfigurationRecorderCommand({ ConfigurationRecorderName: name }));
    return event;
  },

  async 'aws.config:DeleteDeliveryChannel'(event, ctx) {
    const name = param(event, ['deliveryChannelName']);
    const config = await recordingEverything(ctx, event.detail.awsRegion, 'default', name);
    // AWS refuses to delete the channel of a recording recorder (LastDeliveryChannelDeleteFailedException): stopped first.
    await config.send(new StopConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));
    ctx.notes.push('stopped the recorder first, as AWS requires before DeleteDeliveryChannel');
    await config.send(new DeleteDeliveryChannelCommand({ DeliveryChannelName: name }));
    return event;
  },

  async 'aws.config:PutConfigurationRecorder'(event, ctx) {
    const recorder = member<PutConfigurationRecorderCommandInput['ConfigurationRecorder']>(
      event,
      'configurationRecorder',
    );
    const name = param(event, ['configurationRecorder', 'name']);
    const config = await recordingEverything(ctx, event.detail.awsRegion, name, 'default');
    await config.send(new PutConfigurationRecorderCommand({ ConfigurationRecorder: recorder }));
    return event;
  },

  async 'aws.config:PutDeliveryChannel'(event, ctx) {
    const channel = member<PutDeliveryChannelCommandInput['DeliveryChannel']>(event, 'deliveryChannel');
    const name = param(event, ['deliveryChannel', 'name']);
    const bucket = param(event, ['deliveryChannel', 's3BucketName']);
    const region = event.detail.awsRegion;
    const config = await recordingEverything(ctx, region, 'default', name);
    await ensureBucket(ctx, region, bucket, `created bucket ${bucket}, the one the event points the channel at`);
    await config.send(new PutDeliveryChannelCommand({ DeliveryChannel: channel }));
    return event;
  },
};
