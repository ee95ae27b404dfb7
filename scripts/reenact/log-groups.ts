/** Reenactments of the log-group triggers on the emulator. */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DisassociateKmsKeyCommand,
  type LogGroupClass,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { emulatorClientConfig } from '../emulator/client.js';
import { createLogKey } from '../provision.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

function logsFor(event: CloudTrailEvent, ctx: ReenactContext) {
  return new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion));
}

function params(event: CloudTrailEvent): Record<string, unknown> {
  return event.detail.requestParameters ?? {};
}

function groupName(event: CloudTrailEvent): string {
  const { logGroupName, resourceIdentifier } = params(event);
  if (typeof logGroupName === 'string') return logGroupName;
  const fromArn =
    typeof resourceIdentifier === 'string' ? /:log-group:(.+?)(:\*)?$/.exec(resourceIdentifier)?.[1] : undefined;
  if (fromArn) return fromArn;
  throw new Error(`${event.detail.eventName}: requestParameters has no logGroupName to reenact`);
}

async function ensureGroup(logs: CloudWatchLogsClient, name: string, ctx: ReenactContext) {
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    ctx.notes.push(`created log group ${name} (the call needs it)`);
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
  }
}

/** The emulator chooses key ids: the event's key becomes a fresh customer key (logs policy) in the event's region. */
async function mapKey(event: CloudTrailEvent, original: string, ctx: ReenactContext): Promise<string> {
  const region = event.detail.awsRegion;
  const cacheKey = `logs|${region}|${original}`;
  let arn = ctx.keys.get(cacheKey)?.arn;
  if (arn === undefined) {
    const key = await createLogKey(ctx.endpoint, region, ctx.account, `driftguard reenact of ${original}`);
    ctx.keys.set(cacheKey, key);
    arn = key.arn;
  }
  ctx.notes.push(`key ${original} mapped to emulator key ${arn}`);
  return arn;
}

function withParams(event: CloudTrailEvent, changes: Record<string, unknown>): CloudTrailEvent {
  return { ...event, detail: { ...event.detail, requestParameters: { ...params(event), ...changes } } };
}

export const logGroupReenactments: Record<string, Reenactment> = {
  async 'aws.logs:CreateLogGroup'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    const { kmsKeyId, tags, logGroupClass } = params(event);
    const mapped =
      typeof kmsKeyId === 'string' ? withParams(event, { kmsKeyId: await mapKey(event, kmsKeyId, ctx) }) : event;
    try {
      await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
      ctx.notes.push(`deleted the existing log group ${name} to create it anew`);
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    const mappedParams = params(mapped);
    await logs.send(
      new CreateLogGroupCommand({
        logGroupName: name,
        ...(typeof mappedParams.kmsKeyId === 'string' ? { kmsKeyId: mappedParams.kmsKeyId } : {}),
        ...(tags && typeof tags === 'object' ? { tags: tags as Record<string, string> } : {}),
        ...(typeof logGroupClass === 'string' ? { logGroupClass: logGroupClass as LogGroupClass } : {}),
      }),
    );
    return mapped;
  },

  async 'aws.logs:PutRetentionPolicy'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    await ensureGroup(logs, name, ctx);
    const days = Number(params(event).retentionInDays);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
    return event;
  },

  async 'aws.logs:DeleteRetentionPolicy'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    await ensureGroup(logs, name, ctx);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: 30 }));
    ctx.notes.push(`set retention 30 days on ${name} so that there is one to delete`);
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: name }));
    return event;
  },

  async 'aws.logs:AssociateKmsKey'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    await ensureGroup(logs, name, ctx);
    const original = params(event).kmsKeyId;
    if (typeof original !== 'string') throw new Error('AssociateKmsKey: requestParameters has no kmsKeyId to reenact');
    const mapped = withParams(event, { kmsKeyId: await mapKey(event, original, ctx) });
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: String(params(mapped).kmsKeyId) }));
    return mapped;
  },

  async 'aws.logs:DisassociateKmsKey'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    await ensureGroup(logs, name, ctx);
    const key = await mapKey(event, `the key ${name} used before`, ctx);
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: key }));
    await logs.send(new DisassociateKmsKeyCommand({ logGroupName: name }));
    return event;
  },
};
