/**
 * The notice an activity alarm gets: the control, each CloudTrail record its filter matches in the alarm's window
 * (time, event name, actor, source IP, region, error code), the first 20 and a count of the rest, and a console link
 * to a Logs Insights query over the same window. Pure: the records come read and re-checked (lib/alarms/alarm-notice.ts).
 */
import type { UserIdentity } from '../envelope.js';
import type { FilterPattern } from '../filter-pattern.js';
import type { Notice } from '../notices.js';
import type { Severity } from '../rule.js';
import { actorName } from '../screening.js';
import type { AlarmStateChange, TimeWindow } from './alarm-event.js';
import { insightsUrl } from './insights-link.js';

/** What the notice names as the log group when the trail delivers to none. */
export const NO_LOG_GROUP = '(none)';

/** Records listed one by one; the rest are counted. */
export const LISTED_RECORDS = 20;
const SUBJECT_LIMIT = 99;

/** What a notice says of one matching CloudTrail record. */
export interface ActivityLine {
  time: string;
  eventName: string;
  eventSource: string;
  /**
   * Who: for a role session the role (role/<RoleName>), never the session name, which the caller chooses
   * (AssumeRole's RoleSessionName): that is data, in `session`, with the role's ARN, sourceIdentity and access key.
   */
  actor: {
    name: string;
    arn: string | null;
    type: string;
    session?: string;
    roleArn?: string;
    sourceIdentity?: string;
    accessKeyId?: string;
  };
  sourceIPAddress: string | null;
  region: string;
  errorCode: string | null;
  eventId: string | null;
  /** CloudWatch Logs matched it with the control's pattern; lib/filter-pattern.ts does not (listed all the same). */
  disputed?: true;
}

/** The control an alarm serves, as the notice names it. */
export interface NoticeControl {
  /** Security Hub control id, e.g. CloudWatch.5. */
  id: string;
  title: string;
  severity: Severity;
}

