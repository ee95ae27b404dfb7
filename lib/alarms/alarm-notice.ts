/**
 * One alarm state change through the notice: screen (ALARM, one of the engine's 14 activity alarms, this account),
 * read the activity log group with FilterLogEvents over the alarm's window using the control's own pattern, re-check
 * each record with lib/filter-pattern.ts, and publish one notice per state-change event (the notice outbox).
 *
 * The pattern is the control's, from lib/activity-controls.ts, never the metric filter's as it stands: whoever can
 * edit the filter (PutMetricFilter with an extra `&& $.userIdentity.userName != "mallory"`) could otherwise hide their
 * own calls from the very notice their other calls tripped.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SNSClient } from '@aws-sdk/client-sns';
import { type AwsClients, arnRegion, awsErrorName } from '../aws.js';
import { type FilterPattern, matchesMessage, parseFilterPattern } from '../filter-pattern.js';
import { NoticeOutbox } from '../notice-outbox.js';
import { type Notice, publishNotice } from '../notices.js';
import { type HandledEvent, ignored } from '../pipeline.js';
import type { Resource, Severity } from '../rule.js';
import type { Settings } from '../settings.js';
import { buildActivityNotice, NO_LOG_GROUP } from './activity-notice.js';
import { type AlarmStateChange, alarmMetric, alarmWindow, type TimeWindow } from './alarm-event.js';

/** One of the engine's activity alarms: its control, the exact alarm name, the metric and the control's pattern. */
export interface ActivityAlarm {
  control: string;
  title: string;
  severity: Severity;
  alarmName: string;
  metricName: string;
  namespace: string;
  filterPattern: string;
}

export interface AlarmNoticeContext {
  settings: Settings;
  aws: AwsClients;
  /** The account the engine acts in (the function's own). */
  accountId: string;
  /** The engine's activity alarms (the 14 controls, named for this stage). */
  alarms: readonly ActivityAlarm[];
  /** The activity log group's name in a region, or undefined when the trail delivers to none. */
  activityLogGroup(region: string): Promise<string | undefined>;
  /** Read and report only: no notice published, no outbox record. */
  dryRun?: boolean;
  logger?: Logger;
}

/** FilterLogEvents pages read at most (10,000 events each): a burst beyond is counted from the query link instead. */
export const MAX_PAGES = 5;

export const ACTIVITY_RULE = 'activity-alarms';

/** What the alarm-notice answers for an event, in the shape the guards answer (replay prints both alike). */
export async function handleAlarmStateChange(event: AlarmStateChange, ctx: AlarmNoticeContext): Promise<HandledEvent> {
  const { alarmName, state } = event.detail;
  const base = { eventId: event.id, eventName: `${alarmName} ${state.value}` };
  const resource: Resource = {
    type: 'alarm',
    id: alarmName,
    region: event.region,
    ...(event.resources[0] ? { arn: event.resources[0] } : {}),
  };
  if (state.value !== 'ALARM')
    return ignored(base, null, null, `alarm ${alarmName} went to ${state.value}: only ALARM is notified`);
  const alarm = ctx.alarms.find((candidate) => candidate.alarmName === alarmName);
  if (alarm === undefined)
    return ignored(base, null, null, `alarm ${alarmName} is not one of the engine's activity alarms`);
  if (event.account !== ctx.accountId) {
    return ignored(
      base,
      ACTIVITY_RULE,
      resource,
      `alarm of account ${event.account}, the engine acts only in ${ctx.accountId}`,
    );
  }
  const expectedArn = alarmArn(event, alarmName);
  if (event.resources.length > 0 && !event.resources.includes(expectedArn)) {
    return ignored(
      base,
      ACTIVITY_RULE,
      resource,
      `the event's alarm ARN is not ${expectedArn}: not the engine's alarm`,
    );
  }
  ctx.logger?.appendKeys({ rule: ACTIVITY_RULE, resource: alarmName, eventId: event.id });
  const pattern = parseFilterPattern(alarm.filterPattern);
  const window = alarmWindow(event);
  const logGroup = await ctx.activityLogGroup(event.region);
  const read = logGroup
    ? await readMatchingRecords(ctx.aws, event.region, logGroup, pattern, window)
    : {
        records: [],
        disputed: [],
        rejected: 0,
        error: 'no activity log group: the trail delivers to no CloudWatch Logs group',
      };
  const notice = buildActivityNotice({
    event,
    control: { id: alarm.control, title: alarm.title, severity: alarm.severity },
    logGroup: logGroup ?? NO_LOG_GROUP,
    window,
    pattern,
    records: read.records,
    disputed: read.disputed,
    rejected: read.rejected,
    ...(read.error ? { readError: read.error } : {}),
    notes: notesFor(event, alarm, read),
  });
  const result: HandledEvent = {
    ...base,
    rule: ACTIVITY_RULE,
    outcome: 'needs-human',
    reason: read.error
      ? `${alarm.control} alarm: the activity log could not be read (${read.error})`
      : `${alarm.control} alarm: ${read.records.length} matching record${read.records.length === 1 ? '' : 's'} in ${logGroup}`,
    resource,
    findings: [],
    actions: [],
    failures: [],
    needsHuman: (notice.document.nextSteps as string[] | undefined) ?? [],
    notice: { subject: notice.subject, severity: notice.severity, published: false },
  };
  if (ctx.dryRun) return result;
  await deliver(notice, result, event, ctx);
  ctx.logger?.info('alarm notified', {
    outcome: result.outcome,
    matched: read.records.length,
    rejected: read.rejected,
  });
  return result;
}

