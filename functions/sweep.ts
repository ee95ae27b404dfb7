/**
 * The scheduled sweep: daily (a param) it starts a sweep; every 15 minutes it continues one left open by Lambda's
 * time limit. Each run stops a minute before its deadline with a cursor in the state table. It also serves the
 * stack's Custom::RegionForwarders: the forwarders of the other regions, put in place at deploy and removed with it.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients, homeRegion, invokedAccount } from '../lib/aws.js';
import { isCustomResourceRequest } from '../lib/custom-resource.js';
import { logger } from '../lib/logger.js';
import { REGION_FORWARDERS, SWEPT_RULES } from '../lib/registry.js';
import { handleForwardersResource } from '../lib/rules/region-forwarders.js';
import { loadSettings } from '../lib/settings.js';
import { parseRateLimits, rateLimited } from '../lib/sweep/rate-limit.js';
import { enabledRegions, parseRegions } from '../lib/sweep/regions.js';
import { publishDigest, runSweep } from '../lib/sweep/sweep.js';

const settings = loadSettings();
const aws = rateLimited(createAwsClients(), parseRateLimits(process.env.DRIFTGUARD_SWEEP_RATE_LIMITS));
const SAFETY_MS = 60_000;

const sweptRegions = async () =>
  parseRegions(process.env.DRIFTGUARD_SWEEP_REGIONS) ?? (await enabledRegions(aws, homeRegion()));

async function sweep(event: { continue?: boolean } | undefined, context: Context) {
  const account = invokedAccount(context);
  const regions = await sweptRegions();
  const report = await runSweep(
    { settings, aws },
    {
      rules: SWEPT_RULES,
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

async function sweepOrForwarders(event: unknown, context: Context) {
  if (!isCustomResourceRequest(event)) return sweep(event as { continue?: boolean } | undefined, context);
  // CloudFormation reads the answer sent to ResponseURL; the return value is the record the log keeps.
  return handleForwardersResource(
    event,
    REGION_FORWARDERS,
    { settings, aws },
    async () => {
      const regions = settings.forwardRegions ?? (await sweptRegions());
      // Cleaning reaches every enabled region when they can be listed, and the configured ones at least.
      const enabled = await enabledRegions(aws, homeRegion()).catch((error: unknown) => {
        logger.warn('the enabled regions could not be listed: only the configured ones are cleaned', error as Error);
        return regions;
      });
      return { account: invokedAccount(context), regions, enabledRegions: enabled };
    },
    logger,
  );
}

export const handler = middy(sweepOrForwarders).use(injectLambdaContext(logger, { resetKeys: true }));
