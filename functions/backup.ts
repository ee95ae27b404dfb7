/**
 * The scheduled log backup: daily (the backupSchedule param) it starts a run; every 15 minutes (the sweep's tick) it
 * continues a run left open, while work is left (a task still running, the export slot busy, Lambda's time limit).
 * Each invocation stops a minute before its deadline with the run open in the state table.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients, invokedAccount } from '../lib/aws.js';
import { backupJob } from '../lib/backup/job.js';
import { logger } from '../lib/logger.js';
import { readBackupSettings } from '../lib/settings.js';

// Bad settings fail the cold start, naming the variable.
readBackupSettings();
const aws = createAwsClients();
const SAFETY_MS = 60_000;

async function backup(event: { continue?: boolean } | undefined, context: Context) {
  const report = await backupJob(aws, {
    account: invokedAccount(context),
    deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS,
    continueOnly: event?.continue === true,
    onProgress: (line) => logger.debug(line.trim()),
    onDay: (day) => logger.info('backup day', { ...day }),
  });
  if (!report) return { continued: false };
  const summary = {
    runId: report.runId,
    complete: report.complete,
    groups: report.groups,
    exportedDays: report.exportedDays,
    backlog: report.backlog,
    failed: report.failed.length,
    inDanger: report.inDanger.length,
    ...(report.waiting ? { waiting: report.waiting } : {}),
  };
  logger.info('backup run', summary);
  return summary;
}

export const handler = middy(backup).use(injectLambdaContext(logger, { resetKeys: true }));
