/**
 * The MFA guard against the emulator: each sample reenacted (a user with a console password, an access key and an
 * enabled virtual MFA device, then the event's call), run through the pipeline with the guard's rules, and the user
 * read back with the SDK: quarantined or released exactly; root events make no write.
 */
import { readFileSync } from 'node:fs';
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  EnableMFADeviceCommand,
  ListEntitiesForPolicyCommand,
  ListUsersCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { sendAction } from '../../lib/actions.js';
import { awsCallCounter, createAwsClients } from '../../lib/aws.js';
import { type CloudTrailEvent, parseCloudTrailEvent } from '../../lib/envelope.js';
import { QUARANTINE_TAG, QUARANTINED_KEYS_TAG } from '../../lib/iam-users.js';
import type { QuarantineAction } from '../../lib/mfa/quarantine-actions.js';
import { QuarantineRecords } from '../../lib/mfa/quarantine-records.js';
import { checkEvent, type EngineContext, type HandledEvent, handleEvent, settleDecision } from '../../lib/pipeline.js';
import type { SweepContext } from '../../lib/rule.js';
import { consoleSignInMfa } from '../../lib/rules/console-signin-mfa.js';
import { mfaQuarantine } from '../../lib/rules/mfa-quarantine.js';
import { loadSettings, readMfaSettings, type Settings } from '../../lib/settings.js';
import { provisionMfaQuarantinePolicy } from '../../scripts/provision.js';
import { reenactmentKey } from '../../scripts/reenact/index.js';
import { mfaReenactments } from '../../scripts/reenact/mfa.js';
import { emulatorIam, freshEngine, readIamUserState, readNotices, testEndpoint } from '../support/emulator.js';

const ACCOUNT = '123456789012';
const RULES = [mfaQuarantine, consoleSignInMfa];
const BOB_PHONE = `arn:aws:iam::${ACCOUNT}:mfa/bob-phone`;

const MFA_VARIABLES = ['DRIFTGUARD_MFA_DEACTIVATE_KEYS', 'DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN'];

let policyArn: string;

/** A clean emulator with the engine's resources and the quarantine policy; the settings the guard runs with. */
async function freshMfaEngine(extra: Record<string, string> = {}): Promise<Settings> {
  for (const name of MFA_VARIABLES) delete process.env[name];
  await freshEngine(extra);
  const mfa = await provisionMfaQuarantinePolicy(testEndpoint());
  Object.assign(process.env, mfa, extra);
  policyArn = String(process.env.DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN);
  // lib/settings.ts does not carry the MFA settings yet: the guard reads them from the same object.
  return { ...loadSettings(), ...readMfaSettings() } as Settings;
}

function sample(name: string): CloudTrailEvent {
  return parseCloudTrailEvent(JSON.parse(readFileSync(`events/${name}.json`, 'utf8')));
}

interface Run {
  result: HandledEvent;
  notes: string[];
  /** AWS calls the engine made (reenactment excluded). */
  engineCalls: number;
}

/** What the replay does for one event, with the MFA rules only: reenact (unless the call failed), then the pipeline. */
async function run(settings: Settings, name: string, options: { reenact?: boolean } = {}): Promise<Run> {
  const aws = createAwsClients();
  let event = sample(name);
  const notes: string[] = [];
  const reenactment = mfaReenactments[reenactmentKey(event)];
  if ((options.reenact ?? true) && event.detail.errorCode === undefined && reenactment) {
    event = await reenactment(event, {
      endpoint: testEndpoint(),
      account: ACCOUNT,
      notes,
      engine: { settings, aws },
      keys: new Map(),
    });
  }
  const ctx: EngineContext = {
    settings,
    aws,
    screening: { accountId: ACCOUNT, engineRoleArns: settings.engineRoleArns, ownPrincipalArns: [] },
  };
  const before = awsCallCounter.calls;
  const result = await handleEvent(checkEvent(event, RULES), ctx);
  return { result, notes, engineCalls: awsCallCounter.calls - before };
}

async function quarantinedUsers(): Promise<string[]> {
  const { PolicyUsers = [] } = await emulatorIam().send(new ListEntitiesForPolicyCommand({ PolicyArn: policyArn }));
  return PolicyUsers.map((user) => String(user.UserName));
}

