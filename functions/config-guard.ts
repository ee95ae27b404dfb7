import { configGuard } from '../lib/guards/config-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(configGuard);
