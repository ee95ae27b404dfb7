/**
 * Reenactments of the KMS triggers: the event's own call, on the event's key as it is when the endpoint has it. Else
 * (the emulator chooses key ids) a customer key with the CloudWatch Logs statement and a log group using it (which the
 * engine records, as the log-group guard does) stands in, and the event's key (id or ARN, and detail.resources) is
 * mapped onto it; the notes say so.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { arnRegion } from '../../lib/aws.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { recordKeyUsage } from '../../lib/key-usage.js';
import { emulatorClientConfig } from '../emulator/client.js';
import { type EndpointKey, eventKeyAtEndpoint, isMultiRegionKey, standInKey } from './keys.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([A-Za-z0-9-]+)$/;

/** The event's key as named: detail.resources' ARN first, else requestParameters.keyId. */
function eventKey(event: CloudTrailEvent): string {
  const fromResources = event.detail.resources?.find((r) => r.type === 'AWS::KMS::Key')?.ARN;
  const keyId = event.detail.requestParameters?.keyId;
  const named = fromResources ?? (typeof keyId === 'string' ? keyId : undefined);
  if (!named) throw new Error(`${event.detail.eventName}: the event names no key to reenact`);
  return named;
}

/**
 * The event's key as it is where the endpoint has it; else a stand-in in use by a log group (recorded as the log-group
 * guard records it), so that the guard finds a key worth protecting.
 */
async function keyOfEvent(event: CloudTrailEvent, ctx: ReenactContext) {
  const region = event.detail.awsRegion;
  const original = eventKey(event);
  const cacheKey = `kms|${region}|${KEY_ARN.exec(original)?.[1] ?? original}`;
  return eventKeyAtEndpoint(original, region, ctx, () =>
    standInKey(cacheKey, original, region, ctx, async (key) => {
      // A multi-Region primary key in use has replicas: its scheduled deletion then waits for theirs.
      if (isMultiRegionKey(original)) await replicate(key, region, ctx);
      const group = `/driftguard/reenact/kms/${key.keyId}`;
      await new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, region)).send(
        new CreateLogGroupCommand({ logGroupName: group, kmsKeyId: key.arn }),
      );
      const table = ctx.engine.settings.stateTable;
      if (table) {
        await recordKeyUsage(ctx.engine.aws, table, key.arn, { type: 'log-group', region, id: group });
      }
      ctx.notes.push(`created key ${key.arn} (CloudWatch Logs may use it) and log group ${group} encrypted with it`);
    }),
  );
}

/** A replica of the multi-Region key in another region. */
async function replicate(key: EndpointKey, region: string, ctx: ReenactContext) {
  const ReplicaRegion = region === 'us-east-1' ? 'eu-west-1' : 'us-east-1';
  const kms = new KMSClient(emulatorClientConfig(ctx.endpoint, region));
  const { ReplicaKeyMetadata } = await kms.send(new ReplicateKeyCommand({ KeyId: key.keyId, ReplicaRegion }));
  ctx.notes.push(`replicated multi-Region key ${key.arn} to ${ReplicaKeyMetadata?.Arn ?? ReplicaRegion}`);
}

/** The event with every mention of its key replaced by the emulator's key (id for ids, ARN for ARNs). */
function mapped(event: CloudTrailEvent, key: { keyId: string; arn: string }): CloudTrailEvent {
  const originalArn = event.detail.resources?.find((r) => r.type === 'AWS::KMS::Key')?.ARN;
  const originalId = KEY_ARN.exec(eventKey(event))?.[1] ?? eventKey(event);
  let text = JSON.stringify(event);
  if (originalArn) text = text.replaceAll(originalArn, key.arn);
  text = text.replaceAll(`key/${originalId}`, `key/${key.keyId}`).replaceAll(`"${originalId}"`, `"${key.keyId}"`);
  return JSON.parse(text) as CloudTrailEvent;
}

function onEventKey(call: (kms: KMSClient, keyId: string, event: CloudTrailEvent) => Promise<unknown>): Reenactment {
  return async (event, ctx) => {
    const key = await keyOfEvent(event, ctx);
    const rewritten = key.standIn ? mapped(event, key) : event;
    const region = arnRegion(key.arn) ?? event.detail.awsRegion;
    await call(new KMSClient(emulatorClientConfig(ctx.endpoint, region)), key.keyId, rewritten);
    return rewritten;
  };
}

export const kmsReenactments: Record<string, Reenactment> = {
  'aws.kms:ScheduleKeyDeletion': onEventKey((kms, keyId, event) => {
    const days = Number(event.detail.requestParameters?.pendingWindowInDays ?? 30);
    return kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days }));
  }),
  'aws.kms:DisableKey': onEventKey((kms, keyId) => kms.send(new DisableKeyCommand({ KeyId: keyId }))),
  'aws.kms:PutKeyPolicy': onEventKey((kms, keyId, event) => {
    const policy = event.detail.requestParameters?.policy;
    if (typeof policy !== 'string') throw new Error('PutKeyPolicy: requestParameters.policy is not a policy string');
    return kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
  }),
  'aws.kms:DisableKeyRotation': onEventKey(async (kms, keyId) => {
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }));
  }),
};
