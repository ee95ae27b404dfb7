/**
 * Reenactments of the activity-alarms triggers on the emulator: the activity setup the call needs (a multi-region
 * trail of the home region delivering to the event's log group, the engine's filter or alarms as the sweep would have
 * them), then the event's own call.
 */
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DisableAlarmActionsCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteMetricFilterCommand,
  PutMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { controlByResourceName, desiredAlarm, desiredMetricFilter } from '../../lib/activity-controls.js';
import { findActivityTrail, trailLogGroupArn } from '../../lib/activity-log-group.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { emulatorClientConfig } from '../emulator/client.js';
import type { ReenactContext, Reenactment } from './reenactment.js';
import { trailReenactments } from './trails.js';

const ACTIVITY_TRAIL = 'activity-trail';

function params(event: CloudTrailEvent): Record<string, unknown> {
  return event.detail.requestParameters ?? {};
}

function stringParam(event: CloudTrailEvent, name: string): string {
  const value = params(event)[name];
  if (typeof value !== 'string' || value === '')
    throw new Error(`${event.detail.eventName}: requestParameters has no ${name} to reenact`);
  return value;
}

function alarmNames(event: CloudTrailEvent): string[] {
  const { alarmNames: names, alarmName } = params(event);
  const list = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  if (typeof alarmName === 'string') list.push(alarmName);
  if (list.length === 0) throw new Error(`${event.detail.eventName}: requestParameters names no alarm to reenact`);
  return list;
}

/** The log group exists and the home region's activity trail delivers to it (a multi-region trail is created if none). */
async function ensureActivityGroup(event: CloudTrailEvent, ctx: ReenactContext, name: string, anyGroup = false) {
  if (anyGroup) {
    const present = await findActivityTrail(ctx.engine.aws, ctx.engine.settings, event.detail.awsRegion);
    if (present?.logGroup) return;
  }
  const region = event.detail.awsRegion;
  const logs = new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, region));
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    ctx.notes.push(`created log group ${name} (the call needs it)`);
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
  }
  const found = await findActivityTrail(ctx.engine.aws, ctx.engine.settings, region);
  if (found?.logGroup?.name === name) return;
  const create = trailReenactments['aws.cloudtrail:CreateTrail'];
  if (!create) throw new Error('no CreateTrail reenactment');
  const trail: CloudTrailEvent = {
    ...event,
    source: 'aws.cloudtrail',
    detail: {
      ...event.detail,
      eventName: 'CreateTrail',
      requestParameters: {
        name: ACTIVITY_TRAIL,
        s3BucketName: `${ACTIVITY_TRAIL}-logs-${ctx.account}`,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        cloudWatchLogsLogGroupArn: trailLogGroupArn('aws', region, ctx.account, name),
        cloudWatchLogsRoleArn: `arn:aws:iam::${ctx.account}:role/driftguard-activity-delivery`,
      },
    },
  };
  await create(trail, ctx);
  ctx.notes.push(`created the multi-region trail ${ACTIVITY_TRAIL}, delivering to ${name} (the activity log group)`);
}

/** The engine's filter as the sweep puts it, so that the call has it to delete or change. */
async function ensureFilter(event: CloudTrailEvent, ctx: ReenactContext, group: string, filterName: string) {
  const control = controlByResourceName(filterName, ctx.engine.settings.stage);
  if (!control) return;
  const logs = new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion));
  await logs.send(new PutMetricFilterCommand(desiredMetricFilter(control, ctx.engine.settings.stage, group)));
  ctx.notes.push(`put the engine's filter ${filterName} (${control.id}) so that the call finds it`);
}

async function ensureAlarms(event: CloudTrailEvent, ctx: ReenactContext, names: string[]) {
  const topic = ctx.engine.settings.noticeTopicArn;
  if (topic === undefined) return;
  const cloudwatch = new CloudWatchClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion));
  for (const name of names) {
    const control = controlByResourceName(name, ctx.engine.settings.stage);
    if (!control) continue;
    await cloudwatch.send(new PutMetricAlarmCommand(desiredAlarm(control, ctx.engine.settings.stage, topic)));
    ctx.notes.push(`put the engine's alarm ${name} (${control.id}) so that the call finds it`);
  }
}

function logsFor(event: CloudTrailEvent, ctx: ReenactContext) {
  return new CloudWatchLogsClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion));
}

function cloudwatchFor(event: CloudTrailEvent, ctx: ReenactContext) {
  return new CloudWatchClient(emulatorClientConfig(ctx.endpoint, event.detail.awsRegion));
}

/** Activity group of the samples when an alarm event names none: the trail's, or a default one. */
const DEFAULT_GROUP = '/aws/cloudtrail/activity';

export const activityReenactments: Record<string, Reenactment> = {
  async 'aws.logs:DeleteMetricFilter'(event, ctx) {
    const group = stringParam(event, 'logGroupName');
    const filterName = stringParam(event, 'filterName');
    await ensureActivityGroup(event, ctx, group);
    await ensureFilter(event, ctx, group, filterName);
    await logsFor(event, ctx).send(new DeleteMetricFilterCommand({ logGroupName: group, filterName }));
    return event;
  },

  async 'aws.logs:PutMetricFilter'(event, ctx) {
    const group = stringParam(event, 'logGroupName');
    const filterName = stringParam(event, 'filterName');
    await ensureActivityGroup(event, ctx, group);
    await ensureFilter(event, ctx, group, filterName);
    const { filterPattern, metricTransformations } = params(event);
    await logsFor(event, ctx).send(
      new PutMetricFilterCommand({
        logGroupName: group,
        filterName,
        filterPattern: typeof filterPattern === 'string' ? filterPattern : '',
        metricTransformations: metricTransformations as never,
      }),
    );
    return event;
  },

  async 'aws.logs:DeleteLogGroup'(event, ctx) {
    const group = stringParam(event, 'logGroupName');
    await ensureActivityGroup(event, ctx, group);
    await logsFor(event, ctx).send(new DeleteLogGroupCommand({ logGroupName: group }));
    return event;
  },

  async 'aws.cloudwatch:DeleteAlarms'(event, ctx) {
    const names = alarmNames(event);
    await ensureActivityGroup(event, ctx, DEFAULT_GROUP, true);
    await ensureAlarms(event, ctx, names);
    await cloudwatchFor(event, ctx).send(new DeleteAlarmsCommand({ AlarmNames: names }));
    return event;
  },

  async 'aws.cloudwatch:DisableAlarmActions'(event, ctx) {
    const names = alarmNames(event);
    await ensureActivityGroup(event, ctx, DEFAULT_GROUP, true);
    await ensureAlarms(event, ctx, names);
    await cloudwatchFor(event, ctx).send(new DisableAlarmActionsCommand({ AlarmNames: names }));
    return event;
  },

  async 'aws.cloudwatch:PutMetricAlarm'(event, ctx) {
    const names = alarmNames(event);
    await ensureActivityGroup(event, ctx, DEFAULT_GROUP, true);
    await ensureAlarms(event, ctx, names);
    const p = params(event);
    const input = Object.fromEntries(
      Object.entries(p).map(([key, value]) => [key.charAt(0).toUpperCase() + key.slice(1), value]),
    );
    await cloudwatchFor(event, ctx).send(new PutMetricAlarmCommand(input as never));
    return event;
  },
};
