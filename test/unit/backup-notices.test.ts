/** The backup's notices: SNS-safe subjects, what happened, who must do what next, and filterable attributes. */
import { describe, expect, it } from 'vitest';
import { dangerNotice, digestNotice, failureNotice } from '../../lib/backup/notices.js';
import { planGroup } from '../../lib/backup/plan.js';
import type { BackupReport } from '../../lib/backup/report.js';

const NOW = Date.parse('2026-12-01T06:00:00Z');
const ctx = { account: '123456789012', buckets: { 'us-east-1': 'backup-bucket' }, prefix: 'exported-logs' };

const report = (overrides: Partial<BackupReport> = {}): BackupReport => ({
  runId: 'backup-2026-12-01T00:15:00.000Z',
  startedAt: '2026-12-01T00:15:00.000Z',
  finishedAt: '2026-12-01T00:20:00.000Z',
  regions: ['us-east-1'],
  buckets: ctx.buckets,
  prefix: ctx.prefix,
  dryRun: false,
  complete: true,
  groups: 12,
  exportedDays: 12,
  exportedGroups: 12,
  backlog: 0,
  lostDays: 0,
  inDanger: [],
  failed: [],
  ...overrides,
});

describe('backup notices', () => {
  it.each([
    ['/app/web', '[driftguard] HIGH log group /app/web backup: 2026-11-28 deleted in 0h'],
    [
      `/${'very-long-name/'.repeat(30)}end`,
      /^\[driftguard\] HIGH log group \/very-long-na.*\.\.\..*name\/end backup: 2026-11-28 deleted in 0h$/,
    ],
  ])('a group in retention danger (%s) gets a high notice with a subject under 100 characters', (name, subject) => {
    const plan = planGroup({ region: 'us-east-1', name, creationTime: undefined, retentionInDays: 3 }, '2026-11-27', {
      now: NOW,
      sinceDays: 1,
      settleHours: 0,
    });
    const notice = dangerNotice(plan, ctx, NOW);
    expect(notice.subject.length).toBeLessThan(100);
    expect(notice.subject).toMatch(subject);
    expect(notice.attributes).toEqual({
      severity: 'high',
      rule: 'log-backup',
      outcome: 'needs-human',
      account: '123456789012',
    });
    expect(notice.document).toMatchObject({ oldestUnexportedDay: '2026-11-28', retentionInDays: 3, backlogDays: 3 });
    expect(notice.text).toContain('--retention-in-days <a value of at least 11>');
  });

  it('says lost days are lost', () => {
    const plan = planGroup(
      { region: 'us-east-1', name: '/app/audit', creationTime: undefined, retentionInDays: 1 },
      '2026-11-20',
      { now: NOW, sinceDays: 1, settleHours: 0 },
    );
    const notice = dangerNotice(plan, ctx, NOW);
    expect(notice.subject).toBe('[driftguard] HIGH log group /app/audit backup: 9 day(s) lost to retention');
    expect(notice.text).toContain(
      '9 day(s) were deleted by retention before they were exported (2026-11-21..2026-11-29)',
    );
  });

  it('a failed export says what failed and the exact next step', () => {
    const notice = failureNotice(
      { region: 'us-east-1', group: '/app/web', day: '2026-11-30', error: 'export task t-3 FAILED 3 times' },
      ctx,
    );
    expect(notice.severity).toBe('high');
    expect(notice.document.nextSteps).toEqual([
      "Read the task's status: aws logs describe-export-tasks --region us-east-1 --status-code FAILED",
      'Then run: npm run backup -- --regions us-east-1 (the day is retried; no day is exported twice)',
    ]);
  });

  it.each([
    [{}, 'low', '[driftguard] log backup: 12 day(s) of 12 group(s) exported, 0 left'],
    [
      { failed: [{ region: 'us-east-1', group: '/a', day: '2026-11-30', error: 'x' }], backlog: 1 },
      'high',
      '[driftguard] log backup: 12 day(s) of 12 group(s) exported, 1 left, 1 failed',
    ],
    [{ lostDays: 2 }, 'high', '[driftguard] log backup: 12 day(s) of 12 group(s) exported, 0 left, 0 failed'],
  ])('one digest per run: %j is %s', (overrides, severity, subject) => {
    const notice = digestNotice(report(overrides), ctx);
    expect(notice.severity).toBe(severity);
    expect(notice.subject).toBe(subject);
    expect(notice.attributes.outcome).toBe('digest');
  });
});
