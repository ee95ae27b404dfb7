/** Every sample replayed with --reenact against the emulator; end state read back with the SDK, notices from SQS. */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogKey, emulatorClientConfig, LOCAL_LOG_KEY_ALIAS } from '../../scripts/provision.js';
import { BadInputError, type ReplayReport, runReplay } from '../../scripts/replay.js';
import { anotherEvent, describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const silent = () => undefined;

async function replay(files: string[], options: { reenact?: boolean; dryRun?: boolean } = {}): Promise<ReplayReport> {
  return runReplay({
    files,
    endpoint: testEndpoint(),
    reenact: options.reenact ?? true,
    dryRun: options.dryRun ?? false,
    json: true,
    print: silent,
  });
}

async function localKeyArn(region = 'eu-west-1'): Promise<string> {
  const kms = new KMSClient(emulatorClientConfig(testEndpoint(), region));
  const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: LOCAL_LOG_KEY_ALIAS }));
  return KeyMetadata?.Arn as string;
}

function logs(region = 'eu-west-1') {
  return new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), region));
}

function writeEvent(event: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'driftguard-'));
  const file = join(dir, 'event.json');
  writeFileSync(file, typeof event === 'string' ? event : JSON.stringify(event));
  return file;
}

function sample(name: string) {
  return `events/${name}.json`;
}

