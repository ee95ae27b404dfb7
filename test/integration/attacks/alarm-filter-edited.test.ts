/**
 * Attack: mallory, who may edit metric filters and alarms (logs:PutMetricFilter, cloudwatch:PutMetricAlarm), stops the
 * trail and hides from the notice: she adds `&& $.userIdentity.userName != "mallory"` to the CloudWatch.5 filter
 * and points the alarm at another metric. When alice's UpdateTrail trips the alarm anyway (or the activity-alarms rule
 * has put the filter back), the notice reads the log with the control's own pattern, never the filter as it stands:
 * mallory's StopLogging is listed, and the notice says the alarm watches another metric.
 * Also: the log group gone, or none at all, still gives a notice that says so and what to do.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_METRIC_NAMESPACE } from '../../../lib/activity-controls.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { ACTIVITY_RECORDS } from '../../fixtures/activity-records.js';
import {
  activityAlarmFor,
  alarmHandler,
  alarmStateChange,
  LOG_GROUP,
  REGION,
  recordsAt,
} from '../../support/alarm-events.js';
import { freshEngine, readNotices, testEndpoint } from '../../support/emulator.js';

const NOW = Date.now();
const CONTROL = activityAlarmFor('CloudWatch.5');
const record = (name: string) => {
  const found = ACTIVITY_RECORDS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no record ${name}`);
  return found;
};
const mallory = {
  type: 'IAMUser',
  principalId: 'AIDAMALLORYEXAMPLE01',
  arn: 'arn:aws:iam::123456789012:user/mallory',
  accountId: '123456789012',
  accessKeyId: 'AKIAMALLORYEXAMPLE01',
  userName: 'mallory',
};
const stopped = record('trail logging stopped');
const MALLORY_STOPS = { ...stopped, record: { ...stopped.record, userIdentity: mallory, eventID: 'mallory-stop' } };

beforeAll(async () => {
  await freshEngine();
  const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION));
  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: 'trail' }));
  const logEvents = recordsAt([MALLORY_STOPS, record('trail updated')], NOW - 60_000).map(({ record, timestamp }) => ({
    message: JSON.stringify(record),
    timestamp,
  }));
  await logs.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: 'trail', logEvents }));
  // Mallory's edit: the filter no longer counts her own calls.
  await logs.send(
    new PutMetricFilterCommand({
      logGroupName: LOG_GROUP,
      filterName: CONTROL.alarmName,
      filterPattern: `{ (($.eventName=StopLogging) || ($.eventName=UpdateTrail)) && ($.userIdentity.userName != "mallory") }`,
      metricTransformations: [
        { metricName: CONTROL.metricName, metricNamespace: ACTIVITY_METRIC_NAMESPACE, metricValue: '1' },
      ],
    }),
  );
  await readNotices();
});

describe('a filter edited to hide its editor', () => {
  it('still lists her call: the notice reads with the control’s pattern, and says the alarm watches another metric', async () => {
    const event = alarmStateChange(CONTROL.alarmName, 'ALARM', NOW, 'edited', 'SomethingHarmless');
    const result = await alarmHandler()(event);
    expect(result.outcome).toBe('needs-human');
    const [notice] = await readNotices();
    const records = notice?.document.records as { eventName: string; actor: { name: string } }[];
    expect(records.map((line) => `${line.eventName} by ${line.actor.name}`)).toEqual([
      'StopLogging by mallory',
      'UpdateTrail by alice',
    ]);
    expect(notice?.subject).toBe('[driftguard] HIGH CloudWatch.5 StopLogging by mallory (+1 more)');
    expect(notice?.text).toContain(
      `the alarm watches ${ACTIVITY_METRIC_NAMESPACE}/SomethingHarmless, not the control's ${ACTIVITY_METRIC_NAMESPACE}/CloudTrailChanges`,
    );
  });
});

describe('an activity log the notice cannot read', () => {
  it.each([
    ['a group that is gone', async () => 'driftguard-no-such-group', 'ResourceNotFoundException', 'read access to'],
    [
      'no group at all (the trail delivers to none)',
      async () => undefined,
      'the trail delivers to no CloudWatch Logs group',
      'Link the activity trail to a CloudWatch Logs group',
    ],
  ])('%s: a notice that says so and what to do', async (_label, activityLogGroup, reason, step) => {
    const event = alarmStateChange(CONTROL.alarmName, 'ALARM', NOW, `unreadable-${reason.length}`);
    const result = await alarmHandler({ activityLogGroup })(event);
    expect(result.outcome).toBe('needs-human');
    expect(result.reason).toContain(reason);
    const [notice] = await readNotices();
    expect(notice?.subject).toBe('[driftguard] HIGH CloudWatch.5 alarm: activity log unreadable');
    expect(notice?.text).toContain(step);
  });

  it.each([
    ['another account', { account: '999988887777' }],
    ['an alarm ARN that is not the engine’s', { resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:decoy'] }],
  ])('ignores an event of %s, publishing nothing', async (_label, change) => {
    const event = { ...alarmStateChange(CONTROL.alarmName, 'ALARM', NOW, `foreign-${_label.length}`), ...change };
    const result = await alarmHandler()(event);
    expect(result.outcome).toBe('ignored');
    expect(await readNotices()).toEqual([]);
  });
});
