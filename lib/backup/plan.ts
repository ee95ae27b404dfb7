/**
 * The log backup's pure decisions: which finished UTC days of a log group are due (from its cursor, its retention and
 * the clock), where a day goes in the bucket, and what a task's status means. No I/O: lib/backup/run.ts does that.
 */
import { createHash } from 'node:crypto';
import { SettingsError } from '../settings.js';

export const DAY_MS = 86_400_000;
/** A group whose oldest unexported day retention deletes within this time is in danger. */
export const RETENTION_DANGER_MS = 2 * DAY_MS;
/** How far back PutLogEvents accepts an event's timestamp (CloudWatch Logs quotas). */
export const BACKDATE_MS = 14 * DAY_MS;
/**
 * How long after a UTC day ends it is exported (DRIFTGUARD_BACKUP_SETTLE_HOURS). CloudWatch Logs' user guide ("Export
 * log data to Amazon S3"): log data can take up to 12 hours to become available for export; CloudTrail delivers to
 * CloudWatch Logs minutes late. A day exported sooner could miss its last events for good (the cursor moves past it).
 */
export const DEFAULT_SETTLE_HOURS = 24;
/** The least settling allowed: AWS's 12 hours. */
export const MIN_SETTLE_HOURS = 12;
/** A FAILED (or CANCELLED) export is retried twice: three attempts in all, then a notice. */
export const EXPORT_ATTEMPTS = 3;

/** A UTC day as yyyy-mm-dd. */
export type Day = string;

export function dayOf(time: number): Day {
  return new Date(time).toISOString().slice(0, 10);
}

export function dayStart(day: Day): number {
  const time = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(time) || dayOf(time) !== day) throw new Error(`"${day}" is not a day (yyyy-mm-dd)`);
  return time;
}

export function addDays(day: Day, days: number): Day {
  return dayOf(dayStart(day) + days * DAY_MS);
}

/** What the plan needs to know of a log group (DescribeLogGroups). */
export interface GroupFacts {
  region: string;
  name: string;
  /** Epoch milliseconds. */
  creationTime: number | undefined;
  retentionInDays: number | undefined;
}

export interface GroupPlan {
  region: string;
  group: string;
  /** Finished and settled days to export, oldest first. */
  due: Day[];
  /** Finished days not settled yet (less than settleHours since they ended): due on a later run. */
  pending: Day[];
  /** Days after the cursor that retention has deleted entirely: lost, not exported. */
  lost: Day[];
  /** The oldest due day is deleted by retention within two days (or a day is lost already). */
  danger?: { day: Day; deletesAt: string; retentionInDays: number };
}

/**
 * The days of a group that are due: each finished UTC day after the cursor (a group seen for the first time starts
 * `sinceDays` days back: 1 is yesterday), from the day it was created, that ended `settleHours` ago or more (CloudWatch
 * Logs may make a day's data exportable hours after it ends). Days retention deleted entirely are lost; the oldest day
 * left is in danger when retention starts deleting it within two days of the time it may be exported.
 */
export function planGroup(
  facts: GroupFacts,
  lastExported: Day | undefined,
  { now, sinceDays, settleHours }: { now: number; sinceDays: number; settleHours: number },
): GroupPlan {
  const settleMs = settleHours * 3_600_000;
  const today = dayOf(now);
  const yesterday = addDays(today, -1);
  let first = lastExported === undefined ? addDays(today, -sinceDays) : addDays(lastExported, 1);
  // PutLogEvents takes events up to 14 days older than the call: nothing in a group is older than that before its creation.
  const oldestPossible = facts.creationTime === undefined ? undefined : dayOf(facts.creationTime - BACKDATE_MS);
  if (oldestPossible !== undefined && first < oldestPossible) first = oldestPossible;
  const due: Day[] = [];
  const pending: Day[] = [];
  const lost: Day[] = [];
  const retention = facts.retentionInDays;
  for (let day = first; day <= yesterday; day = addDays(day, 1)) {
    const end = dayStart(day) + DAY_MS;
    // An event expires retention days after its time: the day's last event by the end of the day plus retention.
    const gone = retention !== undefined && end + retention * DAY_MS <= now;
    (gone ? lost : end + settleMs <= now ? due : pending).push(day);
  }
  const plan: GroupPlan = { region: facts.region, group: facts.name, due, pending, lost };
  const oldest = due[0] ?? pending[0] ?? lost[lost.length - 1];
  if (retention !== undefined && oldest !== undefined) {
    const deletesAt = dayStart(oldest) + retention * DAY_MS;
    // The day cannot be exported before it settles: the margin runs from then, not from now.
    const exportableAt = Math.max(now, dayStart(oldest) + DAY_MS + settleMs);
    if (lost.length > 0 || deletesAt - exportableAt <= RETENTION_DANGER_MS)
      plan.danger = { day: oldest, deletesAt: new Date(deletesAt).toISOString(), retentionInDays: retention };
  }
  return plan;
}