describe('log-group guard against the emulator', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('encrypts a plain new group with the configured key and sets 365 days, with one notice', async () => {
    const report = await replay([sample('logs-CreateLogGroup-plain')]);
    const [item] = report.items;
    expect(report.exitCode).toBe(0);
    expect(item?.result.outcome).toBe('remediated');
    expect(item?.result.actions.map((a) => a.api)).toEqual(['logs:AssociateKmsKey', 'logs:PutRetentionPolicy']);
    const group = await describeGroup('/app/payments-api/prod');
    expect(group?.kmsKeyId).toBe(await localKeyArn());
    expect(group?.retentionInDays).toBe(365);

    const notices = await readNotices();
    expect(notices).toHaveLength(1);
    const [notice] = notices;
    expect(notice?.subject.length).toBeLessThan(100);
    expect(notice?.subject).toBe(
      '[driftguard] MEDIUM /app/payments-api/prod CreateLogGroup by alice: encrypted, retention 365d',
    );
    expect(notice?.attributes).toEqual({
      severity: 'medium',
      rule: 'log-group-encryption-retention',
      outcome: 'remediated',
      account: '123456789012',
    });
    expect(notice?.document).toMatchObject({
      rule: 'log-group-encryption-retention',
      outcome: 'remediated',
      region: 'eu-west-1',
      actor: { arn: 'arn:aws:iam::123456789012:user/alice', name: 'alice' },
      sourceIPAddress: '198.51.100.10',
      event: { name: 'CreateLogGroup', id: 'e0d2b6a1-0001-4a3b-8c2d-000000000001' },
      findings: [
        { attribute: 'kmsKeyId', before: 'none' },
        { attribute: 'retentionInDays', before: 'none (never expire)', after: '365 days' },
      ],
    });
  });

  it('keeps the creator’s own enabled customer key and only adds retention', async () => {
    const report = await replay([sample('logs-CreateLogGroup-with-kmsKeyId')]);
    const [item] = report.items;
    expect(item?.result.outcome).toBe('remediated');
    expect(item?.result.actions.map((a) => a.api)).toEqual(['logs:PutRetentionPolicy']);
    const group = await describeGroup('/app/ledger/prod');
    expect(group?.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
    expect(group?.kmsKeyId).not.toBe(await localKeyArn());
    expect(group?.retentionInDays).toBe(365);
  });

  it('restores a deleted retention policy and a removed key', async () => {
    const report = await replay([sample('logs-DeleteRetentionPolicy'), sample('logs-DisassociateKmsKey')]);
    expect(report.items.map((i) => i.result.outcome)).toEqual(['remediated', 'remediated']);
    const orders = await describeGroup('/app/orders/prod');
    expect(orders?.retentionInDays).toBe(365);
    const ledger = await describeGroup('/app/ledger/prod');
    expect(ledger?.kmsKeyId).toBe(await localKeyArn());
    expect(await readNotices()).toHaveLength(2);
  });

  it('accepts a group associated with another customer key, named by resourceIdentifier', async () => {
    const report = await replay([sample('logs-AssociateKmsKey-by-resourceIdentifier')]);
    const [item] = report.items;
    expect(item?.result.resource?.id).toBe('/app/inventory/prod');
    expect(item?.result.actions.map((a) => a.api)).toEqual(['logs:PutRetentionPolicy']);
    const group = await describeGroup('/app/inventory/prod', 'us-east-1');
    expect(group?.kmsKeyId).not.toBe(await localKeyArn('us-east-1'));
    expect(group?.retentionInDays).toBe(365);
  });

  it('clamps retention outside the bounds to the nearest bound', async () => {
    await freshEngine({ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '30', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '731' });
    const report = await replay([sample('logs-PutRetentionPolicy')]);
    expect(report.items[0]?.result.findings).toContainEqual({
      attribute: 'retentionInDays',
      before: '3653 days',
      after: '731 days',
    });
    expect((await describeGroup('/app/search/prod'))?.retentionInDays).toBe(731);

    await logs().send(new PutRetentionPolicyCommand({ logGroupName: '/app/search/prod', retentionInDays: 7 }));
    const again = await replay([anotherEvent(sample('logs-PutRetentionPolicy'), 'shortened')], { reenact: false });
    expect(again.items[0]?.result.outcome).toBe('remediated');
    expect((await describeGroup('/app/search/prod'))?.retentionInDays).toBe(30);
  });

  it('leaves a group inside the bounds with a usable key alone: compliant, no notice', async () => {
    await logs().send(new CreateLogGroupCommand({ logGroupName: '/app/search/prod', kmsKeyId: await localKeyArn() }));
    await logs().send(new PutRetentionPolicyCommand({ logGroupName: '/app/search/prod', retentionInDays: 90 }));
    const report = await replay([sample('logs-PutRetentionPolicy')], { reenact: false });
    expect(report.items[0]?.result.outcome).toBe('compliant');
    expect(await readNotices()).toHaveLength(0);
  });

  it('re-associates a group whose key was disabled', async () => {
    const { arn } = await createLogKey(testEndpoint(), 'eu-west-1', '123456789012', 'soon disabled');
    await logs().send(new CreateLogGroupCommand({ logGroupName: '/app/search/prod', kmsKeyId: arn }));
    await logs().send(new PutRetentionPolicyCommand({ logGroupName: '/app/search/prod', retentionInDays: 90 }));
    await new KMSClient(emulatorClientConfig(testEndpoint(), 'eu-west-1')).send(new DisableKeyCommand({ KeyId: arn }));
    const report = await replay([sample('logs-PutRetentionPolicy')], { reenact: false });
    expect(report.items[0]?.result.findings[0]).toEqual({
      attribute: 'kmsKeyId',
      before: `${arn} (key state Disabled)`,
      after: await localKeyArn(),
    });
    expect((await describeGroup('/app/search/prod'))?.kmsKeyId).toBe(await localKeyArn());
  });

  it('ignores exempt groups by tag and by name prefix, writing nothing', async () => {
    const tagged = await replay([sample('logs-CreateLogGroup-exempt-tag')]);
    expect(tagged.items[0]?.result).toMatchObject({ outcome: 'ignored', reason: 'exempt: tagged driftguard:exempt' });
    expect((await describeGroup('/ops/break-glass/audit'))?.retentionInDays).toBeUndefined();

    await freshEngine({ DRIFTGUARD_EXEMPT_LOG_GROUPS: '/aws/vendedlogs/, /app/payments' });
    const prefixed = await replay([sample('logs-CreateLogGroup-plain')]);
    expect(prefixed.items[0]?.result).toMatchObject({
      outcome: 'ignored',
      reason: 'exempt: name starts with /app/payments',
    });
    const group = await describeGroup('/app/payments-api/prod');
    expect(group?.kmsKeyId).toBeUndefined();
    expect(group?.retentionInDays).toBeUndefined();
    expect(await readNotices()).toHaveLength(0);
  });

  it('ignores failed calls and the engine’s own calls', async () => {
    const report = await replay([
      sample('logs-CreateLogGroup-failed-ResourceAlreadyExists'),
      sample('logs-PutRetentionPolicy-by-remediation-engine'),
    ]);
    expect(report.items.map((i) => i.result.outcome)).toEqual(['ignored', 'ignored']);
    expect(report.items[0]?.result.reason).toMatch(/ResourceAlreadyExistsException/);
    expect(report.items[1]?.result.reason).toMatch(/engine itself/);
    const group = await describeGroup('/app/payments-api/prod');
    expect(group?.retentionInDays).toBe(365);
    expect(group?.kmsKeyId).toBeUndefined();
    expect(await readNotices()).toHaveLength(0);
  });

  it('does nothing for a group that no longer exists', async () => {
    const report = await replay([sample('logs-DeleteRetentionPolicy')], { reenact: false });
    expect(report.exitCode).toBe(0);
    expect(report.items[0]?.result).toMatchObject({ outcome: 'ignored', actions: [] });
    expect(report.items[0]?.result.reason).toMatch(/no longer exists/);
    expect(await describeGroup('/app/orders/prod')).toBeUndefined();
  });

  it('dry-run decides and writes nothing, not even a notice', async () => {
    await logs().send(new CreateLogGroupCommand({ logGroupName: '/app/payments-api/prod' }));
    const report = await replay([sample('logs-CreateLogGroup-plain')], { reenact: false, dryRun: true });
    expect(report.items[0]?.result.outcome).toBe('planned');
    expect(report.items[0]?.result.actions).toHaveLength(2);
    const group = await describeGroup('/app/payments-api/prod');
    expect(group?.kmsKeyId).toBeUndefined();
    expect(group?.retentionInDays).toBeUndefined();
    expect(await readNotices()).toHaveLength(0);
  });

  it('notify mode changes nothing and publishes what would be done', async () => {
    await freshEngine({ DRIFTGUARD_MODE: 'notify' });
    const report = await replay([sample('logs-CreateLogGroup-plain')]);
    expect(report.items[0]?.result.outcome).toBe('planned');
    expect((await describeGroup('/app/payments-api/prod'))?.kmsKeyId).toBeUndefined();
    const [notice] = await readNotices();
    expect(notice?.attributes.outcome).toBe('planned');
  });

  it('fixes retention and asks a human when no configured key exists in the region', async () => {
    await freshEngine({ DRIFTGUARD_LOG_KMS_KEY: 'alias/missing-everywhere' });
    const report = await replay([sample('logs-CreateLogGroup-plain')]);
    const result = report.items[0]?.result;
    expect(result?.outcome).toBe('needs-human');
    expect(result?.needsHuman[0]).toMatch(/alias\/missing-everywhere/);
    expect((await describeGroup('/app/payments-api/prod'))?.retentionInDays).toBe(365);
    const [notice] = await readNotices();
    expect(notice?.attributes.outcome).toBe('needs-human');
  });

  it('asks a human when the configured alias points at a disabled key, and still fixes retention', async () => {
    const kms = new KMSClient(emulatorClientConfig(testEndpoint(), 'eu-west-1'));
    await kms.send(new DisableKeyCommand({ KeyId: await localKeyArn() }));
    const report = await replay([sample('logs-CreateLogGroup-plain')]);
    expect(report.exitCode).toBe(0);
    expect(report.items[0]?.result.outcome).toBe('needs-human');
    expect(report.items[0]?.result.needsHuman[0]).toMatch(/key state Disabled/);
    expect((await describeGroup('/app/payments-api/prod'))?.retentionInDays).toBe(365);
  });

  it('reports a failed fix (configured key ARN disabled), publishes a failed notice and exits 1', async () => {
    const keyArn = await localKeyArn();
    process.env.DRIFTGUARD_LOG_KMS_KEY = keyArn;
    const kms = new KMSClient(emulatorClientConfig(testEndpoint(), 'eu-west-1'));
    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    const report = await replay([sample('logs-CreateLogGroup-plain')]);
    expect(report.exitCode).toBe(1);
    const result = report.items[0]?.result;
    expect(result?.outcome).toBe('failed');
    expect(result?.failures[0]?.api).toBe('logs:AssociateKmsKey');
    expect(result?.failures[0]?.error).toMatch(/InvalidParameterException/);
    expect((await describeGroup('/app/payments-api/prod'))?.retentionInDays).toBe(365);
    const [notice] = await readNotices();
    expect(notice?.attributes.outcome).toBe('failed');
  });

  it('maps a sample from another account onto the emulator’s account when reenacting', async () => {
    const file = 'test/fixtures/events/logs-CreateLogGroup-other-account.json';
    const report = await replay([file]);
    expect(report.items[0]?.notes[0]).toMatch(/111122223333 mapped to the target's account 123456789012/);
    expect(report.items[0]?.result.outcome).toBe('remediated');
    const withoutReenact = await replay([anotherEvent(file, 'as-is')], { reenact: false });
    expect(withoutReenact.items[0]?.result).toMatchObject({ outcome: 'ignored' });
    expect(withoutReenact.items[0]?.result.reason).toMatch(/account 111122223333/);
  });

  it('rejects bad files before touching anything', async () => {
    const missing = replay(['events/does-not-exist.json', sample('logs-CreateLogGroup-plain')]);
    await expect(missing).rejects.toThrow(BadInputError);
    await expect(missing).rejects.toThrow(/does-not-exist\.json: cannot read the file \(ENOENT\)/);
    await expect(replay([writeEvent('{"version": "0",')])).rejects.toThrow(/not JSON/);
    await expect(replay([writeEvent({ hello: 'world' })])).rejects.toThrow(/not a CloudTrail event: version: missing/);
    expect(await describeGroup('/app/payments-api/prod')).toBeUndefined();
  });

  it('refuses --reenact against a real account', async () => {
    await expect(runReplay({ files: [sample('logs-CreateLogGroup-plain')], reenact: true })).rejects.toThrow(
      /--reenact is refused against a real account/,
    );
  });

  it('treats a malformed event that passes the file check as an error naming the field, with no write', async () => {
    const event = JSON.parse(readFileSync(sample('logs-CreateLogGroup-plain'), 'utf8'));
    event.detail.requestParameters = null;
    await expect(replay([writeEvent(event)], { reenact: false })).rejects.toThrow(
      /detail\.requestParameters has no logGroupName/,
    );
    expect(await readNotices()).toHaveLength(0);
  });
});
