/** What a backup run reports (its digest, the CLI's summary, the open run kept in the state table). */
import type { Day } from './plan.js';

export interface BackupFailure {
  region: string;
  group: string;
  day: Day;
  error: string;
}

export interface BackupReport {
  runId: string;
  startedAt: string;
  finishedAt: string | undefined;
  regions: string[];
  /** Each region's bucket, and the key prefix in it. */
  buckets: Record<string, string>;
  prefix: string;
  dryRun: boolean;
  complete: boolean;
  /** Groups looked at by the pass that completed the run (or the last pass). */
  groups: number;
  /** Days exported by this run (or, in a dry run, to be exported). */
  exportedDays: number;
  /** Groups with at least one day exported. */
  exportedGroups: number;
  /** The group (region#group) of the last day exported, so that a group continued in the next invocation counts once. */
  lastExportedGroup?: string;
  /** Days due but not exported when the run ended (a group given up on, a region refused). */
  backlog: number;
  /** Days retention deleted before they were exported. */
  lostDays: number;
  /** Groups whose oldest unexported day retention deletes within two days (each notified once per run). */
  inDanger: { region: string; group: string; day: Day; deletesAt: string }[];
  failed: BackupFailure[];
  /** Tasks the job did not start that held the export slot and were notified (once per task and run). */
  foreignTasks?: { region: string; taskId: string }[];
  /** Why the run stopped before completing (the task it waits for, the busy slot). */
  waiting?: string;
}

/** An export task as DescribeExportTasks shows it (lib/backup/run.ts reads it). */
export interface ExportTaskView {
  taskId: string;
  taskName: string | undefined;
  status: string | undefined;
  message: string | undefined;
  /** What the task exports, and where (DescribeExportTasks): a task is adopted only when all of them are the job's. */
  logGroupName?: string;
  from?: number;
  to?: number;
  destination?: string;
  destinationPrefix?: string;
  /** When the task was created (executionInfo.creationTime, ms since epoch). */
  createdAt?: number;
}
