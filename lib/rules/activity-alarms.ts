/**
 * activity-alarms (Security Hub CloudWatch.1-14, CloudTrail.5): on the activity log group (lib/activity-log-group.ts)
 * the 14 metric filters of lib/activity-controls.ts, with exactly Security Hub's patterns, and an alarm on each that
 * notifies the notice topic. A filter deleted or changed, an alarm deleted, changed or with its actions disabled, the
 * group deleted: each is put back as the sweep would have it. A trail delivering to no log group is linked to the
 * stack's (DRIFTGUARD_ACTIVITY_LOG_GROUP, delivered by DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN), and the link becomes
 * part of the trail's baseline, so that the trail guard keeps it instead of undoing it.
 */

import { CloudTrailClient, GetTrailStatusCommand, UpdateTrailCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  type MetricFilter,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  ACTIVITY_ALARM_SETTINGS,
  ACTIVITY_CONTROLS,
  ACTIVITY_METRIC_NAMESPACE,
  type ActivityControl,
  activityResourceName,
  controlByResourceName,
  desiredAlarm,
  desiredMetricFilter,
} from '../activity-controls.js';
import { type ActivityTrail, findActivityTrail, trailLogGroupArn } from '../activity-log-group.js';
import { arnRegion, awsErrorName, homeRegion } from '../aws.js';
import { type CloudTrailEvent, MalformedEventError } from '../envelope.js';
import {
  type ActionOf,
  command,
  type Decision,
  defineRule,
  type EngineRecord,
  type Finding,
  HOME,
  noAction,
  type Resource,
  type RuleContext,
  type Skip,
  STATE_TABLE_ARN,
} from '../rule.js';
import type { Settings } from '../settings.js';
// Keeps the trail-baseline records this rule makes when it links a trail (registerRecordKeeper).
import '../trail-baselines.js';
import { TRAIL_ARNS, TRAIL_READS } from '../trails.js';

export const ACTIVITY_LOG_EVENTS = ['DeleteMetricFilter', 'PutMetricFilter', 'DeleteLogGroup'] as const;
export const ACTIVITY_ALARM_EVENTS = ['DeleteAlarms', 'PutMetricAlarm', 'DisableAlarmActions'] as const;

/** What an event touched: which log group (logs events) or which alarms (cloudwatch events). */
export interface ActivityTarget {
  region: string;
  account: string;
  eventName: string;
  logGroupName?: string;
  filterName?: string;
  alarmNames?: string[];
}

/** The activity setup as it is now. */
export interface ActivityState {
  target: ActivityTarget;
  /** The trail and where it delivers; undefined when there is none. */
  trail: ActivityTrail | undefined;
  /** The group the filters belong on: the trail's, or the stack's the trail is to be linked to. */
  group: { name: string; region: string; exists: boolean; linked: boolean } | undefined;
  /** The engine's filters on that group, by name. */
  filters: MetricFilter[];
  /** The engine's alarms in the group's region, by name. */
  alarms: MetricAlarm[];
  /**
   * How many confirmed subscriptions the notice topic has (ListSubscriptionsByTopic; pending ones do not count), 0
   * when the topic is gone; absent when no topic is set.
   */
  subscribers?: number;
  /**
   * CloudTrail's delivery to the trail's group (GetTrailStatus), read when the trail delivers to one: the latest
   * CloudWatch Logs error and delivery time (ISO-8601), and when it was read. Absent when not read.
   */
  delivery?: { error?: string; lastAt?: string; checkedAt: string };
}

/**
 * How long CloudTrail may go without delivering to the group before the alarms count as blind. A trail logging all
 * management events always has records to deliver (the engine's own sweep, every 15 minutes, makes read calls), and
 * CloudTrail delivers within minutes; an hour leaves room for its lag.
 */
export const ACTIVITY_DELIVERY_STALE_MS = 60 * 60 * 1000;

