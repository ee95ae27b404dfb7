import { describe, expect, it } from 'vitest';
import type { UserIdentity } from '../../lib/envelope.js';
import { actorName, actorRoleArn, type ScreeningContext, screenEvent } from '../../lib/screening.js';
import { assumedRole } from '../support/identities.js';
import { ACCOUNT, sample, sampleWith } from './fixtures.js';

const ctx: ScreeningContext = {
  accountId: ACCOUNT,
  engineRoleArns: [
    'arn:aws:iam::123456789012:role/driftguard-dev-log-group-guard',
    'arn:aws:iam::123456789012:role/driftguard-dev-sweep',
  ],
  ownPrincipalArns: ['arn:aws:iam::123456789012:user/replay-operator'],
};

const IAM_USER: UserIdentity = {
  type: 'IAMUser',
  principalId: 'AIDACKCEVSQ6C2EXAMPLE',
  arn: 'arn:aws:iam::123456789012:user/alice',
  accountId: ACCOUNT,
  userName: 'alice',
};

const ROOT: UserIdentity = {
  type: 'Root',
  principalId: ACCOUNT,
  arn: 'arn:aws:iam::123456789012:root',
  accountId: ACCOUNT,
  // Console sessions of root carry an empty session issuer.
  sessionContext: { sessionIssuer: {} },
};

function byIdentity(identity: UserIdentity) {
  return sampleWith('logs-CreateLogGroup-plain', (raw) => {
    raw.detail.userIdentity = identity;
  });
}

describe('screenEvent', () => {
  it('ignores a failed call: nothing changed', () => {
    // Prepare
    const event = sample('logs-CreateLogGroup-failed-ResourceAlreadyExists');

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict).toEqual({
      code: 'failed-call',
      reason: 'the call failed (ResourceAlreadyExistsException), so nothing changed',
    });
  });

  it('screens failed calls before anything else, even the engine’s own', () => {
    // Prepare
    const event = sampleWith('logs-PutRetentionPolicy-by-remediation-engine', (raw) => {
      raw.detail.errorCode = 'AccessDenied';
    });

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict?.code).toBe('failed-call');
  });

  it.each<[string, { account?: string; recipientAccountId?: string }, string]>([
    ['the envelope account', { account: '210987654321' }, '210987654321/123456789012'],
    ['the recipient account', { recipientAccountId: '210987654321' }, '123456789012/210987654321'],
    ['both accounts', { account: '210987654321', recipientAccountId: '210987654321' }, '210987654321'],
  ])('ignores an event of another account by %s', (_label, accounts, shown) => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      if (accounts.account) raw.account = accounts.account;
      if (accounts.recipientAccountId) raw.detail.recipientAccountId = accounts.recipientAccountId;
    });

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict).toEqual({
      code: 'other-account',
      reason: `event of account ${shown}, the engine acts only in ${ACCOUNT}`,
    });
  });

  it('acts on an event without recipientAccountId when the envelope account is its own', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      Reflect.deleteProperty(raw.detail, 'recipientAccountId');
    });

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict).toBeUndefined();
  });

  it('ignores the engine’s own call (sample event, by session issuer ARN)', () => {
    // Prepare
    const event = sample('logs-PutRetentionPolicy-by-remediation-engine');

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict?.code).toBe('engine-own-call');
    expect(verdict?.reason).toContain('assumed-role/driftguard-dev-log-group-guard/');
  });

  it.each([
    ['session issuer ARN', assumedRole('driftguard-dev-log-group-guard', 'fn')],
    ['assumed-role ARN only (no session context)', assumedRole('driftguard-dev-sweep', 'fn', { issuer: false })],
  ])('ignores an engine role identified by its exact %s', (_label, identity) => {
    // Act
    const verdict = screenEvent(byIdentity(identity), ctx);

    // Assess
    expect(verdict?.code).toBe('engine-own-call');
  });

  it.each([
    ['the identity ARN', IAM_USER, 'arn:aws:iam::123456789012:user/alice'],
    ['the session issuer ARN', assumedRole('replay', 'me'), 'arn:aws:iam::123456789012:role/replay'],
  ])('ignores calls of an own principal given by %s', (_label, identity, ownArn) => {
    // Act
    const verdict = screenEvent(byIdentity(identity), { ...ctx, ownPrincipalArns: [ownArn] });

    // Assess
    expect(verdict?.code).toBe('engine-own-call');
  });

  it.each([
    ['an IAM user', IAM_USER],
    ['an IAM user whose name starts with the engine prefix', { ...IAM_USER, userName: 'driftguard-dev-bob' }],
    ['root', ROOT],
    ['an SSO role', assumedRole('AWSReservedSSO_AdministratorAccess_0123456789abcdef', 'jane.doe@example.com')],
    ['a role whose session (not role) starts with the prefix', assumedRole('deployer', 'driftguard-dev-x')],
    ['an impostor role named like the engine’s', assumedRole('driftguard-dev-x', 'fn')],
    ['an impostor role named like another stage’s', assumedRole('driftguard-prod-anything', 'fn')],
    ['an impostor by assumed-role ARN only', assumedRole('driftguard-dev-log-group-guard-2', 'fn', { issuer: false })],
    [
      'an engine role of another account',
      {
        ...assumedRole('driftguard-dev-sweep', 'fn'),
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::210987654321:role/driftguard-dev-sweep' },
        },
      },
    ],
  ])('acts on a call by %s', (_label, identity) => {
    // Act
    const verdict = screenEvent(byIdentity(identity), ctx);

    // Assess
    expect(verdict).toBeUndefined();
  });

  it.each(['logs-CreateLogGroup-plain', 'logs-AssociateKmsKey', 'logs-PutRetentionPolicy'])(
    'acts on the sample %s',
    (name) => {
      // Act
      const verdict = screenEvent(sample(name), ctx);

      // Assess
      expect(verdict).toBeUndefined();
    },
  );
});

