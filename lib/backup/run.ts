/**
 * One backup run: for each region and selected log group, each due day exported to the region's bucket, one export task
 * at a time (CloudWatch Logs runs one active task per account). It waits for its own task until the deadline, then
 * stops with the run open in the state table; the next run (the 15-minute continuation) resumes from the cursors.
 * One digest notice per completed run. The AWS calls and the state table are injected (lib/backup/aws.ts).
 */
import { randomUUID } from 'node:crypto';
import { awsErrorName } from '../aws.js';
import type { Notice } from '../notices.js';
import { type BackupNoticeContext, dangerNotice, digestNotice, failureNotice, foreignTaskNotice } from './notices.js';
import {
  type Day,
  exportPrefix,
  exportRange,
  exportTaskName,
  type GroupFacts,
  type GroupPlan,
  isActive,
  planGroup,
  taskVerdict,
} from './plan.js';
import type { BackupReport, ExportTaskView } from './report.js';

export type { BackupFailure, BackupReport, ExportTaskView } from './report.js';

export interface CreateExportInput {
  taskName: string;
  logGroupName: string;
  from: number;
  to: number;
  destination: string;
  destinationPrefix: string;
}

/** The CloudWatch Logs calls the backup makes (lib/backup/aws.ts sends them with the SDK). */
export interface BackupLogsApi {
  /** One page of the region's log groups whose names start with `prefix` (every group when undefined). */
  listGroups(
    region: string,
    prefix: string | undefined,
    token: string | undefined,
  ): Promise<{ groups: GroupFacts[]; next?: string }>;
  /** The region's RUNNING and PENDING export tasks, whoever started them. */
  activeTasks(region: string): Promise<ExportTaskView[]>;
  /** Starts an export; throws LimitExceededException when another task is active. */
  createTask(region: string, input: CreateExportInput): Promise<string>;
  /** A COMPLETED task that exported exactly `input` (its name, group, range, bucket and prefix), if any. */
  completedTask(region: string, input: CreateExportInput): Promise<string | undefined>;
  /** The task, or undefined when CloudWatch Logs no longer knows it. */
  describeTask(region: string, taskId: string): Promise<ExportTaskView | undefined>;
}

/** An export the job was about to start: the day, and exactly what it asked of CloudWatch Logs. */
export interface ExportIntent {
  region: string;
  group: string;
  day: Day;
  attempt: number;
  input: CreateExportInput;
}

/** The export task this job started and has not yet seen finish. */
export interface OwnTask {
  taskId: string;
  taskName: string;
  region: string;
  group: string;
  day: Day;
  attempt: number;
  startedAt: string;
}

/** The backup's records in the state table: a cursor per group, the open run, its own task (lib/backup/aws.ts). */
export interface BackupStore {
  /** The last day exported of each group of the region that has one. */
  cursors(region: string): Promise<Map<string, Day>>;
  /** The last day exported of one group (read again before each export: another run may have exported it). */
  cursor(region: string, group: string): Promise<Day | undefined>;
  saveCursor(region: string, group: string, day: Day): Promise<void>;
  /**
   * Records which task exported a day (`backup#day#<region>`, `<group>#<day>`): under a day's prefix only the
   * `<taskId>/` directory recorded here is the backup's; anyone in the account can export into the same prefix.
   */
  saveExported(region: string, group: string, day: Day, taskId: string): Promise<void>;
  /** The task recorded as having exported a day, if any. */
  exportedBy(region: string, group: string, day: Day): Promise<string | undefined>;
  loadRun(): Promise<BackupReport | undefined>;
  /** Saves the open run; undefined closes it. */
  saveRun(report: BackupReport | undefined): Promise<void>;
  loadTask(): Promise<OwnTask | undefined>;
  saveTask(task: OwnTask | undefined): Promise<void>;
  /**
   * The export about to be started (`backup#intent`), written before CreateExportTask and cleared once the task is
   * recorded: a run that stopped between the two finds its task by these parameters, whatever its status.
   */
  loadIntent(): Promise<ExportIntent | undefined>;
  saveIntent(intent: ExportIntent | undefined): Promise<void>;
  /**
   * Takes (or renews) the one run lease (`backup#lease`) until `until`, unless another holder's lease is still
   * valid at `now`: the CLI and the function never run the job side by side. Returns whether it is held.
   */
  takeLease(holder: string, until: number, now: number): Promise<{ held: boolean; holder?: string; until?: number }>;
  /** Gives the lease up, if `holder` still holds it. */
  releaseLease(holder: string): Promise<void>;
}