/** Why the trail's delivery to the group looks broken, or undefined when it looks healthy (or was not read). */
export function deliveryProblem(delivery: ActivityState['delivery']): string | undefined {
  if (delivery === undefined) return undefined;
  const { error, lastAt, checkedAt } = delivery;
  const errorText = error ? ` (CloudWatch Logs error: ${error})` : '';
  if (lastAt === undefined) return error ? `CloudTrail has never delivered to the group${errorText}` : undefined;
  const age = Date.parse(checkedAt) - Date.parse(lastAt);
  if (Number.isNaN(age) || age <= ACTIVITY_DELIVERY_STALE_MS) return undefined;
  return `CloudTrail has not delivered to the group since ${lastAt}, ${Math.round(age / 60_000)} minutes${errorText}`;
}

const LOG_GROUP_ARNS = 'arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*';
/**
 * The 14 alarms by exact name: driftguard-<stage>-CloudWatch.N is ${AWS::StackName}-CloudWatch.N in the stack
 * serverless names <service>-<stage> (a renamed stack fails closed: AccessDenied, and the notice says so). No other
 * stage's alarms, nor the stack's own alarms.
 */
const ALARM_ARNS = ACTIVITY_CONTROLS.map(
  (control) => `arn:\${AWS::Partition}:cloudwatch:*:\${AWS::AccountId}:alarm:\${AWS::StackName}-${control.id}`,
);

const COMMANDS = {
  'logs:CreateLogGroup': command(CloudWatchLogsClient, CreateLogGroupCommand, LOG_GROUP_ARNS),
  'logs:PutRetentionPolicy': command(CloudWatchLogsClient, PutRetentionPolicyCommand, LOG_GROUP_ARNS),
  'logs:PutMetricFilter': command(CloudWatchLogsClient, PutMetricFilterCommand, LOG_GROUP_ARNS),
  'cloudwatch:PutMetricAlarm': command(CloudWatchClient, PutMetricAlarmCommand, ALARM_ARNS),
  'cloudtrail:UpdateTrail': command(CloudTrailClient, UpdateTrailCommand, TRAIL_ARNS, {
    // Linking the trail hands CloudTrail the stack's delivery role, and only it (this stage's, by its ARN).
    alsoNeeds: [
      {
        actions: ['iam:PassRole'],
        resource: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ActivityDeliveryRole}',
        condition: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
      },
    ],
  }),
};
export type ActivityAction = ActionOf<typeof COMMANDS>;

function params(event: CloudTrailEvent): Record<string, unknown> {
  return event.detail.requestParameters ?? {};
}

function targetOf(event: CloudTrailEvent): ActivityTarget | Skip {
  const base = { region: event.detail.awsRegion, account: event.account, eventName: event.detail.eventName };
  const p = params(event);
  const malformed = (what: string) =>
    new MalformedEventError(
      `${event.detail.eventName} event ${event.detail.eventID}: detail.requestParameters has no ${what}`,
    );
  if (event.source === 'aws.logs') {
    if (typeof p.logGroupName !== 'string' || p.logGroupName === '') throw malformed('logGroupName');
    const filterName = typeof p.filterName === 'string' ? p.filterName : undefined;
    if (event.detail.eventName !== 'DeleteLogGroup' && filterName === undefined) throw malformed('filterName');
    return { ...base, logGroupName: p.logGroupName, ...(filterName === undefined ? {} : { filterName }) };
  }
  const names = Array.isArray(p.alarmNames)
    ? p.alarmNames.filter((name): name is string => typeof name === 'string')
    : typeof p.alarmName === 'string'
      ? [p.alarmName]
      : [];
  if (names.length === 0) throw malformed(event.detail.eventName === 'PutMetricAlarm' ? 'alarmName' : 'alarmNames');
  return { ...base, alarmNames: names };
}

function describeActivity(target: ActivityTarget): Resource {
  const id = target.alarmNames?.join(', ') ?? target.filterName ?? target.logGroupName ?? 'CloudWatch.1-14';
  const type = target.alarmNames
    ? 'activity alarm'
    : target.filterName
      ? 'activity metric filter'
      : 'activity log group';
  return {
    type,
    id,
    region: target.region,
    consoleUrl: `https://${target.region}.console.aws.amazon.com/cloudwatch/home?region=${target.region}#alarmsV2:`,
  };
}

