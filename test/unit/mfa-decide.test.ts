/** The MFA guard's pure parts: targets from the samples, the decision table, release, root, settings, the policy. */
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../lib/envelope.js';
import { cloudFormationPolicy, mfaGuard, mfaGuardDeployment } from '../../lib/guards/mfa-guard.js';
import { type IamUserFacts, QUARANTINE_TAG, QUARANTINED_KEYS_TAG } from '../../lib/iam-users.js';
import { rulePermissions } from '../../lib/manifest.js';
import { quarantineMarker, type SweptUser } from '../../lib/mfa/containment.js';
import {
  AWS_MFA_ENROLMENT_ACTIONS,
  mfaQuarantinePolicyDocument,
  PASSWORD_CHANGE_ACTIONS,
} from '../../lib/mfa/quarantine-policy.js';
import { type Decision, isSkip } from '../../lib/rule.js';
import {
  consoleSignInMfa,
  decideConsoleSignIn,
  type SignInState,
  type SignInTarget,
} from '../../lib/rules/console-signin-mfa.js';
import {
  decideMfaDeviceChange,
  type MfaDeviceState,
  type MfaTarget,
  type MfaUserTarget,
  mfaQuarantine,
} from '../../lib/rules/mfa-quarantine.js';
import { readMfaSettings, type Settings, SettingsError } from '../../lib/settings.js';
import { ACCOUNT, params, sample, sampleWith, settingsOf } from './fixtures.js';

const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/driftguard-test-mfa-quarantine`;
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/bob-phone`;
const NOW = '2026-11-21T13:00:01.000Z';
const KEY_1 = 'AKIAEXAMPLEKEY000001';
const KEY_2 = 'AKIAEXAMPLEKEY000002';

function settings(overrides: { keys?: boolean; policy?: string | null; table?: boolean } = {}): Settings {
  return {
    // The quarantine's record lives in the state table.
    ...settingsOf(overrides.table === false ? {} : { DRIFTGUARD_STATE_TABLE: 'driftguard-test-state' }),
    ...readMfaSettings({
      DRIFTGUARD_MFA_DEACTIVATE_KEYS: String(overrides.keys ?? false),
      ...(overrides.policy === null ? {} : { DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: overrides.policy ?? POLICY_ARN }),
    }),
  } as Settings;
}

function user(overrides: Partial<IamUserFacts> = {}): IamUserFacts {
  return {
    userName: 'bob',
    mfaDevices: [],
    hasPassword: true,
    accessKeys: [{ id: KEY_1, active: true }],
    exempt: false,
    quarantinedSince: undefined,
    recordedKeys: [],
    policyAttached: false,
    ...overrides,
  };
}

function userTarget(eventName: string, overrides: Partial<MfaUserTarget> = {}): MfaUserTarget {
  return {
    kind: 'user',
    account: ACCOUNT,
    region: 'us-east-1',
    eventName,
    eventId: 'a7c4e2b9-0201-4d3e-9f10-000000000201',
    eventTime: '2026-11-21T13:00:00Z',
    actor: 'jane.doe@example.com',
    actorType: 'IAMUser',
    sourceIp: '198.51.100.11',
    userName: 'bob',
    serialNumber: SERIAL,
    ownerFrom: 'event',
    ...overrides,
  };
}

function deviceState(
  eventName: string,
  facts: IamUserFacts | undefined,
  target = userTarget(eventName),
): MfaDeviceState {
  return { target, user: facts, now: NOW };
}

const apis = (decision: Decision) => decision.actions.map((action) => action.api);
const MARKER = `${NOW} DeactivateMFADevice a7c4e2b9-0201-4d3e-9f10-000000000201`;

