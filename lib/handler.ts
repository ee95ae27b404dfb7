/** The Lambda handler of a guard: a thin middy wrapper around the pipeline, built once per cold start. */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients, invokedAccount } from './aws.js';
import { isCustomResourceRequest } from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import { EventLedger } from './event-ledger.js';
import { type Guard, LAMBDA_ATTEMPTS } from './guard.js';
import { logger as defaultLogger } from './logger.js';
import { type CheckedEvent, checkEvent, type HandledEvent, handleEvent, ignored } from './pipeline.js';
import { ignoredSettingWarnings, loadSettings, type Settings } from './settings.js';
import {
  admitPage,
  keptRuns,
  onlyRegionOf,
  type PageRequest,
  type PageResult,
  pageRequestOf,
  runRecord,
  sweepPage,
} from './sweep/page.js';
import { rateLimited } from './sweep/rate-limit.js';

/** Thrown after a failed remediation (and its notice) so Lambda retries, then sends the event to the dead-letter queue. */
export class RemediationFailedError extends Error {
  override name = 'RemediationFailedError';
  constructor(readonly result: HandledEvent) {
    super(`${result.rule} failed on ${result.resource?.id ?? result.eventId}: ${result.reason}`);
  }
}

export interface GuardHandlerOptions {
  settings?: Settings;
  aws?: AwsClients;
  /** Principals whose events are the engine's own besides its roles (the replay's caller identity). */
  ownPrincipalArns?: string[];
  dryRun?: boolean;
  logger?: Logger;
  /** Lambda's attempts at an event (1 + maximumRetryAttempts in serverless.yml); the replay makes one. */
  attempts?: number;
}

export function createGuardHandler(guard: Guard, options: GuardHandlerOptions = {}) {
  // Read at cold start: an invalid setting stops start-up with a message naming the variable.
  const settings = options.settings ?? loadSettings();
  const aws = options.aws ?? createAwsClients();
  const logger = options.logger ?? defaultLogger;
  // Per guard: an event is handled once by each guard whose rules it reaches.
  const ledger = settings.stateTable ? new EventLedger(aws, settings.stateTable, guard.file) : undefined;
  // A setting that no longer does anything must not pass for one that does: said once, at cold start; never fatal.
  for (const warning of ignoredSettingWarnings()) logger.warn(warning);
  const passes = guard.rules.flatMap((rule) => (rule.sweep ? [rule.sweep.pass] : []));
  const runs = keptRuns();
  // A page of a live sweep run that its secret opens (lib/sweep/page.ts), in a region the run sweeps (a pass of one
  // region: that region), its calls within the rate limits the sweep sends, on clients of their own (the guard's
  // events are not limited). What it did is logged here too: an answer the sweep never reads is not lost.
  const servePage = async (request: PageRequest, context: Context): Promise<PageResult> => {
    const rule = guard.rules.find(({ sweep }) => sweep?.pass === request.pass) as Guard['rules'][number];
    // Read at every page, so that a run the sweep ended is served no more, even by a warm guard.
    const record = await runRecord(aws, settings.stateTable, request.run);
    admitPage(record, request, onlyRegionOf(rule.sweep?.onlyRegion));
    const kept = runs.keep(request.run);
    // Clients of the run's own, within its rate limits.
    kept.aws ??= rateLimited(options.aws ?? createAwsClients(), request.limits);
    const ctx = {
      settings,
      aws: kept.aws,
      account: invokedAccount(context),
      sweepId: request.sweepId,
      now: new Date().toISOString(),
      dryRun: options.dryRun ?? false,
      sharedReads: kept.reads,
    };
    // Each item logged as it settles; none started in the last 10 s of the guard's time.
    const page = await sweepPage(rule, request.region, request.token, ctx, {
      deadline: Date.now() + context.getRemainingTimeInMillis() - 10_000,
      onItem: (item) => {
        if (item.outcome !== 'compliant') logger.info('sweep item', { ...item });
      },
    });
    logger.info('sweep page', { pass: request.pass, region: request.region, seen: page.seen, more: !!page.next });
    return page;
  };
  const handle = async (event: unknown, context: Context): Promise<HandledEvent | PageResult> => {
    if (guard.customResource && isCustomResourceRequest(event)) {
      // CloudFormation reads the answer sent to ResponseURL; the return value is the record the log keeps.
      const reason = await guard.customResource(event, { settings, aws }, logger);
      const base = { eventId: event.RequestId, eventName: `CloudFormation ${event.RequestType}` };
      return { ...ignored(base, null, null, reason), outcome: 'compliant' };
    }
    try {
      const page = pageRequestOf(event, passes);
      if (page) return await servePage(page, context);
      // The schema first: a malformed event is an error before any AWS call, idempotency records included.
      return await handleCloudTrailEvent(checkEvent(event, guard.rules), context);
    } catch (error) {
      if (error instanceof MalformedEventError)
        logger.error('malformed event: no action taken', { error: error.message });
      else if (error instanceof RemediationFailedError)
        logger.error('remediation failed: retried, then dead-lettered', { reason: error.message });
      else logger.error('event handling failed', error as Error);
      throw error;
    }
  };
  const handleCloudTrailEvent = async (checked: CheckedEvent, context: Context): Promise<HandledEvent> => {
    const result = await handleEvent(checked, {
      settings,
      aws,
      dryRun: options.dryRun ?? false,
      failedNoticeAttempt: options.attempts ?? LAMBDA_ATTEMPTS,
      logger,
      // EventBridge delivers at least once: a repeated event returns the first result, with no write and no notice.
      ...(ledger ? { ledger, deadline: Date.now() + context.getRemainingTimeInMillis() } : {}),
      screening: {
        accountId: invokedAccount(context),
        engineRoleArns: settings.engineRoleArns,
        ownPrincipalArns: options.ownPrincipalArns ?? [],
      },
    });
    // Thrown (the event's record lets the next attempt run): Lambda retries, then the event goes to the dead letters.
    if (result.outcome === 'failed') throw new RemediationFailedError(result);
    return result;
  };
  const handler = middy(handle).use(injectLambdaContext(logger, { resetKeys: true }));
  return handler as GuardHandler & typeof handler;
}

/** A guard's handler: a sweep page request is answered with the page, any other event as a CloudTrail event. */
export interface GuardHandler {
  (event: PageRequest, context: Context): Promise<PageResult>;
  (event: unknown, context: Context): Promise<HandledEvent>;
}
