import type { Guard } from '../guard.js';
import { consoleSignInMfa } from '../rules/console-signin-mfa.js';
import { mfaQuarantine, mfaQuarantinePolicyDocument } from '../rules/mfa-quarantine.js';

export const mfaGuard: Guard = {
  functionKey: 'mfaGuard',
  file: 'mfa-guard',
  description:
    'Quarantines IAM users who lose MFA until they enrol again, and alerts on root and password-only sign-ins',
  rules: [mfaQuarantine, consoleSignInMfa],
  // IAM and console sign-in events reach EventBridge in us-east-1 only.
  onlyRegion: 'us-east-1',
  resources: ({ stage }) => ({
    MfaQuarantinePolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        ManagedPolicyName: `driftguard-${stage}-mfa-quarantine`,
        Description: 'driftguard: denies all but enrolling an MFA device and changing the password while MFA is absent',
        PolicyDocument: mfaQuarantinePolicyDocument,
      },
    },
  }),
};
