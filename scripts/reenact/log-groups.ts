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
import { eventKeyAtEndpoint, standInKey } from './keys.js';
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

/** The event's key where the endpoint has it; else a stand-in customer key (logs policy) in the event's region. */
async function keyForCall(event: CloudTrailEvent, original: string, ctx: ReenactContext): Promise<string> {
  const region = event.detail.awsRegion;
  const key = await eventKeyAtEndpoint(original, region, ctx, () =>
    standInKey(`logs|${region}|${original}`, original, region, ctx),
  );
  return key.standIn ? key.arn : original;
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
      typeof kmsKeyId === 'string' ? withParams(event, { kmsKeyId: await keyForCall(event, kmsKeyId, ctx) }) : event;
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
    const mapped = withParams(event, { kmsKeyId: await keyForCall(event, original, ctx) });
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: String(params(mapped).kmsKeyId) }));
    return mapped;
  },

  async 'aws.logs:DisassociateKmsKey'(event, ctx) {
    const logs = logsFor(event, ctx);
    const name = groupName(event);
    await ensureGroup(logs, name, ctx);
    // The event does not say which key the group had: any key CloudWatch Logs may use will do.
    const before = `the key ${name} used before`;
    const key = await standInKey(`logs|${event.detail.awsRegion}|${before}`, before, event.detail.awsRegion, ctx);
    ctx.notes.push(`associated stand-in key ${key.arn} with ${name} so that there is one to disassociate`);
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: key.arn }));
    await logs.send(new DisassociateKmsKeyCommand({ logGroupName: name }));
    return event;
  },
};
