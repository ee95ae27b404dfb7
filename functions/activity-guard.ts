import { activityGuard } from '../lib/guards/activity-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(activityGuard);
