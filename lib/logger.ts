/** The engine's one structured logger (Powertools): JSON lines with per-event keys. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'driftguard' });
