/**
 * How an attacker with ordinary CloudWatch permissions would blind the activity alarms, and what the engine does:
 * a filter "narrowed" with an extra term (their own address exempted), an alarm pointed at their own topic, the
 * activity log group deleted (its filters go with it). Each is put back exactly as the sweep has it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_CONTROLS } from '../../../lib/activity-controls.js';
import { RULES } from '../../../lib/registry.js';
import { runSweep } from '../../../lib/sweep/sweep.js';
import {
  ACCOUNT,
  ACTIVITY_GROUP,
  activityTrail,
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
