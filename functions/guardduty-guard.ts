import { guarddutyGuard } from '../lib/guards/guardduty-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(guarddutyGuard);
