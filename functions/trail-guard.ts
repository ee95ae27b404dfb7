import { trailGuard } from '../lib/guards/trail-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(trailGuard);