/** Where a day of a group goes: `<prefix>/<region>/<group without its leading slash>/<yyyy>/<mm>/<dd>`. */
export function exportPrefix(prefix: string, region: string, group: string, day: Day): string {
  const [yyyy, mm, dd] = day.split('-');
  return [prefix, region, group.replace(/^\/+/, ''), yyyy, mm, dd].filter((part) => part !== '').join('/');
}

/** The export's time range: the whole UTC day (`to` is inclusive, in milliseconds). */
export function exportRange(day: Day): { from: number; to: number } {
  const from = dayStart(day);
  return { from, to: from + DAY_MS - 1 };
}

/**
 * The task's name says whose it is and what it exports, so that a task of ours found running (a run that stopped
 * before recording it) is adopted rather than started again: the region, the day and a digest of the group.
 */
export function exportTaskName(region: string, group: string, day: Day): string {
  const digest = createHash('sha256').update(`${region}\n${group}`).digest('hex').slice(0, 16);
  return `driftguard-backup-${region}-${day}-${digest}`;
}

export type TaskStatusCode = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'PENDING_CANCEL';

/** An export task's status code as the backup reads it: what to do next. */
export type TaskVerdict = 'done' | 'wait' | 'retry' | 'give-up';

export function taskVerdict(code: string | undefined, attempt: number): TaskVerdict {
  switch (code) {
    case 'COMPLETED':
      return 'done';
    case 'FAILED':
    case 'CANCELLED':
      return attempt < EXPORT_ATTEMPTS ? 'retry' : 'give-up';
    default:
      // PENDING, RUNNING, PENDING_CANCEL (and any status AWS adds): not finished yet.
      return 'wait';
  }
}

/** Active tasks (RUNNING or PENDING) hold the account's one export slot. */
export function isActive(code: string | undefined): boolean {
  return code === 'RUNNING' || code === 'PENDING';
}

/** The regions a backup covers and the bucket of each: home from DRIFTGUARD_BACKUP_BUCKET, others from _BUCKETS. */
export function bucketsFor(
  regions: readonly string[],
  home: string,
  settings: { bucket: string | undefined; regionBuckets: Record<string, string> },
): Record<string, string> {
  const buckets: Record<string, string> = {};
  const missing: string[] = [];
  for (const region of regions) {
    const bucket = region === home ? (settings.bucket ?? settings.regionBuckets[home]) : settings.regionBuckets[region];
    if (bucket === undefined) missing.push(region);
    else buckets[region] = bucket;
  }
  if (missing.length > 0) {
    const homeMissing = missing.includes(home);
    const others = missing.filter((region) => region !== home);
    throw new BackupBucketError(
      [
        homeMissing ? `the home region ${home} has no backup bucket: set DRIFTGUARD_BACKUP_BUCKET` : '',
        others.length
          ? `${others.join(', ')} ${others.length > 1 ? 'have' : 'has'} no backup bucket: a log group exports only to a bucket of its own region, so set DRIFTGUARD_BACKUP_BUCKETS=${others.map((region) => `${region}=<bucket in ${region}>`).join(',')}`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  return buckets;
}

/** A region the backup covers has no bucket: a settings problem, named with the setting that solves it. */
export class BackupBucketError extends SettingsError {}