describe('actorRoleArn', () => {
  it.each([
    ['session issuer', assumedRole('ops-admin', 'x'), 'arn:aws:iam::123456789012:role/ops-admin'],
    ['assumed-role ARN', assumedRole('ops-admin', 'x', { issuer: false }), 'arn:aws:iam::123456789012:role/ops-admin'],
    [
      'assumed-role ARN of another partition',
      { type: 'AssumedRole', arn: 'arn:aws-us-gov:sts::123456789012:assumed-role/ops/x' },
      'arn:aws-us-gov:iam::123456789012:role/ops',
    ],
    ['IAM user', IAM_USER, undefined],
    ['root with an empty issuer', ROOT, undefined],
  ])('by %s', (_label, identity, role) => {
    // Act
    const arn = actorRoleArn(identity as UserIdentity);

    // Assess
    expect(arn).toBe(role);
  });
});

describe('actorName', () => {
  it.each([
    ['an IAM user', IAM_USER, 'alice'],
    [
      'an assumed role session',
      assumedRole('AWSReservedSSO_Admin_0123', 'jane.doe@example.com'),
      'jane.doe@example.com',
    ],
    ['root', ROOT, 'root'],
    [
      'a federated user (last ARN part)',
      { type: 'FederatedUser', arn: 'arn:aws:sts::123456789012:federated-user/bob', principalId: '1:bob' },
      'bob',
    ],
    [
      'an AWS service (invokedBy)',
      { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' },
      'cloudformation.amazonaws.com',
    ],
    ['a principal id only', { type: 'Unknown', principalId: 'AIDAEXAMPLE' }, 'AIDAEXAMPLE'],
    ['the type alone', { type: 'AWSAccount' }, 'AWSAccount'],
  ])('names %s', (_label, identity, name) => {
    // Act
    const actor = actorName(identity as UserIdentity);

    // Assess
    expect(actor).toBe(name);
  });
});
