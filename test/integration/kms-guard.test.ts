/**
 * The KMS key guard against the emulator: each trigger replayed with --reenact (a key in use by a log group, then the
 * event's call), the key's state, rotation and policy read back; unprotected keys untouched.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../lib/key-policy.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { type ReplayReport, runReplay } from '../../scripts/replay.js';
import { anotherEvent, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const REGION = 'eu-west-1';
const ORIGINAL_KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const sample = (name: string) => `events/kms-${name}.json`;
const kms = () => new KMSClient(emulatorClientConfig(testEndpoint(), REGION));

async function replay(files: string[], reenact = true): Promise<ReplayReport> {
  return runReplay({ files, endpoint: testEndpoint(), reenact, json: true, print: () => undefined });
}

/** The emulator key the reenactment mapped the event's key onto, from the replay's notes. */
function mappedKey(report: ReplayReport): string {
  const note = report.items[0]?.notes.find((n) => n.includes('mapped to emulator key'));
  const arn = note?.split('mapped to emulator key ')[1];
  if (!arn) throw new Error('no key mapping in the replay notes');
  return arn;
}

/** The key replacements that put a sample onto a key of this emulator, as the reenactment does. */
function keyReplacements(keyArn: string): [string, string][] {
  const keyId = keyArn.split('/').pop() ?? keyArn;
  return [
    [`arn:aws:kms:${REGION}:123456789012:key/${ORIGINAL_KEY}`, keyArn],
    [ORIGINAL_KEY, keyId],
  ];
}

/** A sample event rewritten onto a key of this emulator (for replays without --reenact), under an id of its own. */
function onKey(file: string, keyArn: string, id = 'on-key'): string {
  return anotherEvent(sample(file), id, keyReplacements(keyArn));
}

/** The very record a reenacted replay handled (the sample on the emulator's key, same event id): a redelivery. */
function redelivered(file: string, keyArn: string): string {
  let text = readFileSync(sample(file), 'utf8');
  for (const [from, to] of keyReplacements(keyArn)) text = text.replaceAll(from, to);
  const path = join(mkdtempSync(join(tmpdir(), 'driftguard-')), `kms-${file}.json`);
  writeFileSync(path, text);
  return path;
}

