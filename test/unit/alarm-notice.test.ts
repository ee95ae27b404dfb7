import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activityLine, buildActivityNotice, LISTED_RECORDS } from '../../lib/alarms/activity-notice.js';
import {
  alarmTime,
  alarmWindow,
  isAlarmStateChange,
  parseAlarmStateChange,
  WINDOW_MARGIN_MS,
} from '../../lib/alarms/alarm-event.js';
import { insightsQuery, insightsUrl } from '../../lib/alarms/insights-link.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { parseFilterPattern } from '../../lib/filter-pattern.js';
import { BadInputError, loadEventFile, loadEventFiles } from '../../scripts/replay.js';
import { ACTIVITY_RECORDS } from '../fixtures/activity-records.js';

const CHANGED_AT = '2026-12-01T10:05:00.000+0000';

type RawAlarm = Record<string, unknown> & { detail: Record<string, unknown> };

function alarmEvent(change: (event: RawAlarm) => unknown = () => undefined): RawAlarm {
  const event: RawAlarm = {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-12-01T10:05:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:driftguard-dev-CloudTrailChanges'],
    detail: {
      alarmName: 'driftguard-dev-CloudTrailChanges',
      state: {
        value: 'ALARM',
        reason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/12/26 10:00:00)] was >= 1.0',
        reasonData: JSON.stringify({ version: '1.0', startDate: '2026-12-01T10:00:00.000+0000', period: 300 }),
        timestamp: CHANGED_AT,
      },
      previousState: { value: 'OK', timestamp: '2026-12-01T09:00:00.000+0000' },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: { namespace: 'driftguard', name: 'CloudTrailChanges', dimensions: {} },
              period: 300,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    } as Record<string, unknown>,
  };
  change(event);
  return event;
}

describe('alarm state-change events', () => {
  it('parses the documented shape and recognises it', () => {
    const event = parseAlarmStateChange(alarmEvent());
    expect(event.detail.state.value).toBe('ALARM');
    expect(isAlarmStateChange(alarmEvent())).toBe(true);
    expect(isAlarmStateChange({ 'detail-type': 'AWS API Call via CloudTrail' })).toBe(false);
  });

  it.each([
    ['no alarm name', (e: RawAlarm) => delete e.detail.alarmName, 'detail.alarmName'],
    ['an unknown state', (e: RawAlarm) => ((e.detail.state as { value: string }).value = 'RED'), 'detail.state.value'],
    [
      'a state time that is none',
      (e: RawAlarm) => ((e.detail.state as { timestamp: string }).timestamp = 'soon'),
      'not a time',
    ],
    ['another source', (e: RawAlarm) => (e.source = 'aws.events'), 'source'],
    ['a bad account', (e: RawAlarm) => (e.account = '42'), 'account'],
  ])('refuses %s, naming it', (_label, change, problem) => {
    expect(() => parseAlarmStateChange(alarmEvent(change))).toThrow(MalformedEventError);
    expect(() => parseAlarmStateChange(alarmEvent(change))).toThrow(problem);
  });

  it.each([
    ['2026-12-01T10:05:00.000+0000', Date.UTC(2026, 11, 1, 10, 5)],
    ['2026-12-01T12:05:00.000+0200', Date.UTC(2026, 11, 1, 10, 5)],
    ['2026-12-01T10:05:00Z', Date.UTC(2026, 11, 1, 10, 5)],
  ])('reads the time %s', (text, expected) => {
    expect(alarmTime(text)).toBe(expected);
  });

  const changedAt = Date.UTC(2026, 11, 1, 10, 5);
  it.each([
    ['reasonData.startDate before the change', alarmEvent(), Date.UTC(2026, 11, 1, 10, 0) - WINDOW_MARGIN_MS],
    [
      'no reasonData: one period before the change',
      alarmEvent((e) => delete (e.detail.state as { reasonData?: string }).reasonData),
      changedAt - 300_000 - WINDOW_MARGIN_MS,
    ],
    [
      'unreadable reasonData',
      alarmEvent((e) => ((e.detail.state as { reasonData: string }).reasonData = '{not json')),
      changedAt - 300_000 - WINDOW_MARGIN_MS,
    ],
    [
      'a longer evaluated range (three periods)',
      alarmEvent(
        (e) =>
          ((e.detail.state as { reasonData: string }).reasonData = JSON.stringify({
            startDate: '2026-12-01T09:50:00.000+0000',
          })),
      ),
      Date.UTC(2026, 11, 1, 9, 50) - WINDOW_MARGIN_MS,
    ],
    [
      'a start after the change (ignored)',
      alarmEvent(
        (e) =>
          ((e.detail.state as { reasonData: string }).reasonData = JSON.stringify({
            startDate: '2026-12-01T11:00:00.000+0000',
          })),
      ),
      changedAt - 300_000 - WINDOW_MARGIN_MS,
    ],
  ])('window: %s', (_label, raw, start) => {
    expect(alarmWindow(parseAlarmStateChange(raw))).toEqual({
      startTime: start,
      endTime: changedAt + WINDOW_MARGIN_MS,
    });
  });
});