/** An event about filters or alarms that are not the engine's: decided without reading anything. */
function preScreen(target: ActivityTarget, settings: Settings): Decision<never> | undefined {
  if (target.alarmNames && !target.alarmNames.some((name) => controlByResourceName(name, settings.stage))) {
    return noAction('ignored', `not an activity alarm of the engine (${target.alarmNames.join(', ')})`);
  }
  if (target.filterName !== undefined && !controlByResourceName(target.filterName, settings.stage)) {
    return noAction('ignored', `not an activity metric filter of the engine (${target.filterName})`);
  }
  return undefined;
}

/** The engine's filters on a group (none when the group is gone). */
async function readFilters(ctx: RuleContext, name: string, region: string, stage: string | undefined) {
  const logs = ctx.aws.client(CloudWatchLogsClient, region);
  const prefix = activityResourceName({ id: '' }, stage);
  const filters: MetricFilter[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await logs.send(
        new DescribeMetricFiltersCommand({ logGroupName: name, filterNamePrefix: prefix, nextToken }),
      );
      filters.push(...(page.metricFilters ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return [];
    throw error;
  }
  return filters.filter((filter) => filter.logGroupName === undefined || filter.logGroupName === name);
}

async function groupExists(ctx: RuleContext, name: string, region: string): Promise<boolean> {
  const { logGroups } = await ctx.aws
    .client(CloudWatchLogsClient, region)
    .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, limit: 1 }));
  return (logGroups ?? []).some((group) => group.logGroupName === name);
}

async function readAlarms(ctx: RuleContext, region: string, stage: string | undefined) {
  const names = ACTIVITY_CONTROLS.map((control) => activityResourceName(control, stage));
  const { MetricAlarms } = await ctx.aws
    .client(CloudWatchClient, region)
    .send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], MaxRecords: 100 }));
  return MetricAlarms ?? [];
}

/** Reads the activity setup: the trail, its group (or the stack's to link), the engine's filters and alarms. */
export async function inspectActivity(target: ActivityTarget, ctx: RuleContext): Promise<ActivityState> {
  const { settings } = ctx;
  const trail = await findActivityTrail(ctx.aws, settings, homeRegion());
  let group: ActivityState['group'];
  if (trail?.logGroup) {
    const { name, region } = trail.logGroup;
    group = { name, region, exists: await groupExists(ctx, name, region), linked: true };
  } else if (trail && settings.activityLogGroup !== undefined) {
    const region = trail.trail.homeRegion;
    const name = settings.activityLogGroup;
    group = { name, region, exists: await groupExists(ctx, name, region), linked: false };
  }
  const [filters, alarms] = group
    ? await Promise.all([
        group.exists ? readFilters(ctx, group.name, group.region, settings.stage) : Promise.resolve([]),
        readAlarms(ctx, group.region, settings.stage),
      ])
    : [[], []];
  const delivery = trail?.logGroup ? await readDelivery(ctx, trail) : undefined;
  const topic = settings.noticeTopicArn;
  const subscribers = group && topic !== undefined ? await confirmedSubscribers(ctx, topic) : undefined;
  return {
    target,
    trail,
    group,
    filters,
    alarms,
    ...(delivery ? { delivery } : {}),
    ...(subscribers === undefined ? {} : { subscribers }),
  };
}

/** The topic's confirmed subscriptions (an unconfirmed one is listed as PendingConfirmation), 0 when it is gone. */
async function confirmedSubscribers(ctx: RuleContext, topicArn: string): Promise<number> {
  const sns = ctx.aws.client(SNSClient, arnRegion(topicArn) ?? homeRegion());
  let count = 0;
  let NextToken: string | undefined;
  try {
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      count += (page.Subscriptions ?? []).filter((sub) => sub.SubscriptionArn?.startsWith('arn:')).length;
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException' || awsErrorName(error) === 'NotFound') return 0;
    throw error;
  }
  return count;
}

