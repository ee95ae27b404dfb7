/** Alarm state-change events as CloudWatch sends them, and the alarm-notice handler pointed at a test log group. */

import { ACTIVITY_METRIC_NAMESPACE } from '../../lib/activity-controls.js';
import type { AlarmStateChange } from '../../lib/alarms/alarm-event.js';
import type { ActivityAlarm } from '../../lib/alarms/alarm-notice.js';
import { type AlarmNoticeHandlerOptions, createAlarmNoticeHandler } from '../../lib/alarms/alarm-notice-handler.js';
import { ALARM_NOTICE_DEFAULTS, engineActivityAlarms } from '../../lib/alarms/engine-alarms.js';
import type { HandledEvent } from '../../lib/pipeline.js';
import { invocationContext } from '../../scripts/replay.js';
import type { ActivityRecord } from '../fixtures/activity-records.js';

export const REGION = 'eu-west-1';

/** The engine's alarms as the tests' engine names them (no DRIFTGUARD_STAGE: driftguard-CloudWatch.1 ..). */
export const ACTIVITY_ALARMS: ActivityAlarm[] = engineActivityAlarms(undefined);

export function activityAlarmFor(control: string): ActivityAlarm {
  const alarm = ACTIVITY_ALARMS.find((candidate) => candidate.control === control);
  if (!alarm) throw new Error(`no activity alarm for ${control}`);
  return alarm;
}
export const ACCOUNT = '123456789012';
/** The trail's CloudWatch Logs group in the tests (a name CloudTrail's console would give). */
export const LOG_GROUP = `aws-cloudtrail-logs-${ACCOUNT}-activity`;

const isoAlarm = (time: number) => new Date(time).toISOString().replace('Z', '+0000');

/** "CloudWatch Alarm State Change" of `alarmName` into `state` at `at` (epoch ms), as AWS documents the event. */
export function alarmStateChange(
  alarmName: string,
  state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA',
  at: number,
  id: string,
  metricName = ACTIVITY_ALARMS.find((alarm) => alarm.alarmName === alarmName)?.metricName ?? 'CPUUtilization',
): AlarmStateChange {
  const previous = state === 'ALARM' ? 'OK' : 'ALARM';
  return {
    version: '0',
    id: `alarm-${id}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: state,
        reason: `Threshold Crossed: 1 out of the last 1 datapoints was ${state === 'ALARM' ? 'greater than or equal to' : 'less than'} the threshold (1.0).`,
        reasonData: JSON.stringify({
          version: '1.0',
          queryDate: isoAlarm(at),
          startDate: isoAlarm(at - 300_000),
          period: 300,
        }),
        timestamp: isoAlarm(at),
      },
      previousState: { value: previous, timestamp: isoAlarm(at - 3_600_000) },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: { namespace: ACTIVITY_METRIC_NAMESPACE, name: metricName, dimensions: {} },
              period: 300,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

/** The records with event times from `start`, a second apart, and the log event timestamp CloudTrail gives each. */
export function recordsAt(records: ActivityRecord[], start: number) {
  return records.map(({ record }, index) => {
    const timestamp = start + index * 1000;
    return { record: { ...record, eventTime: new Date(timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z') }, timestamp };
  });
}

/** The handler as the function runs it, on the test log group (unless told otherwise), in the samples' account. */
export function alarmHandler(options: AlarmNoticeHandlerOptions = {}) {
  const handler = createAlarmNoticeHandler(ALARM_NOTICE_DEFAULTS, {
    activityLogGroup: async () => LOG_GROUP,
    ...options,
  });
  return (event: unknown, _context?: unknown): Promise<HandledEvent> =>
    handler(event, invocationContext('driftguard-dev-alarmNotice', { region: REGION, account: ACCOUNT }));
}
