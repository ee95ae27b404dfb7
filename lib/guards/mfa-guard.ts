import type { Guard, GuardDeployment } from '../guard.js';
import { mfaQuarantinePolicyDocument } from '../mfa/quarantine-policy.js';
import { consoleSignInMfa } from '../rules/console-signin-mfa.js';
import { mfaQuarantine } from '../rules/mfa-quarantine.js';

/**
 * A policy document as CloudFormation takes it from serverless.yml: every ARN in Fn::Sub with the stack's partition,
 * and IAM's own ${aws:...} variables escaped as ${!aws:...} (the Serverless resolver would read them as its own).
 */
export function cloudFormationPolicy(document: unknown): unknown {
  if (typeof document === 'string' && document.startsWith('arn:aws:')) {
    return { 'Fn::Sub': document.replace(/^arn:aws:/, 'arn:${AWS::Partition}:').replaceAll('${aws:', '${!aws:') };
  }
  if (Array.isArray(document)) return document.map(cloudFormationPolicy);
  if (document !== null && typeof document === 'object') {
    return Object.fromEntries(Object.entries(document).map(([key, value]) => [key, cloudFormationPolicy(value)]));
  }
  return document;
}

export const mfaGuard: Guard = {
  functionKey: 'mfaGuard',
  file: 'mfa-guard',
  rules: [mfaQuarantine, consoleSignInMfa],
};

export const mfaGuardDeployment: GuardDeployment = {
  description:
    'Quarantines IAM users who lose MFA until they enrol again, and alerts on root and password-only sign-ins',
  environment: { DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: { Ref: 'MfaQuarantinePolicy' } },
  resources: ({ stage }) => ({
    MfaQuarantinePolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        ManagedPolicyName: `driftguard-${stage}-mfa-quarantine`,
        Description: 'driftguard: denies all but enrolling an MFA device and changing the password while MFA is absent',
        PolicyDocument: cloudFormationPolicy(mfaQuarantinePolicyDocument),
      },
    },
  }),
};
