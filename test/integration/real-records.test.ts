/**
 * Real-shaped CloudTrail records against the emulator. Through a guard's Lambda handler: AWS's documented pair of root
 * sign-ins under one eventID (each decided on its own, a redelivery still a duplicate), and the documented identity
 * types on a reenacted CreateLogGroup. Through the replay CLI (--reenact --endpoint --json), one record a run: global
 * sign-ins get the us-east-1 outcome, the root user acting on user1's device is about user1, a multi-Region key's
 * deletion is cancelled; each run exits 0 with one result.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { logGroupGuard } from '../../lib/guards/log-group-guard.js';
import { mfaGuard } from '../../lib/guards/mfa-guard.js';
import { QUARANTINE_TAG } from '../../lib/iam-users.js';
import { loadSettings, readMfaSettings, type Settings } from '../../lib/settings.js';
import { provisionMfaQuarantinePolicy } from '../../scripts/provision.js';
import { main } from '../../scripts/replay.js';
import { IDENTITIES } from '../fixtures/identities.js';
import { freshEngine, readIamUserState, readNotices, testEndpoint } from '../support/emulator.js';
import { CallRecorder, contextFor, guardHandler, reenacted, writeCalls } from '../support/handler-harness.js';

// biome-ignore lint/suspicious/noExplicitAny: records are changed field by field
type Json = Record<string, any>;

const ACCOUNT = '123456789012';
const dir = mkdtempSync(join(tmpdir(), 'driftguard-real-records-'));

function record(path: string, change: (event: Json) => void = () => undefined): Json {
  const event = JSON.parse(readFileSync(path, 'utf8')) as Json;
  change(event);
  return event;
}

/** A clean emulator with the engine's resources and the MFA quarantine policy; the settings the guards run with. */
async function freshEngineWithQuarantine(): Promise<Settings> {
  await freshEngine();
  Object.assign(process.env, await provisionMfaQuarantinePolicy(testEndpoint()));
  return { ...loadSettings(), ...readMfaSettings() } as Settings;
}

describe('AWS’s pair of root sign-ins under one eventID, through the MFA guard’s handler', () => {
  const withMfa = record('test/fixtures/events/signin-ConsoleLogin-root-with-MFA-shared-event-id.json');
  const withoutMfa = record('test/fixtures/events/signin-ConsoleLogin-root-no-MFA-shared-event-id.json');

  beforeEach(async () => {
    await freshEngine();
  });

  it('decides each record on its own; a redelivery of one is answered with its first result, no second notice', async () => {
    // Prepare
    const handler = guardHandler(mfaGuard, new CallRecorder());
    const context = contextFor(mfaGuard, withMfa as CloudTrailEvent);

    // Act
    const first = await handler(withMfa, context);
    const second = await handler(withoutMfa, context);
    const notices = await readNotices();
    const redelivered = await handler(structuredClone(withoutMfa), context);

    // Assess
    expect(withMfa.detail.eventID).toBe(withoutMfa.detail.eventID);
    expect(first).toMatchObject({ outcome: 'compliant', reason: 'signed in with MFA' });
    expect(second).toMatchObject({ outcome: 'needs-human', rule: 'console-signin-mfa' });
    expect(notices.map((notice) => notice.attributes)).toEqual([
      { severity: 'critical', rule: 'console-signin-mfa', outcome: 'needs-human', account: ACCOUNT },
    ]);
    expect(redelivered).toEqual(second);
    expect(await readNotices()).toEqual([]);
  });

  it('notifies each of two records under one eventID that both need a notice', async () => {
    // Prepare
    const settings = await freshEngineWithQuarantine();
    const handler = guardHandler(mfaGuard, new CallRecorder(), settings);
    const userSignIn = await reenacted(
      record('events/signin-ConsoleLogin-no-MFA-iam-user.json', (e) => {
        e.detail.eventID = withoutMfa.detail.eventID;
      }) as CloudTrailEvent,
    );
    const context = contextFor(mfaGuard, userSignIn);

    // Act
    const root = await handler(withoutMfa, context);
    const rootNotices = await readNotices();
    const user = await handler(userSignIn, context);
    const userNotices = await readNotices();

    // Assess
    expect([root.outcome, user.outcome]).toEqual(['needs-human', 'remediated']);
    expect(rootNotices.map((notice) => notice.subject)).toEqual([root.notice?.subject]);
    expect(userNotices.map((notice) => notice.subject)).toEqual([user.notice?.subject]);
    expect(user.notice?.subject).toBe('[driftguard] HIGH IAM user dave ConsoleLogin by dave: quarantined');
  });
});