function alarmArn(event: AlarmStateChange, alarmName: string): string {
  const partition = event.resources[0]?.split(':')[1] ?? 'aws';
  return `arn:${partition}:cloudwatch:${event.region}:${event.account}:alarm:${alarmName}`;
}

function notesFor(event: AlarmStateChange, alarm: ActivityAlarm, read: ReadRecords): string[] {
  const notes: string[] = [];
  const metric = alarmMetric(event);
  if ((metric.name && metric.name !== alarm.metricName) || (metric.namespace && metric.namespace !== alarm.namespace)) {
    notes.push(
      `the alarm watches ${metric.namespace ?? '?'}/${metric.name ?? '?'}, not the control's ${alarm.namespace}/${alarm.metricName}: the activity-alarms rule puts it back`,
    );
  }
  if (read.rejected > 0) {
    notes.push(
      `${read.rejected} record(s) CloudWatch Logs matched with the control's filter that the engine's own evaluator does not: listed, marked "disputed"`,
    );
  }
  if (read.truncated)
    notes.push(`more than ${MAX_PAGES} pages of records: the count is a floor, the query has them all`);
  return notes;
}

interface ReadRecords {
  records: Record<string, unknown>[];
  /** Records CloudWatch Logs returned for the pattern that lib/filter-pattern.ts does not match. */
  disputed: Record<string, unknown>[];
  rejected: number;
  truncated?: boolean;
  error?: string;
}

/** The window's log events the pattern selects, each re-checked here: a record the pattern does not match is left out. */
export async function readMatchingRecords(
  aws: AwsClients,
  region: string,
  logGroupName: string,
  pattern: FilterPattern,
  window: TimeWindow,
): Promise<ReadRecords> {
  const logs = aws.client(CloudWatchLogsClient, region);
  const records: { record: Record<string, unknown>; timestamp: number }[] = [];
  const disputed: { record: Record<string, unknown>; timestamp: number }[] = [];
  let rejected = 0;
  let nextToken: string | undefined;
  let pages = 0;
  try {
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          startTime: window.startTime,
          endTime: window.endTime,
          filterPattern: pattern.source,
          nextToken,
        }),
      );
      for (const event of page.events ?? []) {
        const message = event.message ?? '';
        if (!matchesMessage(pattern, message)) {
          // CloudWatch Logs ran the control's own pattern and returned it: AWS is the authority on what matched, so
          // the record is listed, marked, never dropped (lib/filter-pattern.ts writes choices AWS leaves unsaid).
          rejected += 1;
          disputed.push({ record: parseRecord(message), timestamp: event.timestamp ?? 0 });
          continue;
        }
        records.push({ record: JSON.parse(message) as Record<string, unknown>, timestamp: event.timestamp ?? 0 });
      }
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
  } catch (error) {
    return {
      records: [],
      disputed: [],
      rejected,
      error: `${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
    };
  }
  const inOrder = (list: typeof records) => list.sort((a, b) => a.timestamp - b.timestamp).map(({ record }) => record);
  return { records: inOrder(records), disputed: inOrder(disputed), rejected, truncated: nextToken !== undefined };
}

/** A log event's record; one that is not a JSON object is kept as its (shortened) text, never dropped. */
function parseRecord(message: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(message);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through: not JSON
  }
  return { eventName: 'unparsable log event', eventSource: message.slice(0, 200) };
}

async function deliver(notice: Notice, result: HandledEvent, event: AlarmStateChange, ctx: AlarmNoticeContext) {
  const topic = ctx.settings.noticeTopicArn;
  if (topic === undefined || result.notice === null) {
    ctx.logger?.warn('no notice topic configured (DRIFTGUARD_NOTICE_TOPIC_ARN): notice logged only', {
      subject: notice.subject,
    });
    return;
  }
  // One notice per state-change event: a redelivery finds it sent; a retry after a failed publish finds it pending.
  const outbox = ctx.settings.stateTable ? new NoticeOutbox(ctx.aws, ctx.settings.stateTable) : undefined;
  // The role may update items under notice#alarm# alone (scripts/serverless-manifest.ts).
  const key = `alarm#${event.id}`;
  const noticeKey = `${ACTIVITY_RULE}#notice`;
  if (outbox && !(await outbox.claim(key, noticeKey, notice, topic))) {
    result.notice = { ...result.notice, error: 'already sent for this event (a repeated delivery)' };
    return;
  }
  const messageId = await publishNotice(ctx.aws.client(SNSClient, arnRegion(topic) ?? event.region), notice, topic);
  result.notice = { ...result.notice, published: true, ...(messageId ? { messageId } : {}) };
  await outbox?.markSent(key, noticeKey).catch((error: unknown) => {
    ctx.logger?.warn('notice sent but not recorded as sent', error as Error);
  });
}