describe('MFA guard against the emulator', () => {
  let settings: Settings;

  beforeEach(async () => {
    settings = await freshMfaEngine();
  });

  it('quarantines a user whose only device was deactivated: policy attached, tag set, keys kept by default', async () => {
    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user');

    expect(result.outcome).toBe('remediated');
    expect(result.actions.map((a) => a.api)).toEqual(['iam:AttachUserPolicy', 'iam:TagUser']);
    const bob = await readIamUserState('bob');
    expect(bob.devices).toEqual([]);
    expect(bob.policies).toEqual([policyArn]);
    expect(bob.tags[QUARANTINE_TAG]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z DeactivateMFADevice a7c4e2b9-0201-4d3e-9f10-000000000201$/,
    );
    expect(bob.tags[QUARANTINED_KEYS_TAG]).toBeUndefined();
    expect(Object.values(bob.keys)).toEqual(['Active']);

    const [notice, ...more] = await readNotices();
    expect(more).toEqual([]);
    expect(notice?.subject).toBe(
      '[driftguard] HIGH IAM user bob DeactivateMFADevice by jane.doe@example.com: quarantined',
    );
    expect(notice?.attributes).toEqual({
      severity: 'high',
      rule: 'iam-user-mfa-quarantine',
      outcome: 'remediated',
      account: ACCOUNT,
    });
    // Everything written is named, with how to undo it.
    expect(notice?.text).toContain(`aws iam detach-user-policy --user-name bob --policy-arn ${policyArn}`);
    expect(notice?.text).toContain(`aws iam untag-user --user-name bob --tag-keys ${QUARANTINE_TAG}`);
  });

  it('with DRIFTGUARD_MFA_DEACTIVATE_KEYS=true also sets the active keys Inactive and records exactly those', async () => {
    settings = await freshMfaEngine({ DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'true' });
    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user');

    expect(result.outcome).toBe('remediated');
    const bob = await readIamUserState('bob');
    const [keyId] = Object.keys(bob.keys);
    expect(bob.keys).toEqual({ [String(keyId)]: 'Inactive' });
    // Recorded where only the engine writes; the user's tags carry the marker only.
    expect(bob.tags[QUARANTINED_KEYS_TAG]).toBeUndefined();
    expect(await new QuarantineRecords(createAwsClients(), settings.stateTable ?? '').get('bob')).toEqual({
      since: bob.tags[QUARANTINE_TAG],
      keys: [keyId],
    });
    expect((await readNotices())[0]?.text).toContain(
      `aws iam update-access-key --user-name bob --access-key-id ${keyId} --status Active`,
    );
  });

  it('releases exactly on re-enrolment: policy detached, only the engine’s keys reactivated, tags removed', async () => {
    settings = await freshMfaEngine({ DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'true' });
    await run(settings, 'iam-DeactivateMFADevice-iam-user');
    const [engineKey] = Object.keys((await readIamUserState('bob')).keys);
    // A key someone else creates and sets Inactive during the quarantine is not the engine's to reactivate.
    const { AccessKey } = await emulatorIam().send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const otherKey = String(AccessKey?.AccessKeyId);
    await emulatorIam().send(
      new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: otherKey, Status: 'Inactive' }),
    );
    await readNotices();

    const { result } = await run(settings, 'iam-EnableMFADevice');

    expect(result.outcome).toBe('remediated');
    expect(result.actions.map((a) => a.api)).toEqual(['iam:DetachUserPolicy', 'iam:UpdateAccessKey', 'iam:UntagUser']);
    const bob = await readIamUserState('bob');
    expect(bob.devices).toEqual([BOB_PHONE]);
    expect(bob.policies).toEqual([]);
    expect(bob.tags).toEqual({});
    expect(bob.keys).toEqual({ [String(engineKey)]: 'Active', [otherKey]: 'Inactive' });
    expect(await new QuarantineRecords(createAwsClients(), settings.stateTable ?? '').get('bob')).toBeUndefined();
    const [notice] = await readNotices();
    expect(notice?.attributes).toMatchObject({ severity: 'low', outcome: 'remediated' });
    expect(notice?.subject).toBe('[driftguard] LOW IAM user bob EnableMFADevice by bob: released, keys reactivated');
    expect(notice?.document.reason).toBe(`bob enrolled MFA device ${BOB_PHONE}: quarantine released`);
  });

  it('leaves a user who re-enrols without having been quarantined alone: compliant, no notice', async () => {
    const { result } = await run(settings, 'iam-EnableMFADevice');
    expect(result.outcome).toBe('compliant');
    expect(await quarantinedUsers()).toEqual([]);
    expect(await readNotices()).toEqual([]);
  });

  it('quarantines the owner of a deleted virtual device (named after it)', async () => {
    const { result, notes } = await run(settings, 'iam-DeleteVirtualMFADevice');

    expect(notes.join('\n')).toContain('deactivated');
    expect(result.outcome).toBe('remediated');
    expect(result.findings[0]?.before).toBe(`arn:aws:iam::${ACCOUNT}:mfa/carol (owner inferred from the device name)`);
    const carol = await readIamUserState('carol');
    expect(carol.devices).toEqual([]);
    expect(carol.policies).toEqual([policyArn]);
    expect(carol.tags[QUARANTINE_TAG]).toMatch(/ DeleteVirtualMFADevice a7c4e2b9-0202-/);
  });

  it('leaves a user with another MFA device compliant', async () => {
    const client = emulatorIam();
    await client.send(new CreateUserCommand({ UserName: 'bob' }));
    const { VirtualMFADevice } = await client.send(
      new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'bob-spare' }),
    );
    await client.send(
      new EnableMFADeviceCommand({
        UserName: 'bob',
        SerialNumber: VirtualMFADevice?.SerialNumber,
        AuthenticationCode1: '123456',
        AuthenticationCode2: '654321',
      }),
    );

    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user');

    expect(result.outcome).toBe('compliant');
    expect(result.reason).toBe(`bob still has MFA device arn:aws:iam::${ACCOUNT}:mfa/bob-spare`);
    expect((await readIamUserState('bob')).policies).toEqual([]);
    expect(await readNotices()).toEqual([]);
  });

  it('gives an exempt user a notice only', async () => {
    await emulatorIam().send(new CreateUserCommand({ UserName: 'bob' }));
    await emulatorIam().send(
      new TagUserCommand({ UserName: 'bob', Tags: [{ Key: 'driftguard:exempt', Value: 'break-glass' }] }),
    );

    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user');

    expect(result.outcome).toBe('needs-human');
    expect(result.actions).toEqual([]);
    expect((await readIamUserState('bob')).policies).toEqual([]);
    expect((await readNotices())[0]?.attributes).toMatchObject({ severity: 'high', outcome: 'needs-human' });
  });

  it('is idempotent: the same event again finds the user quarantined and writes nothing', async () => {
    await run(settings, 'iam-DeactivateMFADevice-iam-user');
    await readNotices();
    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user', { reenact: false });
    expect(result.outcome).toBe('compliant');
    expect(result.reason).toMatch(/^bob is already quarantined/);
    expect(await readNotices()).toEqual([]);
  });

  it('hands over to a human when the quarantine policy does not exist, and writes nothing after it', async () => {
    settings = await freshMfaEngine();
    settings = { ...settings, mfaQuarantinePolicyArn: `arn:aws:iam::${ACCOUNT}:policy/missing` } as Settings;

    const { result } = await run(settings, 'iam-DeactivateMFADevice-iam-user');

    expect(result.outcome).toBe('needs-human');
    expect(result.needsHuman[0]).toMatch(
      /^The quarantine policy arn:aws:iam::123456789012:policy\/missing does not exist/,
    );
    expect((await readIamUserState('bob')).tags).toEqual({});
  });

  it('sends a root MFA deactivation to a human: critical, no write at all', async () => {
    const { result, notes, engineCalls } = await run(settings, 'iam-DeactivateMFADevice-root');

    expect(notes[0]).toMatch(/^nothing created: the emulator cannot act as the root user/);
    expect(result.outcome).toBe('needs-human');
    expect(result.actions).toEqual([]);
    expect(result.resource).toMatchObject({ type: 'root user of', id: ACCOUNT });
    // Only the notice: claimed in the outbox, published, marked sent. No IAM read or write.
    expect(engineCalls).toBe(3);
    expect((await emulatorIam().send(new ListUsersCommand({}))).Users).toEqual([]);
    const [notice] = await readNotices();
    expect(notice?.attributes).toMatchObject({ severity: 'critical', outcome: 'needs-human' });
    expect(notice?.text).toContain('Sign in as the root user of 123456789012 and assign an MFA device');
  });

  it('quarantines an IAM user who signed in without MFA and has no device', async () => {
    const { result } = await run(settings, 'signin-ConsoleLogin-no-MFA-iam-user');

    expect(result.outcome).toBe('remediated');
    expect(result.rule).toBe('console-signin-mfa');
    const dave = await readIamUserState('dave');
    expect(dave.policies).toEqual([policyArn]);
    expect(dave.tags[QUARANTINE_TAG]).toMatch(/ ConsoleLogin a7c4e2b9-0206-/);
    const [notice] = await readNotices();
    expect(notice?.subject).toBe('[driftguard] HIGH IAM user dave ConsoleLogin by dave: quarantined');
  });

  it('accepts a sign-in with MFA (docs spelling of the detail type): compliant, no notice', async () => {
    const { result } = await run(settings, 'signin-ConsoleLogin-with-MFA');
    expect(result.outcome).toBe('compliant');
    expect((await readIamUserState('alice')).policies).toEqual([]);
    expect(await readNotices()).toEqual([]);
  });

  it('sends a root sign-in without MFA to a human: critical, no write', async () => {
    const { result, engineCalls } = await run(settings, 'signin-ConsoleLogin-no-MFA-root');
    expect(result.outcome).toBe('needs-human');
    expect(engineCalls).toBe(3);
    expect(await quarantinedUsers()).toEqual([]);
    expect((await readNotices())[0]?.attributes).toMatchObject({ severity: 'critical', rule: 'console-signin-mfa' });
  });

  it('ignores a failed call: nothing reenacted, nothing read or written', async () => {
    const { result, engineCalls } = await run(settings, 'iam-DeactivateMFADevice-failed');
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toBe('the call failed (AccessDenied), so nothing changed');
    expect(engineCalls).toBe(0);
    expect((await emulatorIam().send(new ListUsersCommand({}))).Users).toEqual([]);
  });
});