describe('mfa-quarantine targets', () => {
  it.each([
    ['iam-DeactivateMFADevice-iam-user', { kind: 'user', userName: 'bob', ownerFrom: 'event', serialNumber: SERIAL }],
    [
      'iam-DeleteVirtualMFADevice',
      { kind: 'user', userName: 'carol', ownerFrom: 'device-name', serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/carol` },
    ],
    ['iam-EnableMFADevice', { kind: 'user', userName: 'bob', ownerFrom: 'event' }],
    [
      'iam-DeactivateMFADevice-root',
      { kind: 'root', serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/root-account-mfa-device` },
    ],
  ])('reads %s', (name, expected) => {
    // Act
    const target = mfaQuarantine.target(sample(name));

    // Assess
    expect(target).toMatchObject(expected);
  });

  it('takes the caller for a DeactivateMFADevice without user name by an IAM user (its own device)', () => {
    const event = sampleWith('iam-EnableMFADevice', (raw) => {
      Reflect.deleteProperty(params(raw), 'userName');
      raw.detail.eventName = 'DeactivateMFADevice';
    });
    expect(mfaQuarantine.target(event)).toMatchObject({ kind: 'user', userName: 'bob', ownerFrom: 'caller' });
  });

  it('takes a role session’s DeactivateMFADevice without user name as the root user’s (AssumeRoot)', () => {
    const event = sampleWith('iam-DeactivateMFADevice-iam-user', (raw) => {
      Reflect.deleteProperty(params(raw), 'userName');
    });
    expect(mfaQuarantine.target(event)).toMatchObject({ kind: 'root' });
  });

  describe('the root user acting on a device', () => {
    const USER1_DEVICE = `arn:aws:iam::${ACCOUNT}:mfa/user1`;
    const ROOT_DEVICE = `arn:aws:iam::${ACCOUNT}:mfa/root-account-mfa-device`;
    const byRoot = (eventName: string, requestParameters: Record<string, string>) =>
      mfaQuarantine.target(
        sampleWith('iam-DeactivateMFADevice-root', (raw) => {
          raw.detail.eventName = eventName;
          raw.detail.requestParameters = requestParameters;
        }),
      );

    it.each(['DeactivateMFADevice', 'EnableMFADevice'])('%s naming user1 is about user1', (eventName) => {
      expect(byRoot(eventName, { userName: 'user1', serialNumber: USER1_DEVICE })).toMatchObject({
        kind: 'user',
        userName: 'user1',
        ownerFrom: 'event',
        actor: 'root',
        actorType: 'Root',
      });
    });

    it.each(['DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice'])(
      '%s of mfa/user1 naming no user is about user1, the device’s owner',
      (eventName) => {
        expect(byRoot(eventName, { serialNumber: USER1_DEVICE })).toMatchObject({
          kind: 'user',
          userName: 'user1',
          ownerFrom: 'device-name',
        });
      },
    );

    it.each([
      ['"AWS ROOT USER" named', { userName: 'AWS ROOT USER', serialNumber: ROOT_DEVICE }],
      ['root-account-mfa-device, no user named', { serialNumber: ROOT_DEVICE }],
      ['a hardware token, no user named', { serialNumber: 'GAHT12345678' }],
    ])('is about the root user’s own device: %s', (_label, requestParameters) => {
      expect(byRoot('DeactivateMFADevice', requestParameters)).toMatchObject({ kind: 'root' });
    });

    it('decides a device of no IAM user that the root user deactivated as the root user’s own: critical', () => {
      const target = userTarget('DeactivateMFADevice', {
        userName: 'my-root-key',
        serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/my-root-key`,
        ownerFrom: 'device-name',
        actor: 'root',
        actorType: 'Root',
      });
      const decision = decideMfaDeviceChange(deviceState('DeactivateMFADevice', undefined, target), settings());
      expect(decision).toMatchObject({ status: 'drifted', severity: 'critical', actions: [] });
      expect(decision.reason).toMatch(
        /^the root user's MFA device arn:aws:iam::123456789012:mfa\/my-root-key was removed/,
      );
    });

    it('quarantines user1 when the root user deactivated user1’s only device', () => {
      const target = byRoot('DeactivateMFADevice', { userName: 'user1', serialNumber: USER1_DEVICE }) as MfaUserTarget;
      const decision = decideMfaDeviceChange(
        deviceState('DeactivateMFADevice', user({ userName: 'user1' }), target),
        settings(),
      );
      expect(apis(decision)).toEqual(['iam:AttachUserPolicy', 'iam:TagUser']);
      expect(decision.findings[0]).toMatchObject({ after: 'deactivated by root; no MFA device left' });
    });

    it('releases a quarantined user1 when the root user enrolled a device for them', () => {
      const target = byRoot('EnableMFADevice', { userName: 'user1', serialNumber: USER1_DEVICE }) as MfaUserTarget;
      const quarantined = user({
        userName: 'user1',
        mfaDevices: [USER1_DEVICE],
        quarantinedSince: MARKER,
        policyAttached: true,
      });
      const decision = decideMfaDeviceChange(deviceState('EnableMFADevice', quarantined, target), settings());
      expect(apis(decision)).toEqual(['iam:DetachUserPolicy', 'iam:UntagUser']);
      expect(decision.reason).toBe(`user1 enrolled MFA device ${USER1_DEVICE}: quarantine released`);
    });
  });

  it('refuses an event without serialNumber as malformed', () => {
    const event = sampleWith('iam-DeactivateMFADevice-iam-user', (raw) => {
      Reflect.deleteProperty(params(raw), 'serialNumber');
    });
    expect(() => mfaQuarantine.target(event)).toThrow(MalformedEventError);
  });

  it('describes the user for the notice, with a console link', () => {
    const target = mfaQuarantine.target(sample('iam-DeactivateMFADevice-iam-user')) as MfaTarget;
    expect(mfaQuarantine.describe(target)).toMatchObject({
      type: 'IAM user',
      id: 'bob',
      arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
      consoleUrl: expect.stringContaining('/users/details/bob'),
    });
  });
});

interface ContainmentCase {
  label: string;
  facts: Partial<IamUserFacts>;
  keys?: boolean;
  status: Decision['status'];
  apis: string[];
  needsHuman?: number;
}

const CONTAINMENT: ContainmentCase[] = [
  {
    label: 'another device left: compliant',
    facts: { mfaDevices: [`arn:aws:iam::${ACCOUNT}:mfa/bob-yubikey`] },
    status: 'compliant',
    apis: [],
  },
  {
    label: 'no device, password and an active key: policy attached and tagged, key kept',
    facts: {},
    status: 'drifted',
    apis: ['iam:AttachUserPolicy', 'iam:TagUser'],
  },
  {
    label: 'no device, password and an active key, keys deactivated by setting',
    facts: {},
    keys: true,
    status: 'drifted',
    apis: ['iam:AttachUserPolicy', 'iam:TagUser', 'iam:UpdateAccessKey'],
  },
  {
    label: 'no device, password only',
    facts: { accessKeys: [] },
    keys: true,
    status: 'drifted',
    apis: ['iam:AttachUserPolicy', 'iam:TagUser'],
  },
  {
    label: 'no device, active keys only (no password)',
    facts: {
      hasPassword: false,
      accessKeys: [
        { id: KEY_1, active: true },
        { id: KEY_2, active: true },
      ],
    },
    keys: true,
    status: 'drifted',
    apis: ['iam:AttachUserPolicy', 'iam:TagUser', 'iam:UpdateAccessKey', 'iam:UpdateAccessKey'],
  },
  {
    label: 'no device, no password, only an inactive key: nothing to contain',
    facts: { hasPassword: false, accessKeys: [{ id: KEY_1, active: false }] },
    keys: true,
    status: 'compliant',
    apis: [],
  },
  {
    label: 'no device, exempt: notice only',
    facts: { exempt: true },
    keys: true,
    status: 'drifted',
    apis: [],
    needsHuman: 1,
  },
  {
    label: 'already quarantined, nothing new: compliant',
    facts: { quarantinedSince: 'earlier', policyAttached: true },
    status: 'compliant',
    apis: [],
  },
  {
    label: 'quarantined but the policy was detached: attached again, tag kept',
    facts: { quarantinedSince: 'earlier', policyAttached: false },
    status: 'drifted',
    apis: ['iam:AttachUserPolicy'],
  },
];

describe('decideMfaDeviceChange: containment after DeactivateMFADevice', () => {
  it.each(CONTAINMENT)('$label', ({ facts, keys, status, apis: expected, needsHuman }) => {
    // Act
    const decision = decideMfaDeviceChange(deviceState('DeactivateMFADevice', user(facts)), settings({ keys }));

    // Assess
    expect(decision.status).toBe(status);
    expect(apis(decision)).toEqual(expected);
    expect(decision.needsHuman).toHaveLength(needsHuman ?? 0);
    if (status === 'drifted') expect(decision.severity).toBe('high');
  });

  it('names every write with its undo, and records exactly the keys it deactivates', () => {
    const decision = decideMfaDeviceChange(
      deviceState(
        'DeactivateMFADevice',
        user({
          accessKeys: [
            { id: KEY_1, active: true },
            { id: KEY_2, active: false },
          ],
        }),
      ),
      settings({ keys: true }),
    );
    expect(decision.actions).toEqual([
      {
        api: 'iam:AttachUserPolicy',
        params: { UserName: 'bob', PolicyArn: POLICY_ARN },
        summary: `quarantine policy ${POLICY_ARN} attached to bob (undo: aws iam detach-user-policy --user-name bob --policy-arn ${POLICY_ARN})`,
        brief: 'quarantined',
      },
      {
        api: 'iam:TagUser',
        params: { UserName: 'bob', Tags: [{ Key: QUARANTINE_TAG, Value: MARKER }] },
        summary: `bob tagged ${QUARANTINE_TAG}=${MARKER} (undo: aws iam untag-user --user-name bob --tag-keys ${QUARANTINE_TAG})`,
        brief: '',
      },
      {
        api: 'iam:UpdateAccessKey',
        params: { UserName: 'bob', AccessKeyId: KEY_1, Status: 'Inactive' },
        summary: `access key ${KEY_1} of bob Active -> Inactive (undo: aws iam update-access-key --user-name bob --access-key-id ${KEY_1} --status Active)`,
        brief: 'keys inactive',
      },
    ]);
    // The keys are recorded in the state table (before they are deactivated), never in the user's tags.
    expect(decision.bookkeeping).toEqual([
      {
        kind: 'quarantine',
        userName: 'bob',
        since: MARKER,
        keys: [KEY_1],
        summary: `quarantine of bob recorded (keys ${KEY_1})`,
      },
    ]);
    expect(decision.findings).toEqual([
      { attribute: 'mfaDevice', before: SERIAL, after: 'deactivated by jane.doe@example.com; no MFA device left' },
      {
        attribute: 'credentials',
        before: 'a console password and 1 active access key',
        after: 'usable only to enrol an MFA device or change the password',
      },
    ]);
  });

  it('adds a newly active key to those already recorded, keeping the first quarantine time', () => {
    const decision = decideMfaDeviceChange(
      deviceState(
        'DeactivateMFADevice',
        user({
          quarantinedSince: 'first',
          policyAttached: true,
          recordedKeys: [KEY_1],
          accessKeys: [
            { id: KEY_1, active: false },
            { id: KEY_2, active: true },
          ],
        }),
      ),
      settings({ keys: true }),
    );
    expect(decision.actions.map((a) => a.params)).toEqual([
      { UserName: 'bob', AccessKeyId: KEY_2, Status: 'Inactive' },
    ]);
    expect(decision.bookkeeping).toEqual([
      expect.objectContaining({ kind: 'quarantine', since: 'first', keys: [KEY_1, KEY_2] }),
    ]);
  });

  it('leaves the keys active, and says so, where no state table can record them for the release', () => {
    const decision = decideMfaDeviceChange(
      deviceState('DeactivateMFADevice', user()),
      settings({ keys: true, table: false }),
    );
    expect(decision.actions.map((a) => a.api)).toEqual(['iam:AttachUserPolicy', 'iam:TagUser']);
    expect(decision.needsHuman).toEqual([
      expect.stringMatching(/^bob's access keys were left active: DRIFTGUARD_STATE_TABLE is not set/),
    ]);
    expect(decision.bookkeeping).toEqual([]);
  });

  it('hands over to a human when no quarantine policy is configured', () => {
    const decision = decideMfaDeviceChange(deviceState('DeactivateMFADevice', user()), settings({ policy: null }));
    expect(decision.actions).toEqual([]);
    expect(decision.needsHuman[0]).toMatch(/^Set DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN/);
  });

  it('says when the owner of a deleted device was inferred from its name', () => {
    const target = userTarget('DeleteVirtualMFADevice', { userName: 'carol', ownerFrom: 'device-name' });
    const decision = decideMfaDeviceChange(
      deviceState('DeleteVirtualMFADevice', user({ userName: 'carol' }), target),
      settings(),
    );
    expect(decision.findings[0]?.before).toBe(`${SERIAL} (owner inferred from the device name)`);
    expect(decision.findings[0]?.after).toMatch(/^deleted by /);
  });

  it('ignores a deleted device that no user is named after', () => {
    const target = userTarget('DeleteVirtualMFADevice', { userName: 'team-phone', ownerFrom: 'device-name' });
    const decision = decideMfaDeviceChange(deviceState('DeleteVirtualMFADevice', undefined, target), settings());
    expect(decision.status).toBe('ignored');
  });
});

describe('decideMfaDeviceChange: release after EnableMFADevice', () => {
  const enrolled = { mfaDevices: [SERIAL] };

  it('detaches the policy, reactivates exactly the recorded keys still inactive, removes the tags', () => {
    const decision = decideMfaDeviceChange(
      deviceState(
        'EnableMFADevice',
        user({
          ...enrolled,
          quarantinedSince: MARKER,
          policyAttached: true,
          recordedKeys: [KEY_1, 'AKIAEXAMPLEDELETED01'],
          // KEY_2 was set Inactive by someone else: not the engine's to reactivate.
          accessKeys: [
            { id: KEY_1, active: false },
            { id: KEY_2, active: false },
          ],
        }),
      ),
      settings({ keys: true }),
    );
    expect(decision.status).toBe('drifted');
    expect(decision.severity).toBe('low');
    expect(decision.actions.map(({ api, params: p }) => ({ api, params: p }))).toEqual([
      { api: 'iam:DetachUserPolicy', params: { UserName: 'bob', PolicyArn: POLICY_ARN } },
      { api: 'iam:UpdateAccessKey', params: { UserName: 'bob', AccessKeyId: KEY_1, Status: 'Active' } },
      { api: 'iam:UntagUser', params: { UserName: 'bob', TagKeys: [QUARANTINE_TAG, QUARANTINED_KEYS_TAG] } },
    ]);
    // The record is dropped once everything is given back (kept when an attempt fails).
    expect(decision.bookkeeping).toEqual([
      { kind: 'quarantine-released', userName: 'bob', summary: 'quarantine record of bob dropped' },
    ]);
    expect(decision.findings).toContainEqual({
      attribute: 'accessKey AKIAEXAMPLEDELETED01',
      before: 'Inactive (set by the engine)',
      after: 'deleted meanwhile: nothing to reactivate',
    });
  });

  it('does not reactivate a recorded key someone already reactivated', () => {
    const decision = decideMfaDeviceChange(
      deviceState(
        'EnableMFADevice',
        user({ ...enrolled, quarantinedSince: MARKER, policyAttached: true, recordedKeys: [KEY_1] }),
      ),
      settings(),
    );
    expect(apis(decision)).toEqual(['iam:DetachUserPolicy', 'iam:UntagUser']);
  });

  it('leaves a user who was never quarantined alone', () => {
    const decision = decideMfaDeviceChange(deviceState('EnableMFADevice', user(enrolled)), settings());
    expect(decision).toMatchObject({ status: 'compliant', actions: [] });
  });

  it('keeps the quarantine when the user has no device at present (enabled, then removed again)', () => {
    const decision = decideMfaDeviceChange(
      deviceState('EnableMFADevice', user({ quarantinedSince: MARKER, policyAttached: true })),
      settings(),
    );
    expect(decision).toMatchObject({ status: 'compliant', actions: [] });
  });
});

describe('the users sweep', () => {
  const SWEEP_ID = 'sweep-2026-11-21T12:59:00.000Z';
  const swept: SweptUser = { userName: 'bob', region: 'us-east-1', sweepId: SWEEP_ID, time: NOW };

  it('lists users once, from us-east-1, in the users pass', () => {
    expect(mfaQuarantine.sweep).toMatchObject({ pass: 'users', onlyRegion: 'us-east-1' });
  });

  it('contains a listed user without a device, recording the sweep as the cause', () => {
    // Act
    const decision = mfaQuarantine.decide({ swept, user: user() }, settings({ keys: true }));

    // Assess
    expect(decision).toMatchObject({
      status: 'drifted',
      severity: 'high',
      reason: 'bob has no MFA device and a console password and 1 active access key',
    });
    expect(decision.actions.map(({ api, params: p }) => ({ api, params: p }))).toEqual([
      { api: 'iam:AttachUserPolicy', params: { UserName: 'bob', PolicyArn: POLICY_ARN } },
      {
        api: 'iam:TagUser',
        params: { UserName: 'bob', Tags: [{ Key: QUARANTINE_TAG, Value: `${NOW} Sweep ${SWEEP_ID}` }] },
      },
      { api: 'iam:UpdateAccessKey', params: { UserName: 'bob', AccessKeyId: KEY_1, Status: 'Inactive' } },
    ]);
    expect(decision.findings[0]).toEqual({
      attribute: 'mfa',
      before: 'no MFA device (found by the sweep)',
      after: 'quarantined until they enrol',
    });
  });

  it('leaves a listed user with a device, or already quarantined, alone', () => {
    const enrolled = mfaQuarantine.decide({ swept, user: user({ mfaDevices: [SERIAL] }) }, settings());
    const quarantined = mfaQuarantine.decide(
      { swept, user: user({ quarantinedSince: MARKER, policyAttached: true }) },
      settings(),
    );
    expect(enrolled).toMatchObject({ status: 'compliant', actions: [] });
    expect(quarantined).toMatchObject({ status: 'compliant', reason: `bob is already quarantined (${MARKER})` });
  });
});

describe('root MFA events', () => {
  it('hands a root DeactivateMFADevice to a human: critical, no write', () => {
    const target = mfaQuarantine.target(sample('iam-DeactivateMFADevice-root')) as MfaTarget;
    const decision = mfaQuarantine.preScreen?.(target, settings());
    expect(decision).toMatchObject({ status: 'drifted', severity: 'critical', actions: [] });
    expect(decision?.needsHuman[0]).toMatch(/^Sign in as the root user of 123456789012 and assign an MFA device/);
    expect(mfaQuarantine.describe(target)).toMatchObject({ id: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root` });
  });

  it('accepts a root EnableMFADevice', () => {
    const event = sampleWith('iam-DeactivateMFADevice-root', (raw) => {
      raw.detail.eventName = 'EnableMFADevice';
    });
    const decision = mfaQuarantine.preScreen?.(mfaQuarantine.target(event) as MfaTarget, settings());
    expect(decision?.status).toBe('compliant');
  });

  it('leaves IAM-user targets to inspection', () => {
    const target = mfaQuarantine.target(sample('iam-DeactivateMFADevice-iam-user')) as MfaTarget;
    expect(mfaQuarantine.preScreen?.(target, settings())).toBeUndefined();
  });
});

const signIn = (name: string) => consoleSignInMfa.target(sample(name));

function signInState(facts: Partial<IamUserFacts>): SignInState {
  const target = signIn('signin-ConsoleLogin-no-MFA-iam-user') as SignInTarget;
  return { target: { ...target, userName: 'dave' }, user: user({ userName: 'dave', ...facts }), now: NOW };
}

describe('console-signin-mfa', () => {
  it('accepts a sign-in with MFA (the docs’ "Signin" spelling) without an AWS call', () => {
    const target = signIn('signin-ConsoleLogin-with-MFA') as SignInTarget;
    expect(consoleSignInMfa.trigger.detailTypes).toContain(sample('signin-ConsoleLogin-with-MFA')['detail-type']);
    expect(consoleSignInMfa.preScreen?.(target, settings())?.status).toBe('compliant');
  });

  it('hands a root sign-in without MFA to a human: critical, no write', () => {
    const target = signIn('signin-ConsoleLogin-no-MFA-root') as SignInTarget;
    expect(consoleSignInMfa.preScreen?.(target, settings())).toMatchObject({
      status: 'drifted',
      severity: 'critical',
      actions: [],
    });
  });

  it('reads "YES" (AWS’s root example) as MFA used', () => {
    const event = sampleWith('signin-ConsoleLogin-no-MFA-root', (raw) => {
      (raw.detail.additionalEventData as Record<string, string>).MFAUsed = 'YES';
    });
    expect(consoleSignInMfa.target(event)).toMatchObject({ kind: 'root', mfaUsed: true });
  });

  it.each([
    [
      'a failed sign-in',
      (raw: { detail: Record<string, unknown> }) => {
        raw.detail.responseElements = { ConsoleLogin: 'Failure' };
      },
    ],
    [
      'a federated sign-in',
      (raw: { detail: Record<string, unknown> }) => {
        raw.detail.userIdentity = { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/jane` };
      },
    ],
  ])('skips %s', (_label, change) => {
    expect(isSkip(consoleSignInMfa.target(sampleWith('signin-ConsoleLogin-no-MFA-iam-user', change)))).toBe(true);
  });

  it.each([
    ['AssumedRole', 'an AssumedRole'],
    ['IdentityCenterUser', 'an IdentityCenterUser'],
    ['FederatedUser', 'a FederatedUser'],
    ['WebIdentityUser', 'a WebIdentityUser'],
  ])('says why it leaves a %s sign-in to the identity provider, in words that read well', (type, named) => {
    const event = sampleWith('signin-ConsoleLogin-no-MFA-iam-user', (raw) => {
      raw.detail.userIdentity = { type, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/jane` };
    });
    expect(consoleSignInMfa.target(event)).toEqual({
      skip: `${named} sign-in: MFA is the identity provider's to enforce (federation, IAM Identity Center)`,
    });
  });

  it('quarantines an IAM user without a device, high', () => {
    const decision = decideConsoleSignIn(signInState({}), settings());
    expect(apis(decision)).toEqual(['iam:AttachUserPolicy', 'iam:TagUser']);
    expect(decision.severity).toBe('high');
    expect(decision.findings[0]).toMatchObject({
      attribute: 'consoleSignIn',
      before: expect.stringMatching(/^without MFA/),
    });
  });

  it('notifies about a user with a device who signed in without it', () => {
    const decision = decideConsoleSignIn(signInState({ mfaDevices: [SERIAL] }), settings());
    expect(decision).toMatchObject({ status: 'drifted', severity: 'high', actions: [] });
    expect(decision.needsHuman).toHaveLength(1);
  });

  it('is quiet about a quarantined user signing in to enrol a device', () => {
    const decision = decideConsoleSignIn(signInState({ quarantinedSince: MARKER, policyAttached: true }), settings());
    expect(decision.status).toBe('compliant');
  });

  it('gives an exempt user a notice only', () => {
    const decision = decideConsoleSignIn(signInState({ exempt: true }), settings({ keys: true }));
    expect(decision).toMatchObject({ status: 'drifted', actions: [] });
    expect(decision.needsHuman[0]).toContain('exempt');
  });
});

describe('MFA settings', () => {
  it('defaults to keys kept and no policy', () => {
    expect(readMfaSettings({})).toEqual({ mfaDeactivateKeys: false, mfaQuarantinePolicyArn: undefined });
  });

  it('reads both variables', () => {
    expect(
      readMfaSettings({ DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'true', DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: POLICY_ARN }),
    ).toEqual({ mfaDeactivateKeys: true, mfaQuarantinePolicyArn: POLICY_ARN });
  });

  it.each([
    [
      { DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'yes' },
      /^DRIFTGUARD_MFA_DEACTIVATE_KEYS="yes" is invalid: allowed values are true, false$/,
    ],
    [
      { DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: 'driftguard-prod-mfa-quarantine' },
      /^DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN="driftguard-prod-mfa-quarantine" is invalid: allowed values are an IAM managed policy ARN/,
    ],
  ])('refuses %j naming the variable and the allowed values', (env, message) => {
    expect(() => readMfaSettings(env)).toThrow(SettingsError);
    expect(() => readMfaSettings(env)).toThrow(message);
  });

  it('keeps the quarantine tag value within IAM’s tag characters', () => {
    expect(quarantineMarker(NOW, 'ConsoleLogin', 'id#with,odd;chars')).toBe(`${NOW} ConsoleLogin id-with-odd-chars`);
  });
});

describe('the quarantine policy', () => {
  const statements = mfaQuarantinePolicyDocument.Statement;
  const bySid = (sid: string) => statements.find((statement) => statement.Sid === sid);

  it('pins AWS’s documented BlockMostAccessUnlessSignedInWithMFA: Deny all but MFA enrolment (and the password) while MFA is false or absent', () => {
    expect(bySid('BlockMostAccessUnlessSignedInWithMFA')).toEqual({
      Sid: 'BlockMostAccessUnlessSignedInWithMFA',
      Effect: 'Deny',
      NotAction: [
        'iam:CreateVirtualMFADevice',
        'iam:EnableMFADevice',
        'iam:ListMFADevices',
        'iam:ListUsers',
        'iam:ListVirtualMFADevices',
        'iam:ResyncMFADevice',
        'iam:ChangePassword',
        'iam:GetAccountPasswordPolicy',
      ],
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
    });
    expect(AWS_MFA_ENROLMENT_ACTIONS).toHaveLength(6);
    expect(PASSWORD_CHANGE_ACTIONS).toEqual(['iam:ChangePassword', 'iam:GetAccountPasswordPolicy']);
  });

  it('keeps AWS’s documented allow statements, scoped to the user’s own name', () => {
    expect(bySid('AllowListActions')).toMatchObject({
      Effect: 'Allow',
      Action: ['iam:ListUsers', 'iam:ListVirtualMFADevices'],
    });
    expect(bySid('AllowUserToCreateVirtualMFADevice')).toMatchObject({ Resource: 'arn:aws:iam::*:mfa/*' });
    expect(bySid('AllowUserToManageTheirOwnMFA')).toMatchObject({
      Action: ['iam:EnableMFADevice', 'iam:GetMFADevice', 'iam:ListMFADevices', 'iam:ResyncMFADevice'],
      Resource: 'arn:aws:iam::*:user/${aws:username}',
    });
    expect(bySid('AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA')).toMatchObject({
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    });
    expect(bySid('AllowUserToChangeTheirOwnPassword')).toMatchObject({
      Action: ['iam:ChangePassword'],
      Resource: 'arn:aws:iam::*:user/${aws:username}',
    });
  });

  it('allows nothing the deny does not except: every allowed action stays usable without MFA only if enrolment needs it', () => {
    const deny = statements.find((s) => s.Effect === 'Deny');
    const excepted = new Set<string>(deny && 'NotAction' in deny ? deny.NotAction : []);
    const allowedWithoutMfa = statements
      .filter((s) => s.Effect === 'Allow' && !('Condition' in s))
      .flatMap((s) => ('Action' in s ? [...s.Action] : []));
    // iam:GetMFADevice is in AWS's allow list but not in its exceptions: usable only with MFA, as AWS documents it.
    expect(allowedWithoutMfa.filter((action) => !excepted.has(action))).toEqual(['iam:GetMFADevice']);
  });

  it('is the guard’s managed policy, named per stage, with ARNs CloudFormation and Serverless take as meant', () => {
    const resources = mfaGuardDeployment.resources?.({ stage: 'prod' }) as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const policy = resources.MfaQuarantinePolicy;
    expect(policy?.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(policy?.Properties.ManagedPolicyName).toBe('driftguard-prod-mfa-quarantine');
    const document = JSON.stringify(policy?.Properties.PolicyDocument);
    expect(document).not.toMatch(/"arn:aws:/);
    expect(document).not.toContain('${aws:');
    expect(cloudFormationPolicy(mfaQuarantinePolicyDocument.Statement[2])).toEqual({
      ...mfaQuarantinePolicyDocument.Statement[2],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:user/${!aws:username}' },
    });
    expect(mfaGuard).toMatchObject({ functionKey: 'mfaGuard', file: 'mfa-guard' });
  });

  it('lets the guard attach and detach only that policy, on users, with no wildcard action', () => {
    for (const rule of mfaGuard.rules) {
      for (const permission of rulePermissions(rule)) {
        expect(permission.resource).toBe('arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*');
        for (const action of permission.actions) expect(action).toMatch(/^iam:[A-Z][A-Za-z]+$/);
        const attaches = permission.actions.some((action) => /^iam:(Attach|Detach)UserPolicy$/.test(action));
        expect(permission.condition).toEqual(
          attaches ? { ArnEquals: { 'iam:PolicyARN': '${MfaQuarantinePolicy}' } } : undefined,
        );
      }
    }
  });
});

describe('the MFA rules’ declared commands', () => {
  it('are exactly the writes each rule’s decisions plan', () => {
    // Prepare: every kind of write, keys included (containment, release, the sweep, a sign-in).
    const keys = settings({ keys: true });
    const quarantined = user({
      mfaDevices: [SERIAL],
      quarantinedSince: MARKER,
      policyAttached: true,
      recordedKeys: [KEY_1],
      accessKeys: [{ id: KEY_1, active: false }],
    });
    const swept: SweptUser = { userName: 'bob', region: 'us-east-1', sweepId: 'sweep-1', time: NOW };
    const planned: Record<string, Decision[]> = {
      [mfaQuarantine.id]: [
        decideMfaDeviceChange(deviceState('DeactivateMFADevice', user()), keys),
        decideMfaDeviceChange(deviceState('EnableMFADevice', quarantined), keys),
        mfaQuarantine.decide({ swept, user: user() }, keys),
      ],
      [consoleSignInMfa.id]: [decideConsoleSignIn(signInState({}), keys)],
    };

    // Assess
    for (const rule of mfaGuard.rules) {
      expect(new Set((planned[rule.id] ?? []).flatMap(apis))).toEqual(new Set(Object.keys(rule.commands)));
    }
    expect(Object.keys(mfaQuarantine.commands).sort()).toEqual([
      'iam:AttachUserPolicy',
      'iam:DetachUserPolicy',
      'iam:TagUser',
      'iam:UntagUser',
      'iam:UpdateAccessKey',
    ]);
  });
});
