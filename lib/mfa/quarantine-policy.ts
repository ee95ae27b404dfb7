/**
 * The quarantine policy: AWS's documented self-manage-MFA policy (IAM User Guide,
 * reference_policies_examples_iam_mfa-selfmanage), plus changing one's own password while MFA is absent.
 */

const OWN_USER = 'arn:aws:iam::*:user/${aws:username}';

/** Actions AWS's BlockMostAccessUnlessSignedInWithMFA statement leaves allowed without MFA (enrolling a device). */
export const AWS_MFA_ENROLMENT_ACTIONS = [
  'iam:CreateVirtualMFADevice',
  'iam:EnableMFADevice',
  'iam:ListMFADevices',
  'iam:ListUsers',
  'iam:ListVirtualMFADevices',
  'iam:ResyncMFADevice',
] as const;

/** What the quarantine adds to AWS's exceptions: a user may change their own password before enrolling. */
export const PASSWORD_CHANGE_ACTIONS = ['iam:ChangePassword', 'iam:GetAccountPasswordPolicy'] as const;

export const mfaQuarantinePolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AllowListActions',
      Effect: 'Allow',
      Action: ['iam:ListUsers', 'iam:ListVirtualMFADevices'],
      Resource: '*',
    },
    {
      Sid: 'AllowUserToCreateVirtualMFADevice',
      Effect: 'Allow',
      Action: ['iam:CreateVirtualMFADevice'],
      Resource: 'arn:aws:iam::*:mfa/*',
    },
    {
      Sid: 'AllowUserToManageTheirOwnMFA',
      Effect: 'Allow',
      Action: ['iam:EnableMFADevice', 'iam:GetMFADevice', 'iam:ListMFADevices', 'iam:ResyncMFADevice'],
      Resource: OWN_USER,
    },
    {
      Sid: 'AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA',
      Effect: 'Allow',
      Action: ['iam:DeactivateMFADevice'],
      Resource: [OWN_USER],
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    },
    {
      Sid: 'AllowUserToChangeTheirOwnPassword',
      Effect: 'Allow',
      Action: ['iam:ChangePassword'],
      Resource: OWN_USER,
    },
    {
      Sid: 'AllowUserToReadThePasswordPolicy',
      Effect: 'Allow',
      Action: ['iam:GetAccountPasswordPolicy'],
      Resource: '*',
    },
    {
      Sid: 'BlockMostAccessUnlessSignedInWithMFA',
      Effect: 'Deny',
      NotAction: [...AWS_MFA_ENROLMENT_ACTIONS, ...PASSWORD_CHANGE_ACTIONS],
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
    },
  ],
} as const;