const TRAIL_PATTERN = parseFilterPattern(
  '{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}',
);
const WINDOW = { startTime: Date.UTC(2026, 11, 1, 9, 58), endTime: Date.UTC(2026, 11, 1, 10, 7) };
const CONTROL = { id: 'CloudWatch.5', title: 'CloudTrail configuration changes', severity: 'high' as const };
const record = (name: string) => {
  const found = ACTIVITY_RECORDS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no record ${name}`);
  return found.record;
};

describe('the activity notice', () => {
  const event = parseAlarmStateChange(alarmEvent());
  const notice = (records: Record<string, unknown>[], extra: Partial<Parameters<typeof buildActivityNotice>[0]> = {}) =>
    buildActivityNotice({
      event,
      control: CONTROL,
      logGroup: 'aws-cloudtrail-logs-123456789012',
      window: WINDOW,
      pattern: TRAIL_PATTERN,
      records,
      rejected: 0,
      ...extra,
    });

  it('names the control, each call, its actor, source IP, region and error code', () => {
    const stopped = record('trail logging stopped');
    const denied = { ...record('trail updated'), errorCode: 'AccessDenied' };
    const built = notice([stopped, denied]);
    expect(built.subject).toBe('[driftguard] HIGH CloudWatch.5 StopLogging by alice (+1 more)');
    expect(built.text).toContain('ALARM: CloudWatch.5 CloudTrail configuration changes');
    expect(built.text).toContain(
      'StopLogging (cloudtrail.amazonaws.com) by alice (arn:aws:iam::123456789012:user/alice) from 203.0.113.25 in eu-west-1',
    );
    expect(built.text).toContain('UpdateTrail (cloudtrail.amazonaws.com) by alice');
    expect(built.text).toContain('FAILED AccessDenied');
    expect(built.document).toMatchObject({
      rule: 'activity-alarms',
      control: 'CloudWatch.5',
      matched: 2,
      moreRecords: 0,
      alarm: { name: 'driftguard-dev-CloudTrailChanges', state: 'ALARM' },
      window: { start: '2026-12-01T09:58:00.000Z', end: '2026-12-01T10:07:00.000Z' },
    });
    expect(built.attributes).toEqual({
      severity: 'high',
      rule: 'activity-alarms',
      outcome: 'needs-human',
      account: '123456789012',
      control: 'CloudWatch.5',
    });
  });

  it(`lists the first ${LISTED_RECORDS} and counts the rest`, () => {
    const many = Array.from({ length: 27 }, (_, index) => ({
      ...record('trail logging stopped'),
      eventID: `id-${index}`,
    }));
    const built = notice(many);
    expect((built.document.records as unknown[]).length).toBe(LISTED_RECORDS);
    expect(built.document.moreRecords).toBe(7);
    expect(built.text).toContain('... and 7 more');
    expect(built.subject).toContain('(+26 more)');
  });

  it.each([
    [[], undefined, 'alarm: no matching record found yet', 'in a few minutes'],
    [[], 'AccessDeniedException: not allowed', 'alarm: activity log unreadable', 'read access to aws-cloudtrail-logs'],
  ])('says what to do when nothing is listed (%#)', (records, readError, subject, step) => {
    const built = notice(records, readError ? { readError } : {});
    expect(built.subject).toContain(subject);
    expect(built.text).toContain(step);
    expect(built.subject.length).toBeLessThan(100);
  });

  it.each([
    ['root', record('root API call'), { name: 'root', type: 'Root' }],
    [
      'a role session (the role, the session only as data)',
      record('VPC created'),
      {
        name: 'role/deploy',
        type: 'AssumedRole',
        session: 'deploy',
        roleArn: 'arn:aws:iam::123456789012:role/deploy',
        accessKeyId: 'ASIAEXAMPLESESSION02',
      },
    ],
    ['no identity at all', { eventName: 'X' }, { name: 'Unknown', type: 'Unknown' }],
  ])('names the actor of %s', (_label, raw, actor) => {
    expect(activityLine(raw).actor).toMatchObject(actor);
  });

  it('names the role, not the caller-chosen session name, in the subject', () => {
    const base = record('VPC created');
    const spoofed = {
      ...base,
      userIdentity: {
        ...(base.userIdentity as Record<string, unknown>),
        arn: 'arn:aws:sts::123456789012:assumed-role/deploy/alice@corp.example',
      },
    };
    const built = notice([spoofed]);
    expect(built.subject).toBe('[driftguard] HIGH CloudWatch.5 CreateVpc by role/deploy');
    expect(built.subject).not.toContain('alice');
    expect(built.text).toContain("session 'alice@corp.example' (set by the caller)");
  });

  it('lists a successful call before a flood of denied ones, and groups the denied by actor', () => {
    const flood = Array.from({ length: 40 }, (_, index) => ({
      ...record('trail updated'),
      errorCode: 'AccessDenied',
      eventID: `denied-${index}`,
      userIdentity: {
        type: 'IAMUser',
        userName: `noise${index % 2}`,
        arn: `arn:aws:iam::123456789012:user/noise${index % 2}`,
      },
    }));
    const real = { ...record('trail logging stopped'), eventID: 'the-real-one' };
    const built = notice([...flood, real]);
    const listed = built.document.records as { eventId: string }[];
    expect(listed[0]?.eventId).toBe('the-real-one');
    expect(built.subject).toBe('[driftguard] HIGH CloudWatch.5 StopLogging by alice (+40 more)');
    expect(built.document.succeeded).toBe(1);
    expect(built.document.failedByActor).toEqual([
      {
        actor: 'noise0',
        arn: 'arn:aws:iam::123456789012:user/noise0',
        calls: 20,
        eventNames: ['UpdateTrail'],
        errorCodes: ['AccessDenied'],
      },
      {
        actor: 'noise1',
        arn: 'arn:aws:iam::123456789012:user/noise1',
        calls: 20,
        eventNames: ['UpdateTrail'],
        errorCodes: ['AccessDenied'],
      },
    ]);
    expect(built.text).toContain(
      'noise1 (arn:aws:iam::123456789012:user/noise1): 20 failed (AccessDenied): UpdateTrail',
    );
  });

  it('says a failed call is failed in the subject when nothing succeeded', () => {
    const denied = { ...record('trail updated'), errorCode: 'AccessDenied' };
    expect(notice([denied]).subject).toBe('[driftguard] HIGH CloudWatch.5 failed AccessDenied UpdateTrail by alice');
  });

  it('lists a record CloudWatch Logs matched but the local evaluator does not, marked disputed, never dropped', () => {
    const disputed = { ...record('trail logging stopped'), eventID: 'disputed-one' };
    const built = notice([], { disputed: [disputed], rejected: 1 });
    expect(built.document.matched).toBe(1);
    expect(built.document.records).toEqual([expect.objectContaining({ eventId: 'disputed-one', disputed: true })]);
    expect(built.text).toContain('StopLogging (cloudtrail.amazonaws.com) by alice');
    expect(built.text).toContain('(disputed: matched by CloudWatch Logs, not by the local evaluator)');
  });

  it('keeps the subject printable and under 100 characters', () => {
    const long = { ...record('trail logging stopped'), eventName: 'X'.repeat(120) };
    const built = notice([long]);
    expect(built.subject.length).toBeLessThan(100);
  });
});

describe('the Logs Insights link', () => {
  it.each([
    ['{ $.eventName = "StopLogging" }', 'filter eventName = "StopLogging"'],
    ['{ ($.a = 1) && ($.b.c != "x") }', 'filter (a = 1 and b.c != "x")'],
    [
      '{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }',
      'filter (errorCode like /UnauthorizedOperation$/ or errorCode like /^AccessDenied/)',
    ],
    ['{ $.userIdentity.invokedBy NOT EXISTS }', 'filter not ispresent(userIdentity.invokedBy)'],
    ['{ $.items[0].id = * }', 'filter ispresent(items.0.id)'],
    ['{ $.a.b = "x.y*" }', 'filter a.b like /^x\\.y/'],
  ])('translates %s', (pattern, filter) => {
    expect(insightsQuery(parseFilterPattern(pattern))).toContain(`| ${filter}\n`);
  });

  it('filters nothing where a condition has no faithful form (IS NULL)', () => {
    expect(insightsQuery(parseFilterPattern('{ $.a IS NULL }'))).not.toContain('filter');
  });

  it('opens the group over the window, in the console encoding', () => {
    const url = insightsUrl('eu-west-1', '/aws/cloudtrail/org', WINDOW, TRAIL_PATTERN);
    expect(url).toMatch(
      /^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:logs-insights\$3FqueryDetail\$3D~\(end~'/,
    );
    expect(url).toContain("start~'2026-12-01T09*3a58*3a00.000Z");
    expect(url).toContain("~source~(~'*2faws*2fcloudtrail*2forg))");
    expect(url).not.toMatch(/[\s"]/);
  });
});

describe('replay input: alarm state changes', () => {
  const write = (content: unknown) => {
    const path = join(mkdtempSync(join(tmpdir(), 'driftguard-alarm-')), 'event.json');
    writeFileSync(path, JSON.stringify(content));
    return path;
  };

  it.each(
    readdirSync('events')
      .filter((name) => name.startsWith('cloudwatch-alarm-'))
      .map((name) => [name]),
  )('loads events/%s as an alarm state change', (name) => {
    const { event } = loadEventFile(`events/${name}`);
    expect(isAlarmStateChange(event)).toBe(true);
  });

  it('refuses a broken alarm state change, naming the file and the field, before anything runs', () => {
    const broken = alarmEvent((e) => delete e.detail.alarmName);
    const file = write(broken);
    expect(() => loadEventFiles([file])).toThrow(BadInputError);
    expect(() => loadEventFiles([file])).toThrow(`${file}: not an alarm state change: detail.alarmName`);
  });
});
