/**
 * The alarm-notice function against the emulator: a trail's log group holds CloudTrail records; an alarm state change
 * of an engine alarm gives one notice naming each matching call and its actor, and nothing the filter does not match;
 * a repeated delivery gives none; OK transitions and alarms not the engine's are ignored.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlarmNoticeHandler } from '../../lib/alarms/alarm-notice-handler.js';
import { ALARM_NOTICE_DEFAULTS } from '../../lib/alarms/engine-alarms.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { invocationContext, runReplay } from '../../scripts/replay.js';
import { ACTIVITY_RECORDS } from '../fixtures/activity-records.js';
import { ACTIVITY_GROUP, activityTrail } from '../support/activity.js';
import {
  ACCOUNT,
  ACTIVITY_ALARMS,
  activityAlarmFor,
  alarmHandler,
  alarmStateChange,
  LOG_GROUP,
  REGION,
  recordsAt,
} from '../support/alarm-events.js';
import { anotherEvent, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const NOW = Date.now();

beforeAll(async () => {
  await freshEngine();
  const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION));
  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  const logStreamName = `123456789012_CloudTrail_${REGION}`;
  await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName }));
  // Every record two minutes before the alarm, a second apart: inside the window of each alarm below.
  const logEvents = recordsAt(ACTIVITY_RECORDS, NOW - 120_000).map(({ record, timestamp }) => ({
    message: JSON.stringify(record),
    timestamp,
  }));
  await logs.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName, logEvents }));
  // Before the window (an hour earlier): a DeleteTrail that no notice below may list.
  const old = ACTIVITY_RECORDS.find(({ name }) => name === 'trail logging stopped')?.record ?? {};
  const before = { ...old, eventName: 'DeleteTrail', eventID: 'outside-the-window' };
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName,
      logEvents: [{ message: JSON.stringify(before), timestamp: NOW - 3_600_000 }],
    }),
  );
  await readNotices();
});

describe('an engine alarm entering ALARM', () => {
  it.each(ACTIVITY_ALARMS.map((alarm) => [alarm.control, alarm] as const))(
    '%s: one notice naming each matching call and its actor, nothing else',
    async (control, alarm) => {
      const result = await alarmHandler()(
        alarmStateChange(alarm.alarmName, 'ALARM', NOW, `${control}-alarm`),
        {} as never,
      );
      const expected = ACTIVITY_RECORDS.filter(({ trips }) => trips.includes(control));
      expect(result.outcome).toBe('needs-human');
      const [notice, ...others] = await readNotices();
      expect(others).toEqual([]);
      const records = notice?.document.records as { eventName: string; actor: { name: string }; eventId: string }[];
      expect(records.map((record) => record.eventId).sort()).toEqual(
        expected.map(({ record }) => String(record.eventID)).sort(),
      );
      // Calls that succeeded are listed first; a failed one leads only when none succeeded, and says so.
      const first = (expected.find(({ record }) => !record.errorCode) ?? expected[0])?.record;
      const failed = first?.errorCode ? `failed ${String(first.errorCode)} ` : '';
      if (first) expect(notice?.subject).toContain(`${control} ${failed}${String(first.eventName)} by`);
      expect(notice?.attributes).toMatchObject({ rule: 'activity-alarms', control, outcome: 'needs-human' });
    },
  );

  it('names root, the call and the source IP in the text of a CloudWatch.1 notice', async () => {
    const alarm = activityAlarmFor('CloudWatch.1');
    await alarmHandler()(alarmStateChange(alarm.alarmName, 'ALARM', NOW, 'root-text'), {} as never);
    const [notice] = await readNotices();
    expect(notice?.subject).toBe('[driftguard] HIGH CloudWatch.1 CreateBucket by root (+1 more)');
  });

  it('publishes no second notice for a repeated delivery of the same state change', async () => {
    const alarm = activityAlarmFor('CloudWatch.5');
    const event = alarmStateChange(alarm.alarmName, 'ALARM', NOW, 'repeated');
    const handler = alarmHandler();
    const first = await handler(event, {} as never);
    const second = await handler(event, {} as never);
    expect(first.notice?.published).toBe(true);
    expect(second.notice).toMatchObject({
      published: false,
      error: 'already sent for this event (a repeated delivery)',
    });
    expect(await readNotices()).toHaveLength(1);
  });

  it.each([
    ['an OK transition', () => alarmStateChange(activityAlarmFor('CloudWatch.5').alarmName, 'OK', NOW, 'ok')],
    ['an alarm not the engine’s', () => alarmStateChange('team-cpu-high', 'ALARM', NOW, 'other')],
  ])('ignores %s', async (_label, event) => {
    const result = await alarmHandler()(event(), {} as never);
    expect(result.outcome).toBe('ignored');
    expect(await readNotices()).toEqual([]);
  });
});

describe('npm run replay with alarm state changes (the samples in events/)', () => {
  const SAMPLES = [
    'cloudwatch-alarm-CloudWatch.1-RootAccountUsage-ALARM',
    'cloudwatch-alarm-CloudWatch.2-UnauthorizedAPICalls-ALARM',
    'cloudwatch-alarm-CloudWatch.5-CloudTrailChanges-OK',
    'cloudwatch-alarm-not-the-engines-ALARM',
  ];
  // The samples' hour moved to an hour ago: CloudWatch Logs takes events of the last 14 days only.
  const hour = new Date(Math.floor(NOW / 3_600_000) * 3_600_000 - 3_600_000);
  const prefix = hour.toISOString().slice(0, 14);
  const files = () =>
    SAMPLES.map((name) => anotherEvent(`events/${name}.json`, 'replayed', [['2026-12-01T10:', prefix]]));

  beforeAll(async () => {
    // The samples are us-east-1's: the activity group there holds the records, from the start of that hour.
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: 'trail' }));
    const logEvents = recordsAt(ACTIVITY_RECORDS, hour.getTime() + 60_000).map(({ record, timestamp }) => ({
      message: JSON.stringify(record),
      timestamp,
    }));
    await logs.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: 'trail', logEvents }));
    process.env.DRIFTGUARD_ACTIVITY_LOG_GROUP = LOG_GROUP;
    await readNotices();
  });

  it('notifies the engine’s alarms entering ALARM, ignores an OK and another alarm, and exits 0', async () => {
    const lines: string[] = [];
    const report = await runReplay({
      files: files(),
      endpoint: testEndpoint(),
      json: true,
      print: (line) => lines.push(line),
    });
    expect(report.exitCode).toBe(0);
    const results = lines.map((line) => JSON.parse(line) as { outcome: string; rule: string | null; notice: unknown });
    expect(results.map((result) => result.outcome)).toEqual(['needs-human', 'needs-human', 'ignored', 'ignored']);
    const subjects = (await readNotices()).map((notice) => notice.subject).sort();
    expect(subjects).toEqual([
      '[driftguard] HIGH CloudWatch.1 CreateBucket by root (+1 more)',
      '[driftguard] MEDIUM CloudWatch.2 failed AccessDenied ListUsers by alice (+2 more)',
    ]);
  });

  it('with --dry-run, reads and prints the notice but publishes nothing', async () => {
    const lines: string[] = [];
    const report = await runReplay({
      files: files().slice(0, 1),
      endpoint: testEndpoint(),
      dryRun: true,
      print: (line) => lines.push(line),
    });
    expect(report.items[0]?.result.notice).toMatchObject({ published: false });
    expect(lines.join('\n')).toContain('notice (not published): [driftguard] HIGH CloudWatch.1 CreateBucket by root');
    expect(await readNotices()).toEqual([]);
  });
});

describe('a trail that delivers to a group of its own, not the stack’s (the common case)', () => {
  const STACK_GROUP = '/driftguard/dev/activity';
  const region = 'us-east-1';

  beforeAll(async () => {
    await activityTrail('org-trail', ACTIVITY_GROUP);
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), region));
    await logs.send(new CreateLogGroupCommand({ logGroupName: STACK_GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: ACTIVITY_GROUP, logStreamName: 'trail' }));
    const logEvents = recordsAt(ACTIVITY_RECORDS, NOW - 120_000).map(({ record, timestamp }) => ({
      message: JSON.stringify(record),
      timestamp,
    }));
    await logs.send(new PutLogEventsCommand({ logGroupName: ACTIVITY_GROUP, logStreamName: 'trail', logEvents }));
    await readNotices();
  });

  it('reads the group the trail delivers to, found at run time, though the stack’s group is configured', async () => {
    const alarm = activityAlarmFor('CloudWatch.5');
    const event = alarmStateChange(alarm.alarmName, 'ALARM', NOW, 'trail-group');
    const handler = createAlarmNoticeHandler(ALARM_NOTICE_DEFAULTS, {
      settings: { ...loadSettings(), activityLogGroup: STACK_GROUP },
    });
    const result = await handler(
      { ...event, region, resources: [`arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${alarm.alarmName}`] },
      invocationContext('driftguard-dev-alarmNotice', { region, account: ACCOUNT }),
    );
    expect(result.reason).toContain(`in ${ACTIVITY_GROUP}`);
    const [notice] = await readNotices();
    expect(notice?.document.logGroup).toBe(ACTIVITY_GROUP);
    const expected = ACTIVITY_RECORDS.filter(({ trips }) => trips.includes('CloudWatch.5'));
    expect(((notice?.document.records ?? []) as { eventId: string }[]).map((record) => record.eventId).sort()).toEqual(
      expected.map(({ record }) => String(record.eventID)).sort(),
    );
  });
});
