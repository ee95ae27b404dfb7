/**
 * The engine's 14 activity alarms (CloudWatch.1-14) as the alarm notice knows them, from lib/activity-controls.ts: the
 * control, the alarm's exact name for the stage, its metric, and the control's published filter pattern; and where
 * the activity log group is (lib/activity-log-group.ts).
 */
import { ACTIVITY_CONTROLS, ACTIVITY_METRIC_NAMESPACE, activityResourceName } from '../activity-controls.js';
import { findActivityTrail } from '../activity-log-group.js';
import type { AwsClients } from '../aws.js';
import type { Severity } from '../rule.js';
import type { Settings } from '../settings.js';
import type { ActivityAlarm } from './alarm-notice.js';
import type { AlarmNoticeDefaults } from './alarm-notice-handler.js';

/**
 * What a notice's severity is: high where the call blinds or owns the account (root, a console sign-in without MFA,
 * the trail, a key that encrypts logs), medium for the rest.
 */
const HIGH: readonly string[] = ['CloudWatch.1', 'CloudWatch.3', 'CloudWatch.5', 'CloudWatch.7'];

/** The activity alarms of a stage (unset: the local names, driftguard-CloudWatch.1 ..). */
export function engineActivityAlarms(stage: string | undefined): ActivityAlarm[] {
  return ACTIVITY_CONTROLS.map((control) => ({
    control: control.id,
    title: control.title,
    severity: HIGH.includes(control.id) ? 'high' : ('medium' satisfies Severity),
    metricName: control.metricName,
    namespace: ACTIVITY_METRIC_NAMESPACE,
    alarmName: activityResourceName(control, stage),
    filterPattern: control.pattern,
  }));
}

/**
 * The configured activity group (the stack sets it, and its role may read that group alone); unset (the replay), the
 * group the activity trail delivers to.
 */
function activityLogGroup(settings: Settings, aws: AwsClients) {
  return async (): Promise<string | undefined> =>
    settings.activityLogGroup ?? (await findActivityTrail(aws, settings))?.logGroup?.name;
}

export const ALARM_NOTICE_DEFAULTS: AlarmNoticeDefaults = {
  alarms: (settings) => engineActivityAlarms(settings.stage),
  activityLogGroup,
};
