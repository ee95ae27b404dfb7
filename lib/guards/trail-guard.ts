import { stateRegion } from '../aws.js';
import { CAPTURE_RESOURCE_ID, type DeployCapture, handleCaptureResource } from '../deploy-capture.js';
import type { Guard, GuardDeployment } from '../guard.js';
import { trailIntegrity } from '../rules/trail-integrity.js';
import { captureTrailBaselines } from '../trail-baselines.js';

/** The custom resource that captures the home region's trail baselines when the stack is created. */
export const TRAIL_CAPTURE: DeployCapture = {
  resourceId: CAPTURE_RESOURCE_ID,
  capture: (ctx, region) => captureTrailBaselines(ctx, [region], 'deploy'),
  what: 'trail baselines',
  physicalIdPrefix: 'driftguard-trail-baselines-',
};

export const trailGuard: Guard = {
  functionKey: 'trailGuard',
  file: 'trail-guard',
  rules: [trailIntegrity],
  // The stack's own region: its trails are captured at deploy, the other regions' by the sweep.
  customResource: async (request, ctx, logger) =>
    (await handleCaptureResource(TRAIL_CAPTURE, request, ctx, stateRegion(), logger)).reason,
};

export const trailGuardDeployment: GuardDeployment = {
  description: 'Keeps every CloudTrail trail logging, and restores a deleted or weakened trail exactly',
  // The stack's own ARN: the capture answers only its own stack's requests.
  environment: { DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
};