async function readDelivery(ctx: RuleContext, trail: ActivityTrail): Promise<ActivityState['delivery']> {
  const checkedAt = new Date().toISOString();
  try {
    const status = await ctx.aws
      .client(CloudTrailClient, trail.trail.homeRegion)
      .send(new GetTrailStatusCommand({ Name: trail.trail.trailArn }));
    const error = status.LatestCloudWatchLogsDeliveryError || undefined;
    const lastAt = status.LatestCloudWatchLogsDeliveryTime?.toISOString();
    return { checkedAt, ...(error ? { error } : {}), ...(lastAt ? { lastAt } : {}) };
  } catch (error) {
    // Deleted since it was read: the next look finds no trail.
    if (awsErrorName(error) === 'TrailNotFoundException') return undefined;
    throw error;
  }
}

/** A value that says nothing: absent, empty text, an empty list or an empty object. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** Fields of a description that are the resource's bookkeeping, not its definition. */
const FILTER_METADATA = new Set(['filterName', 'creationTime', 'logGroupName']);
/** The definition fields filterDrift compares one by one; any other field with a value is drift. */
const FILTER_COMPARED = new Set(['filterPattern', 'metricTransformations']);
const TRANSFORM_COMPARED = new Set(['metricName', 'metricNamespace', 'metricValue', 'unit']);

/**
 * What differs between a filter and the control's (undefined when it is exactly the control's). The whole definition
 * counts: extra dimensions, a unit or a default value on the transformation, or any field AWS adds later with a value
 * (applyOnTransformedLogs, fieldSelectionCriteria, emitSystemFieldDimensions...), can move the metric away from what the
 * alarm watches.
 */
export function filterDrift(control: ActivityControl, filter: MetricFilter | undefined): string | undefined {
  if (filter === undefined) return 'missing';
  if (filter.filterPattern !== control.pattern) return `pattern ${JSON.stringify(filter.filterPattern ?? '')}`;
  const drift: string[] = [];
  const transforms = filter.metricTransformations ?? [];
  const [t] = transforms;
  if (
    transforms.length !== 1 ||
    t?.metricName !== control.metricName ||
    t.metricNamespace !== ACTIVITY_METRIC_NAMESPACE ||
    t.metricValue !== ACTIVITY_ALARM_SETTINGS.metricValue
  ) {
    drift.push(`metric ${t?.metricNamespace ?? '?'}/${t?.metricName ?? '?'} value ${t?.metricValue ?? '?'}`);
  }
  if (t !== undefined) {
    // AWS describes a transformation given no unit with unit None (or none at all).
    if (t.unit !== undefined && t.unit !== 'None') drift.push(`unit ${t.unit}`);
    for (const [key, value] of Object.entries(t)) {
      if (!TRANSFORM_COMPARED.has(key) && !isEmpty(value)) drift.push(`${key} ${JSON.stringify(value)}`);
    }
  }
  for (const [key, value] of Object.entries(filter)) {
    if (!FILTER_METADATA.has(key) && !FILTER_COMPARED.has(key) && !isEmpty(value))
      drift.push(`${key} ${JSON.stringify(value)}`);
  }
  return drift.length === 0 ? undefined : drift.join(', ');
}

/** Fields of an alarm's description that are its state and bookkeeping, not its definition. */
const ALARM_METADATA = new Set([
  'AlarmName',
  'AlarmArn',
  'AlarmDescription',
  'AlarmConfigurationUpdatedTimestamp',
  'StateValue',
  'StateReason',
  'StateReasonData',
  'StateUpdatedTimestamp',
  'StateTransitionedTimestamp',
  'EvaluationState',
]);
/** The definition fields alarmDrift compares one by one; any other field with a value is drift. */
const ALARM_COMPARED = new Set([
  'ActionsEnabled',
  'AlarmActions',
  'OKActions',
  'InsufficientDataActions',
  'Namespace',
  'MetricName',
  'Dimensions',
  'Metrics',
  'Statistic',
  'ExtendedStatistic',
  'Unit',
  'Period',
  'EvaluationPeriods',
  'DatapointsToAlarm',
  'Threshold',
  'ComparisonOperator',
  'TreatMissingData',
]);

