/**
 * The backup job as the scheduled function and `npm run backup` both run it: settings read and checked, the regions
 * and their buckets, the SDK-backed calls and records, then lib/backup/run.ts.
 */
import { type AwsClients, homeRegion } from '../aws.js';
import { loadSettings, readBackupSettings, SettingsError } from '../settings.js';
import { memoryStore, sdkBucketApi, sdkLogsApi, stateTableStore, topicPublisher } from './aws.js';
import { bucketsFor } from './plan.js';
import { type BackupOptions, type BackupReport, runBackup } from './run.js';

export interface BackupJobOptions
  extends Pick<BackupOptions, 'account' | 'dryRun' | 'deadline' | 'continueOnly' | 'onProgress' | 'onDay' | 'pollMs'> {
  /** The regions to back up; default the home region and every region DRIFTGUARD_BACKUP_BUCKETS names. */
  regions?: string[];
  env?: Record<string, string | undefined>;
}

/** The regions a backup covers by default: home, and every region that has a bucket of its own. */
export function defaultBackupRegions(home: string, regionBuckets: Record<string, string>): string[] {
  return [...new Set([home, ...Object.keys(regionBuckets).sort()])];
}

export async function backupJob(aws: AwsClients, options: BackupJobOptions): Promise<BackupReport | undefined> {
  const { env = process.env, regions: chosen, ...run } = options;
  const settings = loadSettings(env);
  const backup = readBackupSettings(env);
  const home = homeRegion();
  const regions = chosen ?? defaultBackupRegions(home, backup.regionBuckets);
  const buckets = bucketsFor(regions, home, backup);
  const dryRun = run.dryRun ?? false;
  if (!settings.stateTable && !dryRun)
    throw new SettingsError(
      'DRIFTGUARD_STATE_TABLE is not set: the backup keeps its cursor per log group there, so that no day is exported twice',
    );
  return runBackup(
    {
      logs: sdkLogsApi(aws),
      buckets: sdkBucketApi(aws),
      store: settings.stateTable ? stateTableStore(aws, settings.stateTable) : memoryStore(),
      publish: topicPublisher(aws, settings.noticeTopicArn),
    },
    {
      ...run,
      regions,
      buckets,
      prefix: backup.prefix,
      logGroupPrefixes: backup.logGroupPrefixes,
      sinceDays: backup.sinceDays,
      settleHours: backup.settleHours,
    },
  );
}
