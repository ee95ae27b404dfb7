/** The log backup's pure decisions: due days, retention danger, where a day goes, task statuses, its settings. */
import { describe, expect, it } from 'vitest';
import {
  BackupBucketError,
  bucketsFor,
  DAY_MS,
  exportPrefix,
  exportRange,
  exportTaskName,
  type GroupFacts,
  planGroup,
  taskVerdict,
} from '../../lib/backup/plan.js';
import { BACKUP_PREFIX } from '../../lib/backup/stack.js';
import { readBackupSettings, SettingsError } from '../../lib/settings.js';

const NOW = Date.parse('2026-12-01T06:00:00Z');
const group = (facts: Partial<GroupFacts> = {}): GroupFacts => ({
  region: 'us-east-1',
  name: '/app/web',
  creationTime: Date.parse('2026-01-01T00:00:00Z'),
  retentionInDays: undefined,
  ...facts,
});

describe('planGroup: the finished UTC days due', () => {
  it.each([
    ['a group seen for the first time starts at yesterday', undefined, 1, {}, ['2026-11-30']],
    ['or sinceDays back', undefined, 3, {}, ['2026-11-28', '2026-11-29', '2026-11-30']],
    ['the day after its cursor, to yesterday', '2026-11-28', 1, {}, ['2026-11-29', '2026-11-30']],
    ['nothing when yesterday is exported', '2026-11-30', 1, {}, []],
    ['never today (not finished)', '2026-11-30', 1, {}, []],
    [
      'no day before the oldest a group can hold (events may be 14 days older than the group)',
      undefined,
      30,
      { creationTime: Date.parse('2026-11-27T12:00:00Z') },
      Array.from({ length: 18 }, (_, i) =>
        new Date(Date.parse('2026-11-13T00:00:00Z') + i * DAY_MS).toISOString().slice(0, 10),
      ),
    ],
    ['a group created today may hold yesterday', undefined, 1, { creationTime: NOW - 60_000 }, ['2026-11-30']],
  ])('%s', (_, cursor, sinceDays, facts, due) => {
    expect(planGroup(group(facts), cursor, { now: NOW, sinceDays, settleHours: 0 }).due).toEqual(due);
  });

  it.each([
    // Retention 7 days: the oldest due day's first events go 7 days after it starts.
    ['far from deletion', '2026-11-29', 7, undefined],
    ['deleted in less than two days', '2026-11-25', 7, { day: '2026-11-26', deletesAt: '2026-12-03T00:00:00.000Z' }],
    [
      'deletion under way (retention 1 day)',
      '2026-11-29',
      1,
      { day: '2026-11-30', deletesAt: '2026-12-01T00:00:00.000Z' },
    ],
  ])('retention danger: %s', (_, cursor, retentionInDays, danger) => {
    const plan = planGroup(group({ retentionInDays }), cursor, { now: NOW, sinceDays: 1, settleHours: 0 });
    expect(plan.danger === undefined ? undefined : { day: plan.danger.day, deletesAt: plan.danger.deletesAt }).toEqual(
      danger,
    );
  });

  it('counts the days retention deleted entirely as lost, and is in danger', () => {
    // Retention 3 days at 06:00 on Dec 1: Nov 26 ended Nov 27 00:00, gone since Nov 30 00:00; Nov 27 goes at 00:00 Dec 1.
    const plan = planGroup(group({ retentionInDays: 3 }), '2026-11-24', { now: NOW, sinceDays: 1, settleHours: 0 });
    expect(plan.lost).toEqual(['2026-11-25', '2026-11-26', '2026-11-27']);
    expect(plan.due).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
    expect(plan.danger).toMatchObject({ day: '2026-11-28', retentionInDays: 3 });
  });

  // CloudWatch Logs' user guide: log data can take up to 12 hours to become available for export. A day is due only
  // settleHours after it ends; before that it is pending (exported by a later run, never skipped).
  it.each([
    ['00:15 on D+1: D ended 15 minutes ago, not due (24h)', '2026-12-01T00:15:00Z', 24, [], ['2026-11-30']],
    ['23:59 on D+1: still not due (24h)', '2026-12-01T23:59:00Z', 24, [], ['2026-11-30']],
    ['00:15 on D+2: D is due, D+1 is not (24h)', '2026-12-02T00:15:00Z', 24, ['2026-11-30'], ['2026-12-01']],
    ['11:59 on D+1 with the 12h minimum: not due', '2026-12-01T11:59:00Z', 12, [], ['2026-11-30']],
    ['12:00 on D+1 with the 12h minimum: due', '2026-12-01T12:00:00Z', 12, ['2026-11-30'], []],
  ])('settling: %s', (_, at, settleHours, due, pending) => {
    const plan = planGroup(group(), '2026-11-29', { now: Date.parse(at), sinceDays: 1, settleHours });
    expect([plan.due, plan.pending]).toEqual([due, pending]);
  });

  it.each([
    // Retention 5 days, settle 48h, at 06:00 Dec 1: Nov 30 starts deleting Dec 5 00:00 (90 hours away) but may be
    // exported only from Dec 3 00:00: two days of margin, so in danger.
    ['5 days, settle 48h', 5, 48],
    // Retention 1 day: Nov 30 starts deleting Dec 1 00:00, before it may be exported at all.
    ['1 day, settle 24h', 1, 24],
  ])(
    'settling: retention %s leaves too little time after the day settles: in danger',
    (_, retentionInDays, settleHours) => {
      const plan = planGroup(group({ retentionInDays }), '2026-11-29', { now: NOW, sinceDays: 1, settleHours });
      expect(plan.due).toEqual([]);
      expect(plan.danger).toMatchObject({ day: '2026-11-30' });
    },
  );

  it('settling: retention 7 days is far from danger when the day settles', () => {
    const plan = planGroup(group({ retentionInDays: 7 }), '2026-11-29', { now: NOW, sinceDays: 1, settleHours: 24 });
    expect([plan.pending, plan.danger]).toEqual([['2026-11-30'], undefined]);
  });

  it('is in no danger without retention (kept for ever)', () => {
    expect(planGroup(group(), '2020-01-01', { now: NOW, sinceDays: 1, settleHours: 0 }).danger).toBeUndefined();
  });
});