/**
 * What differs between an alarm and the control's (undefined when it is exactly the control's). The whole definition
 * counts: a Unit (the filter's datapoints carry none, so the alarm would see no data), OK or insufficient-data actions
 * (they would tell someone else when the defenders are alerted), and any field AWS adds later with a value.
 */
export function alarmDrift(
  control: ActivityControl,
  alarm: MetricAlarm | undefined,
  topic: string,
): string | undefined {
  if (alarm === undefined) return 'missing';
  const s = ACTIVITY_ALARM_SETTINGS;
  const drift: string[] = [];
  if (alarm.ActionsEnabled !== true) drift.push('actions disabled');
  const actions = alarm.AlarmActions ?? [];
  if (actions.length !== 1 || actions[0] !== topic) drift.push(`actions [${actions.join(', ')}]`);
  if (!isEmpty(alarm.OKActions)) drift.push(`OK actions [${(alarm.OKActions ?? []).join(', ')}]`);
  if (!isEmpty(alarm.InsufficientDataActions))
    drift.push(`insufficient-data actions [${(alarm.InsufficientDataActions ?? []).join(', ')}]`);
  if (alarm.Namespace !== ACTIVITY_METRIC_NAMESPACE || alarm.MetricName !== control.metricName)
    drift.push(`metric ${alarm.Namespace ?? '?'}/${alarm.MetricName ?? '?'}`);
  if ((alarm.Dimensions ?? []).length > 0 || (alarm.Metrics ?? []).length > 0) drift.push('metric dimensions or math');
  if (alarm.Statistic !== s.statistic || alarm.ExtendedStatistic !== undefined)
    drift.push(`statistic ${alarm.Statistic ?? alarm.ExtendedStatistic}`);
  if (alarm.Unit !== undefined) drift.push(`unit ${alarm.Unit}`);
  if (alarm.Period !== s.period) drift.push(`period ${alarm.Period}`);
  if (alarm.EvaluationPeriods !== s.evaluationPeriods) drift.push(`evaluation periods ${alarm.EvaluationPeriods}`);
  if (alarm.DatapointsToAlarm !== undefined && alarm.DatapointsToAlarm !== s.evaluationPeriods)
    drift.push(`datapoints to alarm ${alarm.DatapointsToAlarm}`);
  if (alarm.Threshold !== s.threshold) drift.push(`threshold ${alarm.Threshold}`);
  if (alarm.ComparisonOperator !== s.comparisonOperator) drift.push(`comparison ${alarm.ComparisonOperator}`);
  if ((alarm.TreatMissingData ?? 'missing') !== s.treatMissingData)
    drift.push(`missing data ${alarm.TreatMissingData ?? 'missing'}`);
  for (const [key, value] of Object.entries(alarm)) {
    if (!ALARM_METADATA.has(key) && !ALARM_COMPARED.has(key) && !isEmpty(value))
      drift.push(`${key} ${JSON.stringify(value)}`);
  }
  return drift.length === 0 ? undefined : drift.join(', ');
}

/** A customer key ARN CreateLogGroup takes as it is (an alias is left to the log-group rule's sweep). */
function keyArnOf(settings: Settings): string | undefined {
  return settings.logKmsKey !== undefined && /:key\//.test(settings.logKmsKey) ? settings.logKmsKey : undefined;
}

