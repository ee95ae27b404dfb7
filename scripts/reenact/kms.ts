/**
 * Reenactments of the KMS triggers: a customer key with the CloudWatch Logs statement and a log group using it (which
 * the engine records, as the log-group guard does), then the event's own call. The emulator chooses key ids, so the
 * event's key (id or ARN, and detail.resources) is mapped onto the key created here; the notes say so.
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
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { KeyUsageStore } from '../../lib/key-usage.js';
import { emulatorClientConfig } from '../emulator/client.js';
import { createLogKey } from '../provision.js';
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

/** A key in use by a log group (recorded as the log-group guard records it), standing in for the event's key. */
async function keyInUse(event: CloudTrailEvent, ctx: ReenactContext) {
  const region = event.detail.awsRegion;
  const original = eventKey(event);
  const originalId = KEY_ARN.exec(original)?.[1] ?? original;
  const cacheKey = `kms|${region}|${originalId}`;
  let key = ctx.keys.get(cacheKey);
  if (key === undefined) {
    const multiRegion = originalId.startsWith(MULTI_REGION_KEY_PREFIX);
    key = await createLogKey(ctx.endpoint, region, ctx.account, `driftguard reenact of ${original}`, { multiRegion });
    ctx.keys.set(cacheKey, key);
    if (multiRegion) await replicate(key, region, ctx);
    const group = `/driftguard/reenact/kms/${key.keyId}`;
    await new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, region)).send(
      new CreateLogGroupCommand({ logGroupName: group, kmsKeyId: key.arn }),
    );
    const table = ctx.engine.settings.stateTable;
    if (table) {
      await new KeyUsageStore(ctx.engine.aws, table).record(key.arn, {
        type: 'log-group',
        region,
        id: group,
      });
    }
    ctx.notes.push(`created key ${key.arn} (CloudWatch Logs may use it) and log group ${group} encrypted with it`);
  }
  ctx.notes.push(`key ${original} mapped to emulator key ${key.arn}`);
  return key;
}

/** Multi-Region keys' ids start so; their primary, scheduled for deletion with replicas left, waits for those. */
const MULTI_REGION_KEY_PREFIX = 'mrk-';

/** A replica of the multi-Region key in another region, as a multi-Region key in use has. */
async function replicate(key: { keyId: string; arn: string }, region: string, ctx: ReenactContext) {
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

function onKeyInUse(call: (kms: KMSClient, keyId: string, event: CloudTrailEvent) => Promise<unknown>): Reenactment {
  return async (event, ctx) => {
    const key = await keyInUse(event, ctx);
    const rewritten = mapped(event, key);
    await call(new KMSClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion)), key.keyId, rewritten);
    return rewritten;
  };
}

export const kmsReenactments: Record<string, Reenactment> = {
  'aws.kms:ScheduleKeyDeletion': onKeyInUse((kms, keyId, event) => {
    const days = Number(event.detail.requestParameters?.pendingWindowInDays ?? 30);
    return kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days }));
  }),
  'aws.kms:DisableKey': onKeyInUse((kms, keyId) => kms.send(new DisableKeyCommand({ KeyId: keyId }))),
  'aws.kms:PutKeyPolicy': onKeyInUse((kms, keyId, event) => {
    const policy = event.detail.requestParameters?.policy;
    if (typeof policy !== 'string') throw new Error('PutKeyPolicy: requestParameters.policy is not a policy string');
    return kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
  }),
  'aws.kms:DisableKeyRotation': onKeyInUse(async (kms, keyId) => {
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }));
  }),
};
