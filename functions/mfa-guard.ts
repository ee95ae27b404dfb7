import { mfaGuard } from '../lib/guards/mfa-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(mfaGuard);