export function decideActivity(state: ActivityState, settings: Settings): Decision<ActivityAction> {
  const { target, trail, group } = state;
  const home = homeRegion();
  if (trail === undefined) {
    if (settings.activityTrail === undefined) {
      // CloudTrail.1 asks for the trail; without one there is nothing to alarm on (and nothing the engine may invent).
      return noAction(
        'ignored',
        `no multi-region trail is homed in ${home}: create one that logs management events (CloudTrail.1), and the next sweep puts the CloudWatch.1-14 filters and alarms on its log group`,
      );
    }
    return {
      status: 'drifted',
      reason: `no activity trail: the trail ${settings.activityTrail} (DRIFTGUARD_ACTIVITY_TRAIL) does not exist`,
      findings: [{ attribute: 'activity trail', before: 'none', after: settings.activityTrail }],
      actions: [],
      needsHuman: [
        `Re-create the trail ${settings.activityTrail} (or set DRIFTGUARD_ACTIVITY_TRAIL to an existing multi-region trail); the next sweep puts the CloudWatch.1-14 filters and alarms on its log group.`,
      ],
    };
  }
  const rivals = trail.rivals ?? [];
  // With a rival trail the engine cannot tell which group is the account's: an event on another group is not ignored.
  if (
    target.logGroupName !== undefined &&
    group !== undefined &&
    target.logGroupName !== group.name &&
    rivals.length === 0
  ) {
    return noAction('ignored', `${target.logGroupName} is not the activity log group (${group.name})`);
  }
  const findings: Finding[] = [];
  const actions: ActivityAction[] = [];
  const needsHuman: string[] = [];
  if (rivals.length > 0) {
    findings.push({
      attribute: 'activity trail',
      before: `${[trail.trail.name, ...rivals].join(', ')} all qualify`,
      after: trail.trail.name,
    });
    needsHuman.push(
      `Several multi-region trails log all management events to a log group (${[trail.trail.name, ...rivals].join(', ')}): the engine keeps the alarms on ${trail.trail.name}'s group for now. Check who created the others (CloudTrail CreateTrail), and set DRIFTGUARD_ACTIVITY_TRAIL to the account's trail so that a decoy cannot move the alarms.`,
    );
  }
  const bookkeeping: EngineRecord[] = [];
  if (group === undefined) {
    return {
      status: 'drifted',
      reason: `the trail ${trail.trail.name} delivers to no log group`,
      findings: [{ attribute: 'cloudWatchLogsLogGroupArn', before: 'none', after: 'the activity log group' }],
      actions: [],
      needsHuman: [
        `Link the trail ${trail.trail.name} to a CloudWatch Logs group (UpdateTrail CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn), or deploy the stack, which provides one (DRIFTGUARD_ACTIVITY_LOG_GROUP).`,
      ],
    };
  }
  const region = group.region;
  const blind = group.linked && group.exists && trail.trail.isLogging ? deliveryProblem(state.delivery) : undefined;
  if (blind !== undefined) {
    // The filters and alarms are in place but see nothing: the delivery role was made unusable (its trust policy,
    // a permissions boundary, its policy) or the group refuses writes. Nothing the engine may fix on its own.
    findings.push({ attribute: 'delivery to the activity log group', before: blind, after: 'within the hour' });
    needsHuman.push(
      `${blind}: the CloudWatch.1-14 alarms see no record. Check the delivery role ${trail.trail.cloudWatchLogsRoleArn ?? '(none set)'}: its trust policy must let cloudtrail.amazonaws.com assume it, and its policies and permissions boundary must allow logs:CreateLogStream and logs:PutLogEvents on ${group.name}; then GetTrailStatus ${trail.trail.name} must show a recent LatestCloudWatchLogsDeliveryTime.`,
    );
  }
  if (!group.exists) {
    findings.push({ attribute: 'activity log group', before: 'deleted', after: group.name });
    const kmsKeyId = keyArnOf(settings);
    actions.push({
      api: 'logs:CreateLogGroup',
      params: { logGroupName: group.name, ...(kmsKeyId ? { kmsKeyId } : {}) },
      region,
      summary: `log group ${group.name} re-created${kmsKeyId ? ` with ${kmsKeyId}` : ''}`,
      brief: 'log group re-created',
    });
    actions.push({
      api: 'logs:PutRetentionPolicy',
      params: { logGroupName: group.name, retentionInDays: settings.logRetentionDays },
      region,
      summary: `retention of ${group.name} -> ${settings.logRetentionDays} days`,
      brief: `retention ${settings.logRetentionDays}d`,
    });
  }
  if (!group.linked) {
    if (settings.activityDeliveryRoleArn === undefined || !group.exists) {
      return {
        status: 'drifted',
        reason: `the trail ${trail.trail.name} delivers to no log group`,
        findings: [{ attribute: 'cloudWatchLogsLogGroupArn', before: 'none', after: group.name }],
        actions: [],
        needsHuman: [
          `Link the trail ${trail.trail.name} to ${group.name}: ${group.exists ? 'DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN (the role CloudTrail assumes to deliver) is not set' : 'the stack log group does not exist'}; redeploy the stack.`,
        ],
      };
    }
    const partition = trail.trail.trailArn.split(':')[1] ?? 'aws';
    const account = trail.trail.trailArn.split(':')[4] ?? target.account;
    const arn = trailLogGroupArn(partition, region, account, group.name);
    findings.push({ attribute: 'cloudWatchLogsLogGroupArn', before: 'none', after: arn });
    actions.push({
      api: 'cloudtrail:UpdateTrail',
      params: {
        Name: trail.trail.trailArn,
        CloudWatchLogsLogGroupArn: arn,
        CloudWatchLogsRoleArn: settings.activityDeliveryRoleArn,
      },
      region: trail.trail.homeRegion,
      summary: `trail ${trail.trail.name} now delivers to ${group.name}`,
      brief: 'trail linked to log group',
    });
    // The link is part of the trail's baseline: the trail guard keeps it instead of undoing it.
    bookkeeping.push({
      kind: 'trail-baseline',
      trail: trail.trail.name,
      region: trail.trail.homeRegion,
      from: 'activity-alarms',
      mode: 'follow',
      summary: `trail baseline of ${trail.trail.name} follows its link to ${group.name}`,
    });
  }
  for (const control of ACTIVITY_CONTROLS) {
    const name = activityResourceName(control, settings.stage);
    const drift = filterDrift(
      control,
      state.filters.find((filter) => filter.filterName === name),
    );
    if (drift === undefined) continue;
    findings.push({ attribute: `filter ${name}`, before: drift, after: control.pattern });
    actions.push({
      api: 'logs:PutMetricFilter',
      params: desiredMetricFilter(control, settings.stage, group.name),
      region,
      summary: `filter ${name} (${control.id}) ${drift === 'missing' ? 'created' : `restored from ${drift}`}`,
      brief: `${control.id} filter`,
    });
  }
  const topic = settings.noticeTopicArn;
  if (topic === undefined) {
    needsHuman.push('Set DRIFTGUARD_NOTICE_TOPIC_ARN: the activity alarms notify the notice topic.');
  } else {
    if (state.subscribers === 0) {
      // The alarms fire and nobody hears them (an email subscriber can be removed by anyone holding a notice's
      // unsubscribe link). Subscribing someone is a human's choice: the engine cannot invent an address.
      findings.push({ attribute: 'notice topic subscribers', before: 'none confirmed', after: 'at least one' });
      needsHuman.push(
        `Subscribe the on-call address to ${topic} and confirm it (for email, confirm with AuthenticateOnUnsubscribe=true, so that only the topic's owner can unsubscribe it): the CloudWatch.1-14 alarms notify nobody.`,
      );
    }
    for (const control of ACTIVITY_CONTROLS) {
      const name = activityResourceName(control, settings.stage);
      const drift = alarmDrift(
        control,
        state.alarms.find((alarm) => alarm.AlarmName === name),
        topic,
      );
      if (drift === undefined) continue;
      findings.push({
        attribute: `alarm ${name}`,
        before: drift,
        after: `${ACTIVITY_ALARM_SETTINGS.statistic} >= 1 / 300 s -> ${topic} only, enabled`,
      });
      actions.push({
        api: 'cloudwatch:PutMetricAlarm',
        params: desiredAlarm(control, settings.stage, topic),
        region,
        summary: `alarm ${name} (${control.id}) ${drift === 'missing' ? 'created' : `restored from ${drift}`}`,
        brief: `${control.id} alarm`,
      });
    }
  }
  if (actions.length === 0 && needsHuman.length === 0) {
    return noAction('compliant', `the 14 CloudWatch.1-14 filters and alarms are in place on ${group.name}`);
  }
  return {
    status: 'drifted',
    reason: briefReason(findings),
    findings,
    actions,
    needsHuman,
    ...(bookkeeping.length ? { bookkeeping } : {}),
  };
}

