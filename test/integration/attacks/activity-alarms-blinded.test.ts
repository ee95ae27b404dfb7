/**
 * How an attacker with ordinary CloudWatch permissions would blind the activity alarms, and what the engine does:
 * a filter "narrowed" with an extra term (their own address exempted), an alarm pointed at their own topic, the
 * activity log group deleted (its filters go with it). Each is put back exactly as the sweep has it.
 */
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, PutMetricFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_CONTROLS, desiredAlarm, desiredMetricFilter } from '../../../lib/activity-controls.js';
import { RULES } from '../../../lib/registry.js';
import { runSweep } from '../../../lib/sweep/sweep.js';
import {
  ACCOUNT,
  ACTIVITY_GROUP,
  activityTrail,
  config,
  engineAlarms,
  engineFilters,
  REGION,
  replay,
  sweepEngine,
} from '../../support/activity.js';
import { freshEngine, readNotices } from '../../support/emulator.js';

describe('attacks on the activity alarms', () => {
  let topic: string;

  beforeAll(async () => {
    topic = (await freshEngine()).DRIFTGUARD_NOTICE_TOPIC_ARN as string;
    await activityTrail();
    await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT });
    await readNotices();
  });

  it('a filter narrowed with an extra term gets its exact pattern back', async () => {
    const report = await replay(['events/logs-PutMetricFilter-activity-narrowed.json']);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    const filter = (await engineFilters()).find((f) => f.filterName === 'driftguard-CloudWatch.1');
    expect(filter?.filterPattern).toBe(ACTIVITY_CONTROLS[0]?.pattern);
    const [notice] = await readNotices();
    expect(notice?.subject).toContain('PutMetricFilter by alice');
    expect(notice?.text).toContain('203.0.113.66');
  });

  it("an alarm pointed at the attacker's topic notifies the notice topic only, again", async () => {
    const report = await replay(['events/monitoring-PutMetricAlarm-attacker-topic.json']);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    const alarm = (await engineAlarms()).find((a) => a.AlarmName === 'driftguard-CloudWatch.2');
    expect(alarm?.AlarmActions).toEqual([topic]);
    expect(alarm?.ActionsEnabled).toBe(true);
    await readNotices();
  });

  it('a dimension on a filter, a unit and OK / insufficient-data actions on an alarm: the sweep sees drift and puts both back', async () => {
    const [, unauthorized, , , trailChanges] = ACTIVITY_CONTROLS;
    if (!unauthorized || !trailChanges) throw new Error('the controls are 14');
    const filter = desiredMetricFilter(trailChanges, undefined, ACTIVITY_GROUP);
    const [transform] = filter.metricTransformations;
    if (!transform) throw new Error('a filter has one transformation');
    // The metric is then published only with the dimension: the alarm, which has none, would see nothing.
    await new CloudWatchLogsClient(config()).send(
      new PutMetricFilterCommand({
        ...filter,
        metricTransformations: [{ ...transform, dimensions: { eventID: '$.eventID' } }],
      }),
    );
    const planted = (await engineFilters()).find((f) => f.filterName === 'driftguard-CloudWatch.5');
    expect(planted?.metricTransformations?.[0]?.dimensions).toEqual({ eventID: '$.eventID' });
    const sink = `arn:aws:sns:${REGION}:444455556666:sink`;
    await new CloudWatchClient(config()).send(
      new PutMetricAlarmCommand({
        ...desiredAlarm(unauthorized, undefined, topic),
        Unit: 'Seconds',
        OKActions: [sink],
        InsufficientDataActions: [sink],
      }),
    );
    const report = await runSweep(sweepEngine(), { rules: RULES, regions: [REGION], account: ACCOUNT, fresh: true });
    expect(report.counts['activity-alarms']).toEqual({ remediated: 1 });
    const back = (await engineFilters()).find((f) => f.filterName === 'driftguard-CloudWatch.5');
    expect(back?.metricTransformations?.[0]?.dimensions ?? {}).toEqual({});
    const alarm = (await engineAlarms()).find((a) => a.AlarmName === 'driftguard-CloudWatch.2');
    expect(alarm?.Unit).toBeUndefined();
    expect(alarm?.OKActions ?? []).toEqual([]);
    expect(alarm?.InsufficientDataActions ?? []).toEqual([]);
    expect(alarm?.Statistic).toBe('Maximum');
    await readNotices();
  });

  it('the activity log group deleted: re-created, retained, and its 14 filters put back', async () => {
    const report = await replay(['events/logs-DeleteLogGroup-activity.json']);
    const [item] = report.items;
    expect(item?.result.outcome).toBe('remediated');
    expect(item?.result.actions.map((a) => a.api).slice(0, 2)).toEqual([
      'logs:CreateLogGroup',
      'logs:PutRetentionPolicy',
    ]);
    const filters = await engineFilters(ACTIVITY_GROUP);
    expect(filters.map((f) => f.filterPattern).sort()).toEqual(ACTIVITY_CONTROLS.map((c) => c.pattern).sort());
    const [notice] = await readNotices();
    expect(notice?.subject).toContain('DeleteLogGroup by alice');
  });
});