export interface ActivityNoticeInput {
  event: AlarmStateChange;
  control: NoticeControl;
  logGroup: string;
  window: TimeWindow;
  /** The control's filter pattern, as read with and re-checked against. */
  pattern: FilterPattern;
  /** Every matching record, in time order. */
  records: Record<string, unknown>[];
  /** Records FilterLogEvents returned that the local evaluator does not match: listed, marked disputed. */
  disputed?: Record<string, unknown>[];
  /** How many of those there are. */
  rejected: number;
  /** Why the log group could not be read (then records is empty and the notice says what to do). */
  readError?: string;
  /** Other things a reader must know (the alarm watches another metric than the control's, say). */
  notes?: string[];
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The facts of a record, read defensively: a log event is data, not a promise of shape. */
export function activityLine(record: Record<string, unknown>): ActivityLine {
  const identity = (record.userIdentity ?? {}) as Record<string, unknown>;
  const userIdentity = { ...identity, type: text(identity.type) ?? 'Unknown' } as UserIdentity;
  return {
    time: text(record.eventTime) ?? 'unknown time',
    eventName: text(record.eventName) ?? 'unknown call',
    eventSource: text(record.eventSource) ?? 'unknown service',
    actor: actorOf(identity, userIdentity),
    sourceIPAddress: text(record.sourceIPAddress) ?? null,
    region: text(record.awsRegion) ?? 'unknown region',
    errorCode: text(record.errorCode) ?? null,
    eventId: text(record.eventID) ?? null,
  };
}

const ASSUMED_ROLE = /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/;

function actorOf(identity: Record<string, unknown>, userIdentity: UserIdentity): ActivityLine['actor'] {
  const arn = text(identity.arn) ?? null;
  const context = (identity.sessionContext ?? {}) as Record<string, unknown>;
  const issuer = (context.sessionIssuer ?? {}) as Record<string, unknown>;
  const extra = {
    ...(text(identity.accessKeyId) ? { accessKeyId: text(identity.accessKeyId) } : {}),
    ...(text(context.sourceIdentity) || text(identity.sourceIdentity)
      ? { sourceIdentity: text(context.sourceIdentity) ?? text(identity.sourceIdentity) }
      : {}),
  };
  const session = arn ? ASSUMED_ROLE.exec(arn) : null;
  if (userIdentity.type === 'AssumedRole' && session?.[1]) {
    const roleName = text(issuer.userName) ?? session[1];
    return {
      name: `role/${roleName}`,
      arn,
      type: userIdentity.type,
      ...(session[2] ? { session: session[2] } : {}),
      ...(text(issuer.arn) ? { roleArn: text(issuer.arn) } : {}),
      ...extra,
    };
  }
  return { name: actorName(userIdentity), arn, type: userIdentity.type, ...extra };
}

/**
 * The order a reader needs: calls that succeeded first (a stream of denied calls must not push a real change out of
 * the listed ones), then the failed ones, each in time order.
 */
export function noticeOrder(lines: readonly ActivityLine[]): ActivityLine[] {
  return [...lines.filter((line) => !line.errorCode), ...lines.filter((line) => line.errorCode)];
}

/** Failed calls by actor: each distinct actor appears once, with a count, whatever the flood. */
export function failedByActor(lines: readonly ActivityLine[]) {
  const groups = new Map<
    string,
    { actor: string; arn: string | null; calls: number; eventNames: string[]; errorCodes: string[] }
  >();
  for (const line of lines) {
    if (!line.errorCode) continue;
    const key = line.actor.arn ?? line.actor.name;
    const group = groups.get(key) ?? {
      actor: line.actor.name,
      arn: line.actor.arn,
      calls: 0,
      eventNames: [],
      errorCodes: [],
    };
    group.calls += 1;
    if (!group.eventNames.includes(line.eventName)) group.eventNames.push(line.eventName);
    if (!group.errorCodes.includes(line.errorCode)) group.errorCodes.push(line.errorCode);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.calls - a.calls || a.actor.localeCompare(b.actor));
}

function renderLine(line: ActivityLine): string {
  const failed = `${line.errorCode ? ` FAILED ${line.errorCode}` : ''}${line.disputed ? ' (disputed: matched by CloudWatch Logs, not by the local evaluator)' : ''}`;
  const session = line.actor.session ? `, session '${line.actor.session}' (set by the caller)` : '';
  return `${line.time}  ${line.eventName} (${line.eventSource}) by ${line.actor.name} (${line.actor.arn ?? line.actor.type}${session}) from ${line.sourceIPAddress ?? 'unknown IP'} in ${line.region}${failed}`;
}

const printable = (value: string) => value.replace(/[^\x20-\x7e]/g, '?');

function subjectOf(severity: Severity, control: NoticeControl, lines: ActivityLine[], readError?: string): string {
  const head = `[driftguard] ${severity.toUpperCase()} ${control.id}`;
  const first = lines[0];
  let tail: string;
  if (readError) tail = 'alarm: activity log unreadable';
  else if (!first) tail = 'alarm: no matching record found yet';
  else {
    const more = lines.length > 1 ? ` (+${lines.length - 1} more)` : '';
    const failed = first.errorCode ? `failed ${first.errorCode} ` : '';
    tail = `${failed}${first.eventName} by ${first.actor.name}${more}`;
  }
  const subject = printable(`${head} ${tail}`);
  return subject.length <= SUBJECT_LIMIT ? subject : `${subject.slice(0, SUBJECT_LIMIT - 3)}...`;
}

const iso = (time: number) => new Date(time).toISOString();

export function buildActivityNotice(input: ActivityNoticeInput): Notice {
  const { event, control, window } = input;
  const lines = noticeOrder([
    ...input.records.map(activityLine),
    ...(input.disputed ?? []).map((record): ActivityLine => ({ ...activityLine(record), disputed: true })),
  ]);
  const denied = failedByActor(lines);
  const listed = lines.slice(0, LISTED_RECORDS);
  const more = lines.length - listed.length;
  const region = event.region;
  const consoleUrl = insightsUrl(region, input.logGroup, window, input.pattern);
  const nextSteps = stepsFor(input, lines.length);
  const document = {
    kind: 'driftguard.activity-notice',
    version: 1,
    rule: 'activity-alarms',
    control: control.id,
    title: control.title,
    severity: control.severity,
    outcome: 'needs-human',
    account: event.account,
    region,
    alarm: {
      name: event.detail.alarmName,
      arn: event.resources[0] ?? null,
      state: event.detail.state.value,
      reason: event.detail.state.reason ?? null,
      changedAt: event.detail.state.timestamp,
    },
    event: { id: event.id, time: event.time },
    logGroup: input.logGroup,
    window: { start: iso(window.startTime), end: iso(window.endTime) },
    filterPattern: input.pattern.source,
    matched: lines.length,
    succeeded: lines.filter((line) => !line.errorCode).length,
    records: listed,
    failedByActor: denied,
    moreRecords: more,
    readError: input.readError ?? null,
    notes: input.notes ?? [],
    nextSteps,
    consoleUrl,
  };
  const textLines = [
    `ALARM: ${control.id} ${control.title}`,
    '',
    `Alarm: ${event.detail.alarmName} entered ALARM at ${event.detail.state.timestamp}`,
    `Activity log: ${input.logGroup}, ${iso(window.startTime)} to ${iso(window.endTime)}`,
    `Filter: ${input.pattern.source}`,
  ];
  if (input.readError) textLines.push(`Could not read the activity log: ${input.readError}`);
  else if (lines.length === 0) textLines.push('No record in the window matches the filter yet.');
  else {
    const succeeded = lines.filter((line) => !line.errorCode).length;
    textLines.push(
      `What tripped it (${lines.length} matching record${lines.length === 1 ? '' : 's'}, ${succeeded} succeeded; succeeded first):`,
    );
    textLines.push(...listed.map((line) => `  - ${renderLine(line)}`));
    if (more > 0) textLines.push(`  ... and ${more} more (see the query below)`);
    if (denied.length > 0) {
      textLines.push('Failed calls by actor:');
      textLines.push(
        ...denied.map(
          (group) =>
            `  - ${group.actor} (${group.arn ?? 'no ARN'}): ${group.calls} failed (${group.errorCodes.join(', ')}): ${group.eventNames.join(', ')}`,
        ),
      );
    }
  }
  for (const note of input.notes ?? []) textLines.push(`Note: ${note}`);
  textLines.push('What a human must do:', ...nextSteps.map((step) => `  - ${step}`));
  textLines.push(
    '',
    `Rule: activity-alarms   Control: ${control.id}   Severity: ${control.severity}   Outcome: needs-human`,
    `Account: ${event.account}   Region: ${region}`,
    `Logs Insights: ${consoleUrl}`,
    `Event: ${event.id}`,
  );
  return {
    subject: subjectOf(control.severity, control, lines, input.readError),
    severity: control.severity,
    text: textLines.join('\n'),
    document,
    attributes: {
      severity: control.severity,
      rule: 'activity-alarms',
      outcome: 'needs-human',
      account: event.account,
      control: control.id,
    },
  };
}

function stepsFor(input: ActivityNoticeInput, matched: number): string[] {
  if (input.readError && input.logGroup === NO_LOG_GROUP) {
    return [
      'Link the activity trail to a CloudWatch Logs group (the activity-alarms sweep links it to the stack’s), then look up the calls in CloudTrail event history over the window above',
    ];
  }
  if (input.readError) {
    return [
      `Restore the alarm notice's read access to ${input.logGroup} (or set activityLogGroup to the trail's group), then run the Logs Insights query linked below over the same window`,
    ];
  }
  if (matched === 0) {
    return [
      'CloudTrail delivers records to the log group minutes after the call: run the Logs Insights query linked below in a few minutes',
    ];
  }
  return [
    `Confirm with each actor listed that the call was intended; if not, revoke the actor's credentials and undo the change`,
  ];
}