async function keyState(keyArn: string) {
  return (await kms().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
}

describe('KMS key guard against the emulator', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each(['ScheduleKeyDeletion', 'ScheduleKeyDeletion-by-arn'])(
    'cancels %s of a key in use, and enables it again',
    async (file) => {
      const report = await replay([sample(file)]);
      const result = report.items[0]?.result;
      expect(result?.outcome).toBe('remediated');
      expect(result?.actions.map((a) => a.api)).toEqual(['kms:CancelKeyDeletion', 'kms:EnableKey']);
      const key = await keyState(mappedKey(report));
      expect(key?.KeyState).toBe('Enabled');
      expect(key?.DeletionDate).toBeUndefined();
      const [notice] = await readNotices();
      expect(notice?.attributes).toMatchObject({
        severity: 'critical',
        rule: 'kms-key-protection',
        outcome: 'remediated',
      });
      expect(notice?.document.findings).toEqual([
        {
          attribute: 'keyState',
          before: expect.stringMatching(/^PendingDeletion \(deletion date \d{4}-\d\d-\d\dT/),
          after: 'Enabled',
        },
      ]);
      expect(notice?.document.reason).toMatch(/protected: in use by log groups \/driftguard\/reenact\/kms\//);
    },
  );

  it('enables a disabled key in use', async () => {
    const report = await replay([sample('DisableKey')]);
    expect(report.items[0]?.result.actions).toEqual([{ api: 'kms:EnableKey', params: { KeyId: mappedKey(report) } }]);
    expect((await keyState(mappedKey(report)))?.KeyState).toBe('Enabled');
  });

  it('turns rotation back on', async () => {
    const report = await replay([sample('DisableKeyRotation')]);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    const { KeyRotationEnabled } = await kms().send(new GetKeyRotationStatusCommand({ KeyId: mappedKey(report) }));
    expect(KeyRotationEnabled).toBe(true);
  });

  it('puts the CloudWatch Logs statement back into the author’s new policy, keeping their statements', async () => {
    const report = await replay([sample('PutKeyPolicy-drops-logs-statement')]);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    const { Policy } = await kms().send(new GetKeyPolicyCommand({ KeyId: mappedKey(report), PolicyName: 'default' }));
    const statements = parsePolicy(Policy ?? '{}').Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      'AccountAdministers',
      'SecurityAuditReads',
      'CloudWatchLogsUsesKeyForThisAccountsLogGroups',
    ]);
    const authored = JSON.parse(
      JSON.parse(readFileSync(sample('PutKeyPolicy-drops-logs-statement'), 'utf8')).detail.requestParameters.policy,
    );
    expect(statements.slice(0, 2)).toEqual(authored.Statement);
  });

  it('accepts a policy change that keeps the statement: no write', async () => {
    const report = await replay([sample('PutKeyPolicy-keeps-logs-statement')]);
    expect(report.items[0]?.result).toMatchObject({ outcome: 'compliant', actions: [] });
    const { Policy } = await kms().send(new GetKeyPolicyCommand({ KeyId: mappedKey(report), PolicyName: 'default' }));
    expect(parsePolicy(Policy ?? '{}').Statement.map((s) => s.Sid)).toEqual([
      'AccountAdministers',
      'CloudWatchLogsUsesKeyForThisAccountsLogGroups',
      'SecurityAuditReads',
    ]);
    expect(await readNotices()).toHaveLength(0);
  });

  it('leaves an unprotected key alone (ignored, not-protected) and protects one tagged driftguard:protected=true', async () => {
    const { KeyMetadata } = await kms().send(new CreateKeyCommand({ Description: 'someone else’s key' }));
    const keyArn = KeyMetadata?.Arn as string;
    await kms().send(new DisableKeyCommand({ KeyId: keyArn }));
    const untouched = await replay([onKey('DisableKey', keyArn)], false);
    expect(untouched.items[0]?.result.outcome).toBe('ignored');
    expect(untouched.items[0]?.result.reason).toMatch(/^not-protected: /);
    expect((await keyState(keyArn))?.KeyState).toBe('Disabled');

    await kms().send(
      new TagResourceCommand({ KeyId: keyArn, Tags: [{ TagKey: 'driftguard:protected', TagValue: 'true' }] }),
    );
    const tagged = await replay([onKey('DisableKey', keyArn, 'after-tagging')], false);
    expect(tagged.items[0]?.result.outcome).toBe('remediated');
    expect(tagged.items[0]?.result.reason).toMatch(/protected: tagged driftguard:protected=true/);
    expect((await keyState(keyArn))?.KeyState).toBe('Enabled');
    expect((await readNotices())[0]?.attributes.severity).toBe('high');
  });

  it('ignores failed calls and the engine’s own PutKeyPolicy', async () => {
    const report = await replay([
      sample('DisableKey-failed-AccessDenied'),
      sample('PutKeyPolicy-by-remediation-engine'),
    ]);
    expect(report.items.map((i) => i.result.outcome)).toEqual(['ignored', 'ignored']);
    expect(await readNotices()).toHaveLength(0);
  });

  it('answers a second delivery of the same event with its first result: no write, no second notice', async () => {
    const first = await replay([sample('DisableKey')]);
    expect(await readNotices()).toHaveLength(1);
    await kms().send(new DisableKeyCommand({ KeyId: mappedKey(first) }));
    const again = await replay([redelivered('DisableKey', mappedKey(first))], false);
    expect(again.items[0]?.result).toEqual(first.items[0]?.result);
    expect((await keyState(mappedKey(first)))?.KeyState).toBe('Disabled');
    expect(await readNotices()).toHaveLength(0);
  });

  it('handles a new event on the same key on its own merits', async () => {
    const first = await replay([sample('DisableKey')]);
    await readNotices();
    const later = await replay([onKey('DisableKey', mappedKey(first), 'later')], false);
    expect(later.items[0]?.result).toMatchObject({ outcome: 'compliant', actions: [] });
    expect(await readNotices()).toHaveLength(0);
  });
});
