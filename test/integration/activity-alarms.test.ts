/**
 * activity-alarms against the emulator: a multi-region trail delivering to a log group; one sweep puts the 14 filters
 * and alarms in place; a filter deleted and alarm actions disabled by hand are put back when their events are replayed.
 */
import { CloudTrailClient, GetTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_CONTROLS, ACTIVITY_METRIC_NAMESPACE } from '../../lib/activity-controls.js';
import { RULES } from '../../lib/registry.js';
import { runSweep } from '../../lib/sweep/sweep.js';
import {
  ACCOUNT,
  activityTrail,
  config,
  engineAlarms,
  engineFilters,
  REGION,
  replay,
  sweepEngine,
} from '../support/activity.js';
import { freshEngine, readNotices } from '../support/emulator.js';

describe('activity-alarms against the emulator', () => {
  let topic: string;

  beforeAll(async () => {
    const settings = await freshEngine();
    topic = settings.DRIFTGUARD_NOTICE_TOPIC_ARN as string;
    await activityTrail();
  });

  it('one sweep leaves the 14 filters (exact patterns) and the 14 alarms notifying the topic; a second finds nothing', async () => {
    const report = await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT });
    expect(report.counts['activity-alarms']).toEqual({ remediated: 1 });

    const filters = await engineFilters();
    expect(filters).toHaveLength(14);
    for (const control of ACTIVITY_CONTROLS) {
      const filter = filters.find((f) => f.filterName === `driftguard-${control.id}`);
      expect(filter?.filterPattern).toBe(control.pattern);
      expect(filter?.metricTransformations).toEqual([
        expect.objectContaining({
          metricName: control.metricName,
          metricNamespace: ACTIVITY_METRIC_NAMESPACE,
          metricValue: '1',
        }),
      ]);
    }
    const alarms = await engineAlarms();
    expect(alarms).toHaveLength(14);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Namespace: ACTIVITY_METRIC_NAMESPACE,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        ActionsEnabled: true,
        AlarmActions: [topic],
      });
    }
    await readNotices();

    const second = await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT, fresh: true });
    expect(second.counts['activity-alarms']).toEqual({ compliant: 1 });
  });

  it('puts back a filter deleted by hand when its event is replayed, with a notice naming who did it', async () => {
    const report = await replay(['events/logs-DeleteMetricFilter-activity.json']);
    const [item] = report.items;
    expect(item?.result.outcome).toBe('remediated');
    expect(item?.result.actions.map((a) => a.api)).toEqual(['logs:PutMetricFilter']);
    const filter = (await engineFilters()).find((f) => f.filterName === 'driftguard-CloudWatch.1');
    expect(filter?.filterPattern).toBe(ACTIVITY_CONTROLS[0]?.pattern);
    const notices = await readNotices();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.subject).toContain('DeleteMetricFilter by alice');
  });

  it('enables the actions of an alarm disabled by hand when its event is replayed; a failed call changes nothing', async () => {
    const report = await replay([
      'events/monitoring-DisableAlarmActions-activity.json',
      'events/monitoring-DisableAlarmActions-failed-AccessDenied.json',
    ]);
    expect(report.items.map((i) => i.result.outcome)).toEqual(['remediated', 'ignored']);
    expect(report.items[0]?.result.actions.map((a) => a.api)).toEqual(['cloudwatch:PutMetricAlarm']);
    const alarm = (await engineAlarms()).find((a) => a.AlarmName === 'driftguard-CloudWatch.1');
    expect(alarm?.ActionsEnabled).toBe(true);
    expect(alarm?.AlarmActions).toEqual([topic]);
    const notices = await readNotices();
    expect(notices.map((n) => n.subject)).toEqual([expect.stringContaining('DisableAlarmActions by alice')]);
  });

  it("ignores the engine's own PutMetricFilter", async () => {
    const report = await replay(['events/logs-PutMetricFilter-by-remediation-engine.json']);
    expect(report.items[0]?.result.outcome).toBe('ignored');
    expect(report.items[0]?.result.reason).toMatch(/engine itself/);
  });
});

describe('a trail delivering to no log group', () => {
  const STACK_GROUP = '/driftguard/activity';
  const DELIVERY_ROLE = `arn:aws:iam::${ACCOUNT}:role/driftguard-activity-delivery`;

  it("is linked to the stack's group, its baseline follows, and the trail rule then leaves the link alone", async () => {
    await freshEngine({
      DRIFTGUARD_ACTIVITY_LOG_GROUP: STACK_GROUP,
      DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: DELIVERY_ROLE,
    });
    await activityTrail('unlinked-trail', null);
    await new CloudWatchLogsClient(config()).send(new CreateLogGroupCommand({ logGroupName: STACK_GROUP }));

    const first = await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT });
    expect(first.counts['activity-alarms']).toEqual({ remediated: 1 });
    const { Trail } = await new CloudTrailClient(config()).send(new GetTrailCommand({ Name: 'unlinked-trail' }));
    expect(Trail?.CloudWatchLogsLogGroupArn).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${STACK_GROUP}:*`);
    expect(Trail?.CloudWatchLogsRoleArn).toBe(DELIVERY_ROLE);
    expect(await engineFilters(STACK_GROUP)).toHaveLength(14);

    const second = await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT, fresh: true });
    expect(second.counts['activity-alarms']).toEqual({ compliant: 1 });
    expect(Object.keys(second.counts['cloudtrail-trail-integrity'] ?? {})).toEqual(['compliant']);
    const after = await new CloudTrailClient(config()).send(new GetTrailCommand({ Name: 'unlinked-trail' }));
    expect(after.Trail?.CloudWatchLogsLogGroupArn).toBe(Trail?.CloudWatchLogsLogGroupArn);
  });
});