describe('what a failed quarantine write means, read from the emulator’s own errors', () => {
  let settings: Settings;
  const aws = createAwsClients();

  beforeEach(async () => {
    settings = await freshMfaEngine();
    await emulatorIam().send(new CreateUserCommand({ UserName: 'bob' }));
  });

  /** The action sent as the pipeline sends it; its error read by the rule. */
  async function classify(action: QuarantineAction) {
    const ctx = { settings, aws };
    const error = await sendAction(aws, mfaQuarantine, action, 'us-east-1').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(Error);
    return mfaQuarantine.classifyFailure?.(action, error, ctx, 'us-east-1');
  }

  // Notices are not under test here: every action's texts are left empty.
  const TEXTS = { summary: '', brief: '' };

  it('the user gone: nothing left to do', async () => {
    const verdict = await classify({
      ...TEXTS,
      api: 'iam:TagUser',
      params: { UserName: 'ghost', Tags: [{ Key: QUARANTINE_TAG, Value: 'now' }] },
    });
    expect(verdict).toEqual({ kind: 'gone' });
  });

  it('the quarantine policy missing: a refusal with the step for a human', async () => {
    const missing = `arn:aws:iam::${ACCOUNT}:policy/missing`;
    const verdict = await classify({
      ...TEXTS,
      api: 'iam:AttachUserPolicy',
      params: { UserName: 'bob', PolicyArn: missing },
    });
    expect(verdict).toEqual({
      kind: 'refused',
      step: `The quarantine policy ${missing} does not exist: deploy the stack (it creates driftguard-<stage>-mfa-quarantine) or point DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN at it, then contain bob (aws iam attach-user-policy --user-name bob --policy-arn <its ARN>).`,
    });
  });

  it('the policy no longer attached, or the key deleted meanwhile: done', async () => {
    const { AccessKey } = await emulatorIam().send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const keyId = String(AccessKey?.AccessKeyId);
    await emulatorIam().send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: keyId }));

    const detach = await classify({
      ...TEXTS,
      api: 'iam:DetachUserPolicy',
      params: { UserName: 'bob', PolicyArn: policyArn },
    });
    const reactivate = await classify({
      ...TEXTS,
      api: 'iam:UpdateAccessKey',
      params: { UserName: 'bob', AccessKeyId: keyId, Status: 'Active' },
    });

    expect(detach).toEqual({ kind: 'done' });
    expect(reactivate).toEqual({ kind: 'done' });
  });

  it('any other error: a plain failure', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const action: QuarantineAction = {
      ...TEXTS,
      api: 'iam:AttachUserPolicy',
      params: { UserName: 'bob', PolicyArn: policyArn },
    };
    expect(await mfaQuarantine.classifyFailure?.(action, throttled, { settings, aws }, 'us-east-1')).toBeUndefined();
  });
});