describe('where a day goes', () => {
  it.each([
    ['exported-logs', 'us-east-1', '/app/web', '2026-11-30', 'exported-logs/us-east-1/app/web/2026/11/30'],
    ['backups/logs', 'eu-west-1', 'no-slash', '2026-01-02', 'backups/logs/eu-west-1/no-slash/2026/01/02'],
    ['', 'us-east-1', '/aws/lambda/fn', '2026-11-30', 'us-east-1/aws/lambda/fn/2026/11/30'],
  ])('prefix %j, %s %s %s -> %s', (prefix, region, name, day, expected) => {
    expect(exportPrefix(prefix, region, name, day)).toBe(expected);
  });

  it('exports the whole UTC day, to inclusive', () => {
    expect(exportRange('2026-11-30')).toEqual({
      from: Date.parse('2026-11-30T00:00:00Z'),
      to: Date.parse('2026-11-30T23:59:59.999Z'),
    });
  });

  it('names the task by region, day and group, within CloudWatch Logs limits', () => {
    const name = exportTaskName('us-east-1', `/${'x'.repeat(511)}`, '2026-11-30');
    expect(name).toMatch(/^driftguard-backup-us-east-1-2026-11-30-[0-9a-f]{16}$/);
    expect(exportTaskName('us-east-1', '/a', '2026-11-30')).not.toBe(exportTaskName('us-east-1', '/b', '2026-11-30'));
  });
});

describe('taskVerdict', () => {
  it.each([
    ['COMPLETED', 1, 'done'],
    ['PENDING', 1, 'wait'],
    ['RUNNING', 3, 'wait'],
    ['PENDING_CANCEL', 1, 'wait'],
    ['FAILED', 1, 'retry'],
    ['FAILED', 2, 'retry'],
    ['FAILED', 3, 'give-up'],
    ['CANCELLED', 1, 'retry'],
    ['CANCELLED', 3, 'give-up'],
  ])('%s on attempt %i: %s', (code, attempt, verdict) => {
    expect(taskVerdict(code, attempt)).toBe(verdict);
  });
});

describe('bucketsFor: each region needs a bucket of its own region', () => {
  it('takes home from DRIFTGUARD_BACKUP_BUCKET and the others from DRIFTGUARD_BACKUP_BUCKETS', () => {
    expect(
      bucketsFor(['us-east-1', 'eu-west-1'], 'us-east-1', {
        bucket: 'home-bucket',
        regionBuckets: { 'eu-west-1': 'eu-bucket' },
      }),
    ).toEqual({ 'us-east-1': 'home-bucket', 'eu-west-1': 'eu-bucket' });
  });

  it.each([
    [
      ['us-east-1', 'eu-west-1', 'ap-south-1'],
      { bucket: 'home-bucket', regionBuckets: {} },
      'eu-west-1, ap-south-1 have no backup bucket: a log group exports only to a bucket of its own region, so set DRIFTGUARD_BACKUP_BUCKETS=eu-west-1=<bucket in eu-west-1>,ap-south-1=<bucket in ap-south-1>',
    ],
    [['us-east-1'], { bucket: undefined, regionBuckets: {} }, 'the home region us-east-1 has no backup bucket'],
  ])('names the regions without one: %j', (regions, settings, message) => {
    expect(() => bucketsFor(regions, 'us-east-1', settings)).toThrow(message);
    expect(() => bucketsFor(regions, 'us-east-1', settings)).toThrow(BackupBucketError);
  });
});