function briefReason(findings: Finding[]): string {
  const shown = findings.slice(0, 4).map((f) => `${f.attribute}: ${f.before}`);
  return findings.length > 4 ? `${shown.join('; ')}; and ${findings.length - 4} more` : shown.join('; ');
}

const SWEEP_TARGET = (region: string, account: string): ActivityTarget => ({ region, account, eventName: 'sweep' });

export const activityAlarms = defineRule<ActivityTarget, ActivityState, typeof COMMANDS>({
  id: 'activity-alarms',
  title: 'The CloudWatch.1-14 metric filters and alarms stay on the activity trail log group, notifying the topic',
  severity: 'high',
  controls: [...ACTIVITY_CONTROLS.map((control) => control.id), 'CloudTrail.5'],
  trigger: {
    source: 'aws.logs',
    detailTypes: ['AWS API Call via CloudTrail'],
    eventNames: [...ACTIVITY_LOG_EVENTS],
  },
  commands: COMMANDS,
  reads: [
    { actions: ['logs:DescribeLogGroups', 'logs:DescribeMetricFilters'], resource: LOG_GROUP_ARNS },
    {
      actions: ['cloudwatch:DescribeAlarms'],
      resource: 'arn:${AWS::Partition}:cloudwatch:*:${AWS::AccountId}:alarm:*',
    },
    TRAIL_READS,
    { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: STATE_TABLE_ARN },
    // The notice topic's subscribers (CloudWatch.1-14 ask for one): the stack's topic only.
    {
      actions: ['sns:ListSubscriptionsByTopic'],
      resource: 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${NoticeTopic.TopicName}',
    },
  ],
  target: targetOf,
  describe: describeActivity,
  preScreen,
  inspect: inspectActivity,
  decide: decideActivity,
  classifyFailure: async (action, error) => {
    if (
      action.api === 'cloudtrail:UpdateTrail' &&
      awsErrorName(error) === 'InsufficientCloudWatchLogsDeliveryPermissions'
    )
      return {
        kind: 'refused',
        step: `Let CloudTrail assume ${action.params.CloudWatchLogsRoleArn} and write to ${action.params.CloudWatchLogsLogGroupArn}, then run the sweep.`,
      };
    return undefined;
  },
  sweep: {
    pass: 'activity-alarms',
    onlyRegion: HOME,
    async list(region, token) {
      return token === undefined ? { items: [region] } : { items: [] };
    },
    async assess(region: string, _region, ctx) {
      const target = SWEEP_TARGET(region, ctx.account);
      const state = await inspectActivity(target, ctx);
      return {
        name: state.group?.name ?? 'CloudWatch.1-14',
        resource: { ...describeActivity(target), id: state.group?.name ?? 'CloudWatch.1-14' },
        state,
        decision: decideActivity(state, ctx.settings),
      };
    },
  },
});

const { sweep: _sweptOnce, ...onAlarmCalls } = activityAlarms;

/**
 * The same rule on the alarm calls (source aws.cloudwatch): a rule has one trigger source, so the alarm calls get
 * their own id; the decision, commands and reads are activity-alarms' own (its sweep covers both).
 */
export const activityAlarmsCloudwatch = defineRule<ActivityTarget, ActivityState, typeof COMMANDS>({
  ...onAlarmCalls,
  id: 'activity-alarms-cloudwatch',
  title: 'The CloudWatch.1-14 alarms keep notifying the topic: deleted, changed or disabled alarms are put back',
  trigger: {
    source: 'aws.cloudwatch',
    detailTypes: ['AWS API Call via CloudTrail'],
    eventNames: [...ACTIVITY_ALARM_EVENTS],
  },
});
