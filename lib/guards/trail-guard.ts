import { handleCaptureResource } from '../deploy-capture.js';
import type { Guard } from '../guard.js';
import { trailIntegrity } from '../rules/trail-integrity.js';

export const trailGuard: Guard = {
  functionKey: 'trailGuard',
  file: 'trail-guard',
  description: 'Keeps every CloudTrail trail logging, and restores a deleted or weakened trail exactly',
  rules: [trailIntegrity],
  customResource: async (request, ctx, logger) =>
    (await handleCaptureResource(request, ctx, process.env.AWS_REGION ?? 'us-east-1', logger)).reason,
};