/** One day of one group: exported (or, in a dry run, to be exported). */
export interface ExportedDay {
  outcome: 'exported' | 'planned';
  region: string;
  group: string;
  day: Day;
  destination: string;
  taskId?: string;
}

export interface BackupOptions {
  regions: string[];
  /** Each region's bucket (plan.ts bucketsFor). */
  buckets: Record<string, string>;
  prefix: string;
  logGroupPrefixes: string[];
  sinceDays: number;
  /** How long after a day ends it is exported (DRIFTGUARD_BACKUP_SETTLE_HOURS; plan.ts DEFAULT_SETTLE_HOURS). */
  settleHours: number;
  account: string;
  dryRun?: boolean;
  /** Stop, with the run saved, when this time (ms since epoch) is near; undefined waits as long as it takes. */
  deadline?: number;
  /** Only continue an open run; with none open, do nothing (the 15-minute continuation). */
  continueOnly?: boolean;
  /** How long to wait between looks at a running task or a busy slot. */
  pollMs?: number;
  /** Progress per group, for people (the CLI's stderr, the function's log). */
  onProgress?: (line: string) => void;
  /** Each day exported (the CLI's --json lines). */
  onDay?: (day: ExportedDay) => void;
}

/** Checks a region's bucket before anything is exported to it (lib/backup/aws.ts sends HeadBucket). */
export interface BackupBucketApi {
  /**
   * Why the bucket may not receive this account's exports (owned by another account, missing, in another region),
   * or undefined when it is this account's bucket in `region`.
   */
  problem(region: string, bucket: string, account: string): Promise<string | undefined>;
}

