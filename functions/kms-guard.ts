import { kmsGuard } from '../lib/guards/kms-guard.js';
import { createGuardHandler } from '../lib/handler.js';

export const handler = createGuardHandler(kmsGuard);
