/**
 * The scheduled sweep: daily (a param) it starts a sweep; every 15 minutes it continues one left open by Lambda's
 * time limit. Each run stops a minute before its deadline with a cursor in the state table.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients, invokedAccount } from '../lib/aws.js';
import { logger } from '../lib/logger.js';
import { RULES } from '../lib/registry.js';
import { loadSettings } from '../lib/settings.js';
import { parseRateLimits, rateLimited } from '../lib/sweep/rate-limit.js';
import { enabledRegions, parseRegions } from '../lib/sweep/regions.js';
import { publishDigest, runSweep } from '../lib/sweep/sweep.js';

const settings = loadSettings();
const aws = rateLimited(createAwsClients(), parseRateLimits(process.env.DRIFTGUARD_SWEEP_RATE_LIMITS));
const SAFETY_MS = 60_000;

async function sweep(event: { continue?: boolean } | undefined, context: Context) {
  const account = invokedAccount(context);
  const home = process.env.AWS_REGION ?? 'us-east-1';
  const regions = parseRegions(process.env.DRIFTGUARD_SWEEP_REGIONS) ?? (await enabledRegions(aws, home));
  const report = await runSweep(
    { settings, aws },
    {
      rules: RULES,
      regions,
      account,
      deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS,
      continueOnly: event?.continue === true,
      // The full report is the log: one line per item that is not compliant.
      onItem: (item) => {
        if (item.outcome !== 'compliant') logger.info('sweep item', { ...item });
      },
    },
  );
  if (!report) return { continued: false };
  if (report.complete) await publishDigest({ settings, aws }, report, account);
  logger.info('sweep run', { complete: report.complete, seen: report.seen, counts: report.counts });
  return { sweepId: report.sweepId, complete: report.complete, seen: report.seen, counts: report.counts };
}

export const handler = middy(sweep).use(injectLambdaContext(logger, { resetKeys: true }));
