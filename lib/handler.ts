/** The Lambda handler of a guard: a thin middy wrapper around the pipeline, built once per cold start. */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from './aws.js';
import { isCustomResourceRequest } from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import type { Guard } from './guard.js';
import { logger as defaultLogger } from './logger.js';
import { type HandledEvent, handleEvent } from './pipeline.js';
import { loadSettings, type Settings } from './settings.js';

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
}

/** The account this function runs in, from its own ARN (no STS call). */
function accountOf(context: Context): string {
  const account = context.invokedFunctionArn?.split(':')[4];
  if (!account) throw new Error(`cannot tell the account from invokedFunctionArn ${context.invokedFunctionArn}`);
  return account;
}

export function createGuardHandler(guard: Guard, options: GuardHandlerOptions = {}) {
  // Read at cold start: an invalid setting stops start-up with a message naming the variable.
  const settings = options.settings ?? loadSettings();
  const aws = options.aws ?? createAwsClients();
  const logger = options.logger ?? defaultLogger;
  const handle = async (event: unknown, context: Context): Promise<HandledEvent> => {
    if (guard.customResource && isCustomResourceRequest(event)) {
      // CloudFormation reads the answer sent to ResponseURL; the return value is the record the log keeps.
      const reason = await guard.customResource(event, { settings, aws }, logger);
      return {
        eventId: event.RequestId,
        eventName: `CloudFormation ${event.RequestType}`,
        rule: null,
        outcome: 'compliant',
        reason,
        resource: null,
        findings: [],
        actions: [],
        failures: [],
        needsHuman: [],
        notice: null,
      };
    }
    let result: HandledEvent;
    try {
      result = await handleEvent(event, guard.rules, {
        settings,
        aws,
        dryRun: options.dryRun ?? false,
        logger,
        screening: {
          accountId: accountOf(context),
          engineRolePrefix: settings.engineRolePrefix,
          ownPrincipalArns: options.ownPrincipalArns ?? [],
        },
      });
    } catch (error) {
      if (error instanceof MalformedEventError)
        logger.error('malformed event: no action taken', { error: error.message });
      else logger.error('event handling failed', error as Error);
      throw error;
    }
    if (result.outcome === 'failed') throw new RemediationFailedError(result);
    return result;
  };
  return middy(handle).use(injectLambdaContext(logger, { resetKeys: true }));
}
