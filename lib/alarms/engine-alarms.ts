/**
 * The engine's 14 activity alarms (CloudWatch.1-14) as the alarm notice knows them, from lib/activity-controls.ts: the
 * control, the alarm's exact name for the stage, its metric, and the control's published filter pattern; and where
 * the activity log group is (lib/activity-log-group.ts).
 */

import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { ACTIVITY_CONTROLS, ACTIVITY_METRIC_NAMESPACE, activityResourceName } from '../activity-controls.js';
import { logGroupOfArn, pickActivityTrail } from '../activity-log-group.js';
import { type AwsClients, homeRegion } from '../aws.js';
import type { Severity } from '../rule.js';
import type { Settings } from '../settings.js';
import { trailReference } from '../trails.js';
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
 * The group the notice reads: the one the activity trail delivers to now, found the way the activity-alarms rule
 * finds it (lib/activity-log-group.ts: DRIFTGUARD_ACTIVITY_TRAIL, else the home region's multi-region trail, those
 * delivering to a group first); only when that trail delivers to none, the configured group
 * (DRIFTGUARD_ACTIVITY_LOG_GROUP, the stack's, which the rule links such a trail to). DescribeTrails alone: the group
 * comes from CloudTrail's own answer, never from the alarm event, so an event cannot point the read elsewhere.
 */
export async function noticeLogGroup(
  aws: AwsClients,
  settings: Pick<Settings, 'activityTrail' | 'activityLogGroup'>,
  region: string = homeRegion(),
): Promise<string | undefined> {
  const ref = settings.activityTrail === undefined ? undefined : trailReference(settings.activityTrail, region);
  const { trailList = [] } = await aws.client(CloudTrailClient, ref?.region ?? region).send(
    new DescribeTrailsCommand({
      ...(ref ? { trailNameList: [ref.name] } : {}),
      includeShadowTrails: false,
    }),
  );
  const trail = ref ? trailList.find((candidate) => candidate.Name === ref.name) : pickActivityTrail(trailList, region);
  const arn = trail?.CloudWatchLogsLogGroupArn;
  const group = arn ? logGroupOfArn(arn) : undefined;
  return group?.name ?? settings.activityLogGroup;
}

function activityLogGroup(settings: Settings, aws: AwsClients) {
  return async (): Promise<string | undefined> => noticeLogGroup(aws, settings);
}

export const ALARM_NOTICE_DEFAULTS: AlarmNoticeDefaults = {
  alarms: (settings) => engineActivityAlarms(settings.stage),
  activityLogGroup,
};