describe('the users sweep against the emulator', () => {
  let settings: Settings;
  let sweep: SweepContext;
  const SWEEP_ID = 'sweep-2026-11-21T13:00:00.000Z';

  beforeEach(async () => {
    settings = await freshMfaEngine();
    sweep = {
      settings,
      aws: createAwsClients(),
      account: ACCOUNT,
      sweepId: SWEEP_ID,
      now: '2026-11-21T13:00:00.000Z',
      dryRun: false,
    };
    const client = emulatorIam();
    for (const UserName of ['bob', 'erin', 'gone']) await client.send(new CreateUserCommand({ UserName }));
    await client.send(new CreateLoginProfileCommand({ UserName: 'bob', Password: 'Correct-Horse-1' }));
    await client.send(new CreateLoginProfileCommand({ UserName: 'erin', Password: 'Correct-Horse-2' }));
    const { VirtualMFADevice } = await client.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'erin' }));
    await client.send(
      new EnableMFADeviceCommand({
        UserName: 'erin',
        SerialNumber: VirtualMFADevice?.SerialNumber,
        AuthenticationCode1: '123456',
        AuthenticationCode2: '654321',
      }),
    );
  });

  it('lists every user with the sweep’s id and the page’s time, and no next page when IAM is done', async () => {
    const page = await mfaQuarantine.sweep?.list('us-east-1', undefined, sweep);

    expect(page?.next).toBeUndefined();
    expect(page?.items.map((item: { userName: string }) => item.userName).sort()).toEqual(['bob', 'erin', 'gone']);
    expect(page?.items[0]).toEqual({
      userName: expect.any(String),
      region: 'us-east-1',
      sweepId: SWEEP_ID,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
    });
  });

  it('quarantines a listed user without MFA, the sweep recorded in the tag; a user with MFA is compliant', async () => {
    const page = await mfaQuarantine.sweep?.list('us-east-1', undefined, sweep);
    const item = (name: string) => page?.items.find((listed: { userName: string }) => listed.userName === name);

    const bob = await mfaQuarantine.sweep?.assess(item('bob'), 'us-east-1', sweep);
    const erin = await mfaQuarantine.sweep?.assess(item('erin'), 'us-east-1', sweep);
    if (bob === undefined) throw new Error('bob was not assessed');
    const settled = await settleDecision(mfaQuarantine, bob.resource, bob.state, bob.decision, sweep);

    expect(bob.name).toBe('bob');
    expect(bob.resource).toMatchObject({ type: 'IAM user', id: 'bob', arn: `arn:aws:iam::${ACCOUNT}:user/bob` });
    expect(settled.outcome).toBe('remediated');
    expect(settled.done.map((action) => action.api)).toEqual(['iam:AttachUserPolicy', 'iam:TagUser']);
    const tags = (await readIamUserState('bob')).tags;
    expect((await readIamUserState('bob')).policies).toEqual([policyArn]);
    expect(tags[QUARANTINE_TAG]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z Sweep ${SWEEP_ID}$`));
    expect(erin?.decision).toMatchObject({ status: 'compliant', reason: expect.stringMatching(/^erin still has/) });
  });

  it('reports nothing for a user deleted between the listing and the look', async () => {
    const page = await mfaQuarantine.sweep?.list('us-east-1', undefined, sweep);
    await emulatorIam().send(new DeleteUserCommand({ UserName: 'gone' }));
    const gone = page?.items.find((listed: { userName: string }) => listed.userName === 'gone');

    expect(await mfaQuarantine.sweep?.assess(gone, 'us-east-1', sweep)).toBeUndefined();
  });
});