export interface BackupDeps {
  logs: BackupLogsApi;
  buckets: BackupBucketApi;
  store: BackupStore;
  /** Publishes a notice (undefined: no topic configured). */
  publish: (notice: Notice) => Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_POLL_MS = 10_000;
/** How long a lease lasts without renewal (renewed at each poll and before each export): a dead run's ends soon. */
export const LEASE_MS = 20 * 60_000;
/** A task the job did not start that holds the account's one export slot this long is notified (once per task). */
export const FOREIGN_SLOT_NOTIFY_MS = 6 * 3_600_000;

/** The task exports exactly what the job would have asked: the group, the day's range, the bucket and the prefix. */
export function exportsExactly(task: ExportTaskView, input: CreateExportInput): boolean {
  return (
    task.taskName === input.taskName &&
    task.logGroupName === input.logGroupName &&
    task.from === input.from &&
    task.to === input.to &&
    task.destination === input.destination &&
    task.destinationPrefix === input.destinationPrefix
  );
}
/** A CreateExportTask refusal (the bucket's policy or region, the caller's rights): the region waits for a human. */
const REFUSAL = /^(InvalidParameterException|AccessDeniedException|BucketNotVerified):/;

interface Job {
  /** This run's lease holder id; undefined in a dry run (it writes nothing). */
  holder: string | undefined;
  /** The lease went to another run while this one waited: it stops and writes nothing more. */
  leaseLost: boolean;
  deps: BackupDeps;
  options: BackupOptions;
  report: BackupReport;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Groups (region#group) given up on in this invocation, and regions whose bucket refused. */
  blocked: Set<string>;
  /** Notices already sent by this run (danger once per group, a refusal once per region and error). */
  notified: Set<string>;
  lastProgress: string | undefined;
}

type DayOutcome = 'exported' | 'done-elsewhere' | 'stopped' | 'given-up' | 'refused' | 'gone';

function newReport(options: BackupOptions, now: number): BackupReport {
  const startedAt = new Date(now).toISOString();
  return {
    runId: `backup-${startedAt}`,
    startedAt,
    finishedAt: undefined,
    regions: options.regions,
    buckets: options.buckets,
    prefix: options.prefix,
    dryRun: options.dryRun ?? false,
    complete: false,
    groups: 0,
    exportedDays: 0,
    exportedGroups: 0,
    backlog: 0,
    lostDays: 0,
    inDanger: [],
    failed: [],
  };
}

const key = (region: string, group: string) => `${region}#${group}`;

/** A day exported; a group counts once, also when its days span two invocations (groups go one after another). */
function countExported(report: BackupReport, region: string, group: string) {
  report.exportedDays += 1;
  if (report.lastExportedGroup === key(region, group)) return;
  report.exportedGroups += 1;
  report.lastExportedGroup = key(region, group);
}

function progress(job: Job, line: string) {
  if (line === job.lastProgress) return;
  job.lastProgress = line;
  job.options.onProgress?.(line);
}

function noticeContext(job: Job): BackupNoticeContext {
  return { account: job.options.account, buckets: job.options.buckets, prefix: job.options.prefix };
}

async function notifyOnce(job: Job, id: string, notice: Notice) {
  if (job.notified.has(id)) return;
  job.notified.add(id);
  await job.deps.publish(notice);
}

/** Renews the run's lease; false (the run must stop, writing nothing more) when another run has taken it. */
async function renewLease(job: Job): Promise<boolean> {
  if (job.holder === undefined) return true;
  const lease = await job.deps.store.takeLease(job.holder, job.now() + LEASE_MS, job.now());
  if (lease.held) return true;
  job.leaseLost = true;
  job.report.waiting = `another backup run (${lease.holder}) took the lease`;
  return false;
}

/** Waits one poll interval, or says no when the deadline comes first (the run then stops, saved, for `reason`). */
async function waitOnce(job: Job, reason: string): Promise<boolean> {
  const pollMs = job.options.pollMs ?? DEFAULT_POLL_MS;
  if (job.options.deadline !== undefined && job.now() + pollMs >= job.options.deadline) {
    job.report.waiting = reason;
    return false;
  }
  progress(job, `  waiting: ${reason}`);
  await job.sleep(pollMs);
  return renewLease(job);
}

/** Follows a task of ours to its end: the cursor moves on COMPLETED; FAILED is retried twice, then notified. */
async function followTask(job: Job, task: OwnTask): Promise<DayOutcome> {
  const { logs, store } = job.deps;
  for (;;) {
    const view = await logs.describeTask(task.region, task.taskId);
    // A task CloudWatch Logs no longer knows finished in no known state: it counts as failed.
    const verdict = view ? taskVerdict(view.status, task.attempt) : taskVerdict('FAILED', task.attempt);
    if (verdict === 'wait') {
      if (!(await waitOnce(job, `export task ${task.taskId} (${task.group} ${task.day}) is ${view?.status}`)))
        return 'stopped';
      continue;
    }
    if (verdict === 'done') {
      // The cursor first, then the task record: a crash between the two leaves the task to follow again (it is
      // COMPLETED: the cursor is saved again), never neither record (the day would be exported twice).
      await store.saveExported(task.region, task.group, task.day, task.taskId);
      await store.saveCursor(task.region, task.group, task.day);
      await store.saveTask(undefined);
      countExported(job.report, task.region, task.group);
      const destination = `s3://${job.options.buckets[task.region]}/${exportPrefix(job.options.prefix, task.region, task.group, task.day)}/`;
      progress(job, `  exported ${task.day} -> ${destination}`);
      job.options.onDay?.({
        outcome: 'exported',
        region: task.region,
        group: task.group,
        day: task.day,
        destination,
        taskId: task.taskId,
      });
      return 'exported';
    }
    await store.saveTask(undefined);
    if (verdict === 'retry') {
      progress(job, `  export task ${task.taskId} ${view?.status ?? 'vanished'}: attempt ${task.attempt + 1}`);
      return exportDay(job, task.region, task.group, task.day, task.attempt + 1);
    }
    const error = `export task ${task.taskId} ${view?.status ?? 'vanished'} ${task.attempt} times${view?.message ? `: ${view.message}` : ''}`;
    const failure = { region: task.region, group: task.group, day: task.day, error };
    job.report.failed.push(failure);
    await notifyOnce(job, `failed#${key(task.region, task.group)}`, failureNotice(failure, noticeContext(job)));
    return 'given-up';
  }
}

/**
 * A task the job did not start holds the slot: notified at once when it carries the job's name for another export
 * (someone made it look like the job's), or when it has held the slot FOREIGN_SLOT_NOTIFY_MS; once per task and run.
 */
async function notifyForeignTask(job: Job, region: string, task: ExportTaskView, impostor: boolean) {
  const heldMs = task.createdAt === undefined ? undefined : job.now() - task.createdAt;
  if (!impostor && (heldMs === undefined || heldMs < FOREIGN_SLOT_NOTIFY_MS)) return;
  const id = `foreign#${region}#${task.taskId}`;
  if (job.notified.has(id)) return;
  job.report.foreignTasks = [...(job.report.foreignTasks ?? []), { region, taskId: task.taskId }];
  await notifyOnce(job, id, foreignTaskNotice(region, task, impostor, heldMs, noticeContext(job)));
}

/** Starts (or adopts) the export of one day of a group once the account's export slot is free, and follows it. */
async function exportDay(job: Job, region: string, group: string, day: Day, attempt: number): Promise<DayOutcome> {
  const { logs, store } = job.deps;
  const taskName = exportTaskName(region, group, day);
  const input: CreateExportInput = {
    taskName,
    logGroupName: group,
    ...exportRange(day),
    destination: job.options.buckets[region] ?? '',
    destinationPrefix: exportPrefix(job.options.prefix, region, group, day),
  };
  for (;;) {
    const active = await logs.activeTasks(region);
    // Adopted only when it exports exactly this day of this group to this bucket and prefix: the name is predictable,
    // and anyone with logs:CreateExportTask can start a task under it (an empty range, another bucket).
    const ours = active.find((task) => exportsExactly(task, input));
    let taskId = ours?.taskId;
    const other = active.find((task) => task !== ours && isActive(task.status));
    if (taskId === undefined && other !== undefined) {
      const impostor = other.taskName === taskName;
      const whose = impostor
        ? 'named as ours, exporting something else: not adopted'
        : other.taskName?.startsWith('driftguard-backup-')
          ? 'another backup'
          : 'not ours';
      await notifyForeignTask(job, region, other, impostor);
      if (!(await waitOnce(job, `the export slot is busy: task ${other.taskId} (${whose}) is ${other.status}`)))
        return 'stopped';
      continue;
    }
    if (taskId === undefined) {
      // Another run (the CLI beside the function) may have exported the day since this one read the cursors.
      const cursor = await store.cursor(region, group);
      if (cursor !== undefined && cursor >= day) return 'done-elsewhere';
      if (!(await renewLease(job))) return 'stopped';
      await store.saveIntent({ region, group, day, attempt, input });
      try {
        taskId = await logs.createTask(region, input);
      } catch (error) {
        await store.saveIntent(undefined);
        const name = awsErrorName(error);
        if (name === 'LimitExceededException') {
          if (!(await waitOnce(job, 'the export slot is busy (LimitExceededException)'))) return 'stopped';
          continue;
        }
        if (name === 'ResourceNotFoundException') return 'gone';
        if (name === 'InvalidParameterException' || name === 'AccessDeniedException') {
          const failure = { region, group, day, error: `${name}: ${(error as Error).message}` };
          job.report.failed.push(failure);
          await notifyOnce(job, `refused#${region}#${name}`, failureNotice(failure, noticeContext(job)));
          return 'refused';
        }
        throw error;
      }
    }
    const task: OwnTask = {
      taskId,
      taskName,
      region,
      group,
      day,
      attempt,
      startedAt: new Date(job.now()).toISOString(),
    };
    await store.saveTask(task);
    await store.saveIntent(undefined);
    return followTask(job, task);
  }
}

/**
 * An export a previous run was starting when it stopped (before it recorded the task): a COMPLETED task with exactly
 * its parameters is followed as the job's (an active one is adopted by exportDay); none: the day is due as before.
 */
async function resumeIntent(job: Job): Promise<DayOutcome | undefined> {
  const { logs, store } = job.deps;
  const intent = await store.loadIntent();
  if (!intent) return undefined;
  const taskId = await logs.completedTask(intent.region, intent.input);
  await store.saveIntent(undefined);
  if (taskId === undefined) return undefined;
  const { region, group, day, attempt } = intent;
  const task: OwnTask = {
    taskId,
    taskName: intent.input.taskName,
    region,
    group,
    day,
    attempt,
    startedAt: new Date(job.now()).toISOString(),
  };
  progress(job, `${region} ${group}: export task ${taskId} (${day}) completed before it was recorded`);
  await store.saveTask(task);
  return followTask(job, task);
}

async function* groupsOf(logs: BackupLogsApi, region: string, prefixes: string[]): AsyncGenerator<GroupFacts> {
  // Overlapping prefixes (/app and /app/web) list a group twice; one listing lists each once.
  const seen = prefixes.length > 1 ? new Set<string>() : undefined;
  for (const prefix of prefixes.length > 0 ? prefixes : [undefined]) {
    let token: string | undefined;
    do {
      const page = await logs.listGroups(region, prefix, token);
      for (const group of page.groups) {
        if (seen?.has(group.name)) continue;
        seen?.add(group.name);
        yield group;
      }
      token = page.next;
    } while (token);
  }
}

async function notifyDanger(job: Job, plan: GroupPlan) {
  const danger = plan.danger;
  if (!danger) return;
  const id = `danger#${key(plan.region, plan.group)}`;
  if (job.notified.has(id) || job.report.inDanger.some((d) => key(d.region, d.group) === key(plan.region, plan.group)))
    return;
  job.report.inDanger.push({ region: plan.region, group: plan.group, day: danger.day, deletesAt: danger.deletesAt });
  if (!job.report.dryRun) await notifyOnce(job, id, dangerNotice(plan, noticeContext(job), job.now()));
}

/**
 * A bucket name is no proof of whose it is: a bucket deleted (or mistyped) can be created by another account, and
 * CreateExportTask takes no expected owner. The region waits for a human unless the bucket is this account's, there.
 */
async function checkBucket(job: Job, region: string) {
  const bucket = job.options.buckets[region] ?? '';
  const problem = await job.deps.buckets.problem(region, bucket, job.options.account);
  if (problem === undefined) return;
  const failure = {
    region,
    group: '(every group of the region)',
    day: 'every due day',
    error: `BucketNotVerified: ${problem}`,
  };
  job.report.failed.push(failure);
  job.blocked.add(region);
  await notifyOnce(job, `refused#${region}#BucketNotVerified`, failureNotice(failure, noticeContext(job)));
}

/** Saves the open run (not in a dry run, nor once another run took the lease) and returns it, incomplete. */
async function pause(job: Job): Promise<BackupReport> {
  if (!job.report.dryRun && !job.leaseLost) await job.deps.store.saveRun(job.report);
  return job.report;
}

/**
 * Runs (or continues) a backup; returns its report, complete or not (then the run is open in the state table), or
 * undefined when asked only to continue and no run is open. A dry run reads and plans, and writes nothing. A run
 * holds the one lease in the state table while it works: another run (the CLI beside the function) that finds the
 * lease held returns at once, incomplete, saying so (a continuation returns undefined), and writes nothing.
 */
export async function runBackup(deps: BackupDeps, options: BackupOptions): Promise<BackupReport | undefined> {
  const now = deps.now ?? Date.now;
  if (options.dryRun) return runLeased(deps, options, undefined);
  const holder = `${options.continueOnly ? 'continuation' : 'run'}-${randomUUID()}`;
  const lease = await deps.store.takeLease(holder, now() + LEASE_MS, now());
  if (!lease.held) {
    if (options.continueOnly) return undefined;
    const report = newReport(options, now());
    report.waiting = `another backup run (${lease.holder}) holds the lease until ${new Date(lease.until ?? 0).toISOString()}`;
    options.onProgress?.(`not started: ${report.waiting}`);
    return report;
  }
  try {
    return await runLeased(deps, options, holder);
  } finally {
    await deps.store.releaseLease(holder);
  }
}

async function runLeased(
  deps: BackupDeps,
  options: BackupOptions,
  holder: string | undefined,
): Promise<BackupReport | undefined> {
  const now = deps.now ?? Date.now;
  const dryRun = options.dryRun ?? false;
  const saved = dryRun ? undefined : await deps.store.loadRun();
  if (options.continueOnly && !saved) return undefined;
  const report = saved ?? newReport(options, now());
  const job: Job = {
    holder,
    leaseLost: false,
    deps,
    options,
    report,
    now,
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    blocked: new Set(),
    notified: new Set([
      ...report.inDanger.map((d) => `danger#${key(d.region, d.group)}`),
      ...(report.foreignTasks ?? []).map((t) => `foreign#${t.region}#${t.taskId}`),
    ]),
    lastProgress: undefined,
  };
  // What an earlier invocation of this run gave up on stays so for the run, and is not notified again.
  for (const failure of report.failed) {
    const refusal = REFUSAL.exec(failure.error)?.[1];
    job.blocked.add(refusal ? failure.region : key(failure.region, failure.group));
    job.notified.add(refusal ? `refused#${failure.region}#${refusal}` : `failed#${key(failure.region, failure.group)}`);
  }
  report.waiting = undefined;
  // The task a previous run left running comes first: its day is the oldest of its group.
  const own = dryRun ? undefined : await deps.store.loadTask();
  if (own) {
    progress(job, `${own.region} ${own.group}: following export task ${own.taskId} (${own.day})`);
    const outcome = await followTask(job, own);
    if (outcome === 'stopped') return pause(job);
    if (outcome === 'given-up') job.blocked.add(key(own.region, own.group));
    if (outcome === 'refused') job.blocked.add(own.region);
  }
  const resumed = dryRun ? undefined : await resumeIntent(job);
  if (resumed === 'stopped') return pause(job);
  let groups = 0;
  let backlog = 0;
  let lost = 0;
  for (const region of report.regions) {
    if (!dryRun && !job.blocked.has(region)) await checkBucket(job, region);
    const cursors = await deps.store.cursors(region);
    for await (const facts of groupsOf(deps.logs, region, options.logGroupPrefixes)) {
      groups += 1;
      const plan = planGroup(facts, cursors.get(facts.name), {
        now: now(),
        sinceDays: options.sinceDays,
        settleHours: options.settleHours,
      });
      lost += plan.lost.length;
      await notifyDanger(job, plan);
      if (plan.due.length === 0) continue;
      progress(
        job,
        `${region} ${facts.name}: ${plan.due.length} day${plan.due.length > 1 ? 's' : ''} due (${plan.due[0]}..${plan.due[plan.due.length - 1]})`,
      );
      for (const [index, day] of plan.due.entries()) {
        if (job.blocked.has(region) || job.blocked.has(key(region, facts.name))) {
          backlog += plan.due.length - index;
          break;
        }
        if (dryRun) {
          countExported(report, region, facts.name);
          const destination = `s3://${options.buckets[region]}/${exportPrefix(options.prefix, region, facts.name, day)}/`;
          options.onDay?.({ outcome: 'planned', region, group: facts.name, day, destination });
          continue;
        }
        const outcome = await exportDay(job, region, facts.name, day, 1);
        if (outcome === 'stopped') return pause(job);
        if (outcome === 'gone') break;
        if (outcome === 'given-up' || outcome === 'refused') {
          job.blocked.add(outcome === 'refused' ? region : key(region, facts.name));
          // This day and the group's later ones stay due.
          backlog += plan.due.length - index;
          break;
        }
      }
    }
  }
  report.groups = groups;
  report.backlog = backlog;
  report.lostDays = lost;
  report.complete = true;
  report.finishedAt = new Date(now()).toISOString();
  if (!dryRun) {
    await deps.store.saveRun(undefined);
    await deps.publish(digestNotice(report, noticeContext(job)));
  }
  return report;
}
