import { stateRegion } from '../aws.js';
import { handleCaptureResource } from '../deploy-capture.js';
import type { Guard } from '../guard.js';
import { trailIntegrity } from '../rules/trail-integrity.js';

export const trailGuard: Guard = {
  functionKey: 'trailGuard',
  file: 'trail-guard',
  description: 'Keeps every CloudTrail trail logging, and restores a deleted or weakened trail exactly',
  rules: [trailIntegrity],
  // The stack's own ARN: the capture answers only its own stack's requests.
  environment: { DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
  // The stack's own region: its trails are captured at deploy, the other regions' by the sweep.
  customResource: async (request, ctx, logger) =>
    (await handleCaptureResource(request, ctx, stateRegion(), logger)).reason,
};
