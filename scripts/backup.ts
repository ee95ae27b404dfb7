/**
 * npm run backup -- [--emulator | --endpoint URL] [--regions r1,r2] [--dry-run] [--json]
 * The same backup the scheduled function runs: each finished UTC day of each selected log group exported to the
 * region's bucket, one export task at a time. Progress per group on stderr; with --json one line per day exported
 * (or, with --dry-run, to be exported) on stdout; then a summary.
 */

import { parseArgs } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createAwsClients } from '../lib/aws.js';
import { backupJob } from '../lib/backup/job.js';
import { digestNotice } from '../lib/backup/notices.js';
import type { BackupReport } from '../lib/backup/run.js';
import { parseRegions, readBackupSettings } from '../lib/settings.js';
import { startEmulator } from './emulator/launcher.js';
import { useEndpoint } from './provision.js';

export interface BackupCliOptions {
  emulator?: boolean;
  endpoint?: string;
  regions?: string[];
  dryRun?: boolean;
  json?: boolean;
  /** Stop (the run left open for the next) after this long; the scheduled function's 14 minutes by default. */
  deadlineMs?: number;
  pollMs?: number;
  print?: (line: string) => void;
  progress?: (line: string) => void;
}

const DEFAULT_DEADLINE_MS = 14 * 60_000;
const CLI_POLL_MS = 5_000;

export async function backupCommand(options: BackupCliOptions): Promise<BackupReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.emulator && options.endpoint) throw new Error('--emulator and --endpoint are mutually exclusive');
  // Bad settings are named before any emulator starts or any call is made.
  readBackupSettings();
  const emulator = options.emulator ? await startEmulator() : undefined;
  try {
    const endpoint = emulator?.url ?? options.endpoint;
    if (endpoint) await useEndpoint(endpoint, emulator !== undefined);
    const aws = createAwsClients();
    const home = process.env.AWS_REGION ?? 'us-east-1';
    const { Account = '' } = await new STSClient({ region: home }).send(new GetCallerIdentityCommand({}));
    // The account the buckets must belong to: without it, no bucket could be checked.
    if (!/^\d{12}$/.test(Account)) throw new Error(`GetCallerIdentity named no account (${JSON.stringify(Account)})`);
    const report = await backupJob(aws, {
      account: Account,
      ...(options.regions ? { regions: options.regions } : {}),
      dryRun: options.dryRun ?? false,
      deadline: Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS),
      pollMs: options.pollMs ?? CLI_POLL_MS,
      onProgress: progress,
      onDay: (day) => {
        if (options.json) print(JSON.stringify(day));
      },
    });
    if (!report) throw new Error('the backup returned no report');
    if (options.json) print(JSON.stringify({ summary: report }));
    else if (report.complete)
      print(digestNotice(report, { account: Account, buckets: report.buckets, prefix: report.prefix }).text);
    else
      print(
        `backup ${report.runId} stopped before completing: ${report.waiting ?? 'deadline'}. ${report.exportedDays} day(s) exported; run it again (or let the scheduled function's next tick) continue from the cursors.`,
      );
    return report;
  } finally {
    await emulator?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        emulator: { type: 'boolean' },
        endpoint: { type: 'string' },
        regions: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    const regions = parseRegions(values.regions);
    await backupCommand({
      emulator: values.emulator ?? false,
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      ...(regions ? { regions } : {}),
      dryRun: values['dry-run'] ?? false,
      json: values.json ?? false,
    });
  } catch (error) {
    process.stderr.write(`backup: ${(error as Error).message}\n`);
    process.exitCode = (error as Error).name === 'SettingsError' || (error as Error).name === 'TypeError' ? 2 : 1;
  }
}
