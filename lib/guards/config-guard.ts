import { stateRegion } from '../aws.js';
import { handleConfigCaptureResource } from '../config-deploy-capture.js';
import type { Guard, GuardDeployment } from '../guard.js';
import { configRecorderOn } from '../rules/config-recorder-on.js';

export const configGuard: Guard = {
  functionKey: 'configGuard',
  file: 'config-guard',
  rules: [configRecorderOn],
  // The stack's own region is captured at deploy, the other regions by the sweep.
  customResource: async (request, ctx, logger) =>
    (await handleConfigCaptureResource(request, ctx, stateRegion(), logger)).reason,
};

export const configGuardDeployment: GuardDeployment = {
  description: 'Keeps AWS Config recording everything in every region, with its delivery channel',
  // The stack's own ARN: the capture answers only its own stack's requests.
  environment: { DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
};
