import { logGroupGuard } from '../lib/guards/log-group-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(logGroupGuard);