describe('identity shapes on a CreateLogGroup, through the log-group guard’s handler', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each(
    IDENTITIES.filter(([, identity]) =>
      ['AssumedRole', 'AWSService', 'AWSAccount', 'IdentityCenterUser', 'FederatedUser', 'WebIdentityUser'].includes(
        String(identity.type),
      ),
    ),
  )('remediates a log group created by %s and names the caller in the notice', async (_label, userIdentity, actor) => {
    // Prepare
    const event = await reenacted(
      record('events/logs-CreateLogGroup-plain.json', (e) => {
        e.detail.userIdentity = userIdentity;
        e.detail.vpcEndpointId = 'vpce-0123456789abcdef0';
        delete e.detail.eventType;
      }) as CloudTrailEvent,
    );
    const recorder = new CallRecorder();

    // Act
    const result = await guardHandler(logGroupGuard, recorder)(event, contextFor(logGroupGuard, event));

    // Assess
    expect(result.outcome).toBe('remediated');
    expect(writeCalls(recorder.calls)).toContain('CloudWatchLogs:PutRetentionPolicy');
    const [notice] = await readNotices();
    expect(notice?.document.actor).toMatchObject({ name: actor, type: userIdentity.type });
  });
});

describe('the replay CLI on real-shaped records (--reenact --endpoint --json), one record a run', () => {
  let printed: string[];

  beforeEach(async () => {
    await freshEngineWithQuarantine();
    printed = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The record written to a file outside the repository, replayed as `npm run replay` would: exit code, JSON lines. */
  async function replayRecord(event: Json) {
    const file = join(dir, `${event.detail.eventName}-${event.detail.eventID}.json`);
    writeFileSync(file, JSON.stringify(event));
    const exitCode = await main(['--endpoint', testEndpoint(), '--reenact', '--json', file]);
    const lines = printed
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Json);
    return { exitCode, lines };
  }

  it('answers a global root sign-in without MFA as a us-east-1 one: needs a human, critical', async () => {
    const { exitCode, lines } = await replayRecord(record('events/signin-ConsoleLogin-no-MFA-root-global.json'));

    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      rule: 'console-signin-mfa',
      outcome: 'needs-human',
      resource: ACCOUNT,
      notice: { severity: 'critical' },
    });
  });

  it('ignores a global sign-in by an assumed role (IAM Identity Center), as a us-east-1 one', async () => {
    const { exitCode, lines } = await replayRecord(record('events/signin-ConsoleLogin-assumed-role-global.json'));

    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ rule: 'console-signin-mfa', outcome: 'ignored', notice: null });
    expect(lines[0]?.reason).toMatch(/^an AssumedRole sign-in: MFA is the identity provider's to enforce/);
  });

  it.each([
    ['names user1', { userName: 'user1', serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/user1` }],
    ['names only user1’s device', { serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/user1` }],
  ])('makes the root user’s DeactivateMFADevice that %s about user1: quarantined', async (_label, request) => {
    const event = record('events/iam-DeactivateMFADevice-root-on-iam-user.json', (e) => {
      e.detail.requestParameters = request;
      e.detail.awsRegion = 'global';
    });

    const { exitCode, lines } = await replayRecord(event);

    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ rule: 'iam-user-mfa-quarantine', outcome: 'remediated', resource: 'user1' });
    expect(lines[0]?.notice.subject).toBe('[driftguard] HIGH IAM user user1 DeactivateMFADevice by root: quarantined');
    const user1 = await readIamUserState('user1');
    expect(user1.devices).toEqual([]);
    expect(user1.tags[QUARANTINE_TAG]).toMatch(/ DeactivateMFADevice a7c4e2b9-0209-/);
  });

  it('releases user1 when the root user enrols a device for them again', async () => {
    await replayRecord(record('events/iam-DeactivateMFADevice-root-on-iam-user.json'));
    printed.length = 0;
    const enable = record('events/iam-DeactivateMFADevice-root-on-iam-user.json', (e) => {
      e.detail.eventName = 'EnableMFADevice';
      e.detail.eventID = 'a7c4e2b9-0212-4d3e-9f10-000000000212';
    });

    const { exitCode, lines } = await replayRecord(enable);

    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ outcome: 'remediated', resource: 'user1' });
    expect(lines[0]?.reason).toBe(`user1 enrolled MFA device arn:aws:iam::${ACCOUNT}:mfa/user1: quarantine released`);
    expect((await readIamUserState('user1')).policies).toEqual([]);
  });

  it('cancels the deletion of a multi-Region primary key pending its replicas’ deletion', async () => {
    const { exitCode, lines } = await replayRecord(record('events/kms-ScheduleKeyDeletion-multi-Region-primary.json'));

    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ rule: 'kms-key-protection', outcome: 'remediated' });
    expect(lines[0]?.actions.map((action: Json) => action.api)).toEqual(['kms:CancelKeyDeletion', 'kms:EnableKey']);
    expect(lines[0]?.resource).toMatch(/^mrk-/);
  });
});
