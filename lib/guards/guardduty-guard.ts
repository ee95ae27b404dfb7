import { stateRegion } from '../aws.js';
import { type DeployCapture, handleCaptureResource } from '../deploy-capture.js';
import type { Guard, GuardDeployment } from '../guard.js';
import { captureGuardDutyBaselines } from '../guardduty-baselines.js';
import { guarddutyEnabled } from '../rules/guardduty-enabled.js';

/** The custom resource that captures the home region's GuardDuty baseline when the stack is created. */
export const GUARDDUTY_CAPTURE: DeployCapture = {
  resourceId: 'GuardDutyBaselineCapture',
  capture: (ctx, region) => captureGuardDutyBaselines(ctx, [region], 'deploy'),
  what: 'GuardDuty baselines',
  physicalIdPrefix: 'driftguard-guardduty-baselines-',
};

export const guarddutyGuard: Guard = {
  functionKey: 'guarddutyGuard',
  file: 'guardduty-guard',
  rules: [guarddutyEnabled],
  customResource: async (request, ctx, logger) =>
    (await handleCaptureResource(GUARDDUTY_CAPTURE, request, ctx, stateRegion(), logger)).reason,
};

export const guarddutyGuardDeployment: GuardDeployment = {
  description: 'Keeps GuardDuty on in every region, restoring a deleted or weakened detector from its baseline',
  // The stack's own ARN: the capture answers only its own stack's requests.
  environment: { DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
  // The stack's own region at deploy; the other regions' baselines are captured by the sweep.
  resources: () => ({
    [GUARDDUTY_CAPTURE.resourceId]: {
      Type: 'Custom::GuardDutyBaselineCapture',
      DependsOn: ['StateTable'],
      Properties: { ServiceToken: { 'Fn::GetAtt': ['GuarddutyGuardLambdaFunction', 'Arn'] } },
    },
  }),
};
