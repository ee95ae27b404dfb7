/** The Lambda handler of a guard: a thin middy wrapper around the pipeline, built once per cold start. */

import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients, invokedAccount, stateRegion } from './aws.js';
import { isCustomResourceRequest } from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import { type Guard, LAMBDA_ATTEMPTS } from './guard.js';
import { logger as defaultLogger } from './logger.js';
import { type CheckedEvent, checkEvent, type HandledEvent, handleEvent, ignored } from './pipeline.js';
import { recordKey } from './record-key.js';
import { ignoredSettingWarnings, loadSettings, type Settings } from './settings.js';

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

/** What the idempotency layer is given: the checked event, and the key of its record (see lib/record-key.ts). */
interface KeyedEvent {
  recordKey: string;
  checked: CheckedEvent;
}

/** Keyed on the record (its event id and a digest of what it says); kept a day (EventBridge retries for 24 hours). */
function idempotencyConfig() {
  return new IdempotencyConfig({
    eventKeyJmesPath: 'recordKey',
    expiresAfterSeconds: 24 * 60 * 60,
    // A malformed event has no id: it fails at the schema, not here.
    throwOnNoIdempotencyKey: false,
  });
}

export function createGuardHandler(guard: Guard, options: GuardHandlerOptions = {}) {
  // Read at cold start: an invalid setting stops start-up with a message naming the variable.
  const settings = options.settings ?? loadSettings();
  const aws = options.aws ?? createAwsClients();
  const logger = options.logger ?? defaultLogger;
  // A setting that no longer does anything must not pass for one that does: said once, at cold start; never fatal.
  for (const warning of ignoredSettingWarnings()) logger.warn(warning);
  const handle = async (event: unknown, context: Context): Promise<HandledEvent> => {
    if (guard.customResource && isCustomResourceRequest(event)) {
      // CloudFormation reads the answer sent to ResponseURL; the return value is the record the log keeps.
      const reason = await guard.customResource(event, { settings, aws }, logger);
      const base = { eventId: event.RequestId, eventName: `CloudFormation ${event.RequestType}` };
      return { ...ignored(base, null, null, reason), outcome: 'compliant' };
    }
    try {
      // The schema first: a malformed event is an error before any AWS call, idempotency records included.
      const checked = checkEvent(event, guard.rules);
      // A dry run writes nothing, not even an idempotency record; an event of no rule here needs none.
      if (idempotent && !options.dryRun && checked.rule) {
        idempotency?.registerLambdaContext(context);
        return await idempotent({ recordKey: recordKey(checked.event), checked }, context);
      }
      return await handleCloudTrailEvent(checked, context);
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
      screening: {
        accountId: invokedAccount(context),
        engineRoleArns: settings.engineRoleArns,
        ownPrincipalArns: options.ownPrincipalArns ?? [],
      },
    });
    // Thrown, the idempotency record is dropped: Lambda's retry runs again, then the event goes to the dead letters.
    if (result.outcome === 'failed') throw new RemediationFailedError(result);
    return result;
  };
  // EventBridge delivers at least once: a repeated event id returns the first result, with no write and no notice.
  const idempotency = settings.stateTable ? idempotencyConfig() : undefined;
  const idempotent =
    settings.stateTable && idempotency
      ? makeIdempotent(async ({ checked }: KeyedEvent, context: Context) => handleCloudTrailEvent(checked, context), {
          persistenceStore: new DynamoDBPersistenceLayer({
            tableName: settings.stateTable,
            keyAttr: 'pk',
            sortKeyAttr: 'sk',
            expiryAttr: 'expiresAt',
            awsSdkV3Client: aws.client(DynamoDBClient, stateRegion()),
          }),
          config: idempotency,
          // Per guard: an event is handled once by each guard whose rules it reaches.
          keyPrefix: guard.file,
        })
      : undefined;
  return middy(handle).use(injectLambdaContext(logger, { resetKeys: true }));
}
