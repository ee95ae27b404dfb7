/**
 * The scheduled sweep: daily (a param) it starts a sweep; every 15 minutes it continues one left open by Lambda's
 * time limit. Each run starts no page in its last SWEEP_MARGIN_MS and stops with a cursor in the state table. The guards run their
 * rules' pages (one invocation each, lib/sweep/invoked-pass.ts); the sweep keeps the forwarders itself. It also serves
 * the stack's Custom::RegionForwarders: the forwarders of the other regions, put in place at deploy and removed with it.
 * It holds no rule's code (lib/sweep/plan.ts): its bundle stays small and its role holds no guard's powers.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients, homeRegion, invokedAccount } from '../lib/aws.js';
import { isCustomResourceRequest } from '../lib/custom-resource.js';
import { logger } from '../lib/logger.js';
import { handleForwardersResource, regionForwardersRule } from '../lib/rules/region-forwarders.js';
import { loadSettings } from '../lib/settings.js';
import {
  guardInvokeClients,
  type InvokedPasses,
  invokedPasses,
  parseGuardFunctions,
  SWEEP_MARGIN_MS,
} from '../lib/sweep/invoked-pass.js';
import { SWEEP_PLAN } from '../lib/sweep/plan.js';
import { parseRateLimits, rateLimited } from '../lib/sweep/rate-limit.js';
import { enabledRegions, parseRegions } from '../lib/sweep/regions.js';
import { localPasses, publishDigest, runSweep } from '../lib/sweep/sweep.js';

const settings = loadSettings();
const limits = parseRateLimits(process.env.DRIFTGUARD_SWEEP_RATE_LIMITS);
const aws = rateLimited(createAwsClients(), limits);
const REGION_FORWARDERS = regionForwardersRule(SWEEP_PLAN.triggers);
let guards: InvokedPasses | undefined;
/**
 * The guards' passes. Made at the first sweep, not at load: a missing DRIFTGUARD_GUARD_FUNCTIONS fails the sweep,
 * never the forwarders' custom resource. Each page carries the sweep's rate limits to the guard that runs it.
 */
const guardPasses = () =>
  (guards ??= invokedPasses(
    SWEEP_PLAN.passes,
    parseGuardFunctions(process.env.DRIFTGUARD_GUARD_FUNCTIONS, SWEEP_PLAN.passes),
    { aws, invoke: guardInvokeClients() },
    homeRegion(),
    limits,
  ));

const sweptRegions = async () =>
  parseRegions(process.env.DRIFTGUARD_SWEEP_REGIONS) ?? (await enabledRegions(aws, homeRegion()));

async function sweep(event: { continue?: boolean } | undefined, context: Context) {
  const account = invokedAccount(context);
  const regions = await sweptRegions();
  const invoked = guardPasses();
  const report = await runSweep(
    { settings, aws },
    {
      // Every guard's pass, then the forwarders' (after the resource passes a saved cursor was made for).
      passes: [...invoked.passes, ...localPasses([REGION_FORWARDERS])],
      regions,
      account,
      deadline: Date.now() + context.getRemainingTimeInMillis() - SWEEP_MARGIN_MS,
      continueOnly: event?.continue === true,
      // The full report is the log: one line per item that is not compliant.
      onItem: (item) => {
        if (item.outcome !== 'compliant') logger.info('sweep item', { ...item });
      },
    },
  ).finally(() =>
    // The run's pages are over (or it failed): its record goes, and no guard serves them any more (else it expires).
    invoked.endRuns().catch((error: unknown) => logger.warn('a sweep run record was not deleted', error as Error)),
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
