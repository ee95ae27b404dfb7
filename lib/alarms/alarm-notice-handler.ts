/** The alarm-notice function's handler: parse the alarm state change at the edge, then lib/alarms/alarm-notice.ts. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients, invokedAccount } from '../aws.js';
import { MalformedEventError } from '../envelope.js';
import { logger as defaultLogger } from '../logger.js';
import type { HandledEvent } from '../pipeline.js';
import { loadSettings, type Settings } from '../settings.js';
import { parseAlarmStateChange } from './alarm-event.js';
import { type ActivityAlarm, type AlarmNoticeContext, handleAlarmStateChange } from './alarm-notice.js';

export interface AlarmNoticeHandlerOptions {
  settings?: Settings;
  aws?: AwsClients;
  logger?: Logger;
  /** Read and print only: no notice, no outbox record (the replay's --dry-run). */
  dryRun?: boolean;
  /** The engine's activity alarms; by default the stage's (DRIFTGUARD_STAGE). */
  alarms?: readonly ActivityAlarm[];
  activityLogGroup?: AlarmNoticeContext['activityLogGroup'];
}

export interface AlarmNoticeDefaults {
  alarms(settings: Settings): readonly ActivityAlarm[];
  activityLogGroup(settings: Settings, aws: AwsClients): AlarmNoticeContext['activityLogGroup'];
}

/** Built once per cold start: settings and clients read then; an invalid setting stops start-up naming it. */
export function createAlarmNoticeHandler(defaults: AlarmNoticeDefaults, options: AlarmNoticeHandlerOptions = {}) {
  const settings = options.settings ?? loadSettings();
  const aws = options.aws ?? createAwsClients();
  const logger = options.logger ?? defaultLogger;
  const alarms = options.alarms ?? defaults.alarms(settings);
  const activityLogGroup = options.activityLogGroup ?? defaults.activityLogGroup(settings, aws);
  const handle = async (raw: unknown, context: Context): Promise<HandledEvent> => {
    try {
      const event = parseAlarmStateChange(raw);
      return await handleAlarmStateChange(event, {
        settings,
        aws,
        accountId: invokedAccount(context),
        alarms,
        activityLogGroup,
        dryRun: options.dryRun ?? false,
        logger,
      });
    } catch (error) {
      if (error instanceof MalformedEventError)
        logger.error('malformed event: no action taken', { error: error.message });
      else logger.error('alarm notice failed: retried, then dead-lettered', error as Error);
      throw error;
    }
  };
  return middy(handle).use(injectLambdaContext(logger, { resetKeys: true }));
}