describe('readBackupSettings', () => {
  it('has the documented defaults, the stack policy’s prefix among them', () => {
    expect(readBackupSettings({})).toEqual({
      bucket: undefined,
      regionBuckets: {},
      prefix: BACKUP_PREFIX,
      logGroupPrefixes: [],
      sinceDays: 1,
      settleHours: 24,
    });
  });

  it('reads every variable', () => {
    expect(
      readBackupSettings({
        DRIFTGUARD_BACKUP_BUCKET: 'my-backups',
        DRIFTGUARD_BACKUP_BUCKETS: 'eu-west-1=eu-backups, ap-south-1=ap.backups',
        DRIFTGUARD_BACKUP_PREFIX: 'logs/cw',
        DRIFTGUARD_BACKUP_LOG_GROUPS: '/app/, /aws/lambda/',
        DRIFTGUARD_BACKUP_SINCE_DAYS: '30',
        DRIFTGUARD_BACKUP_SETTLE_HOURS: '36',
      }),
    ).toEqual({
      bucket: 'my-backups',
      regionBuckets: { 'eu-west-1': 'eu-backups', 'ap-south-1': 'ap.backups' },
      prefix: 'logs/cw',
      logGroupPrefixes: ['/app/', '/aws/lambda/'],
      sinceDays: 30,
      settleHours: 36,
    });
  });

  it.each([
    [
      'DRIFTGUARD_BACKUP_BUCKET',
      'My_Bucket',
      'DRIFTGUARD_BACKUP_BUCKET="My_Bucket" is invalid: allowed values are S3 bucket names',
    ],
    [
      'DRIFTGUARD_BACKUP_BUCKETS',
      'eu-west-1',
      'DRIFTGUARD_BACKUP_BUCKETS="eu-west-1" is invalid: allowed values are comma-separated region=bucket pairs',
    ],
    [
      'DRIFTGUARD_BACKUP_BUCKETS',
      'europe=b1',
      'DRIFTGUARD_BACKUP_BUCKETS="europe=b1" is invalid: allowed region=bucket pairs whose region is an AWS region',
    ],
    [
      'DRIFTGUARD_BACKUP_BUCKETS',
      'eu-west-1=B!',
      'DRIFTGUARD_BACKUP_BUCKETS="eu-west-1=B!" is invalid: allowed region=bucket pairs of S3 bucket names',
    ],
    [
      'DRIFTGUARD_BACKUP_BUCKETS',
      'eu-west-1=a1b,eu-west-1=c1d',
      'DRIFTGUARD_BACKUP_BUCKETS="eu-west-1=c1d" is invalid: allowed one bucket per region',
    ],
    [
      'DRIFTGUARD_BACKUP_SINCE_DAYS',
      '0',
      'DRIFTGUARD_BACKUP_SINCE_DAYS="0" is invalid: allowed values are whole days from 1 (yesterday) to 3653',
    ],
    ['DRIFTGUARD_BACKUP_SINCE_DAYS', 'week', 'DRIFTGUARD_BACKUP_SINCE_DAYS="week" is invalid'],
    ['DRIFTGUARD_BACKUP_SINCE_DAYS', '4000', 'DRIFTGUARD_BACKUP_SINCE_DAYS="4000" is invalid'],
    [
      'DRIFTGUARD_BACKUP_SETTLE_HOURS',
      '6',
      'DRIFTGUARD_BACKUP_SETTLE_HOURS="6" is invalid: allowed values are whole hours from 12 (CloudWatch Logs: data can take up to 12 hours to become exportable) to 336',
    ],
    ['DRIFTGUARD_BACKUP_SETTLE_HOURS', '12.5', 'DRIFTGUARD_BACKUP_SETTLE_HOURS="12.5" is invalid'],
    ['DRIFTGUARD_BACKUP_SETTLE_HOURS', '400', 'DRIFTGUARD_BACKUP_SETTLE_HOURS="400" is invalid'],
    [
      'DRIFTGUARD_BACKUP_PREFIX',
      '/logs/',
      'DRIFTGUARD_BACKUP_PREFIX="/logs/" is invalid: allowed values are an S3 key prefix without leading or trailing slash',
    ],
    [
      'DRIFTGUARD_BACKUP_LOG_GROUPS',
      '/app/,bad group',
      'DRIFTGUARD_BACKUP_LOG_GROUPS="bad group" is invalid: allowed values are comma-separated log group name prefixes',
    ],
  ])('refuses %s=%j, naming it', (name, value, message) => {
    expect(() => readBackupSettings({ [name]: value })).toThrow(SettingsError);
    expect(() => readBackupSettings({ [name]: value })).toThrow(message);
  });
});
