/**
 * --reenact and the KMS key an event names: the key as it is when the endpoint has it (no key created), a stand-in
 * only when it has not, and the notes say which.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../scripts/emulator/client.js';
import { runReplay } from '../../scripts/replay.js';
import { apiCallEvent, type Json, writeEventFiles } from '../support/api-call-events.js';
import { describeGroup, freshEngine, testEndpoint } from '../support/emulator.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const kms = () => new KMSClient(emulatorClientConfig(testEndpoint(), REGION));

async function usersKey(): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await kms().send(new CreateKeyCommand({ Description: 'a key of the user’s own' }));
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error('CreateKey returned no key');
  return { keyId: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
}

async function keyArns(): Promise<string[]> {
  const { Keys = [] } = await kms().send(new ListKeysCommand({}));
  return Keys.map((key) => key.KeyArn ?? '');
}

async function replayed(events: Json[]) {
  const report = await runReplay({
    files: writeEventFiles(events),
    endpoint: testEndpoint(),
    reenact: true,
    json: true,
    print: () => undefined,
  });
  return report.items;
}

const logsCall = (eventName: string, requestParameters: Json) =>
  apiCallEvent({ account: ACCOUNT, source: 'aws.logs', eventName, region: REGION, requestParameters });

const kmsCall = (eventName: string, keyId: string, arn: string) =>
  apiCallEvent({
    account: ACCOUNT,
    source: 'aws.kms',
    eventName,
    region: REGION,
    requestParameters: { keyId },
    resources: [{ type: 'AWS::KMS::Key', ARN: arn }],
  });

describe('--reenact with a key the endpoint has', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each([
    [
      'CreateLogGroup',
      (arn: string) => logsCall('CreateLogGroup', { logGroupName: '/app/with-my-key', kmsKeyId: arn }),
    ],
    [
      'AssociateKmsKey',
      (arn: string) => logsCall('AssociateKmsKey', { logGroupName: '/app/with-my-key', kmsKeyId: arn }),
    ],
  ])('%s encrypts the group with that very key and creates none', async (_call, event) => {
    const key = await usersKey();
    const before = await keyArns();

    const [item] = await replayed([event(key.arn)]);

    expect(item?.notes).toContain(`key ${key.arn} exists at the endpoint: used as it is`);
    expect(item?.result.outcome).toBe('remediated');
    expect((await describeGroup('/app/with-my-key', REGION))?.kmsKeyId).toBe(key.arn);
    expect(await keyArns()).toEqual(before);
  });

  it('a KMS call acts on that key, named by its id, and the guard enables it again', async () => {
    const key = await usersKey();
    // The user's key protects a log group the engine knows of, as the log-group guard records it.
    await new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION)).send(
      new CreateLogGroupCommand({ logGroupName: '/app/protected-by-my-key' }),
    );
    const before = await keyArns();

    const [recorded, disabled] = await replayed([
      logsCall('AssociateKmsKey', { logGroupName: '/app/protected-by-my-key', kmsKeyId: key.arn }),
      kmsCall('DisableKey', key.keyId, key.arn),
    ]);

    expect(recorded?.result.outcome).toBe('remediated');
    expect(disabled?.notes).toContain(`key ${key.arn} exists at the endpoint: used as it is`);
    expect(disabled?.result).toMatchObject({ outcome: 'remediated', resource: { id: key.keyId } });
    expect(disabled?.result.findings).toContainEqual(
      expect.objectContaining({ attribute: 'keyState', before: 'Disabled', after: 'Enabled' }),
    );
    expect((await kms().send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect(await keyArns()).toEqual(before);
  });
});

describe('--reenact with a key the endpoint lacks', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('creates a stand-in, once per key and run, and says so', async () => {
    const missing = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b`;
    const before = await keyArns();

    const items = await replayed([
      logsCall('CreateLogGroup', { logGroupName: '/app/stand-in/one', kmsKeyId: missing }),
      logsCall('AssociateKmsKey', { logGroupName: '/app/stand-in/two', kmsKeyId: missing }),
    ]);

    const created = (await keyArns()).filter((arn) => !before.includes(arn));
    expect(created).toHaveLength(1);
    for (const item of items) {
      expect(item.notes).toContain(
        `key ${missing} is not at the endpoint: a stand-in is used, mapped to emulator key ${created[0]}`,
      );
    }
    expect((await describeGroup('/app/stand-in/one', REGION))?.kmsKeyId).toBe(created[0]);
    expect((await describeGroup('/app/stand-in/two', REGION))?.kmsKeyId).toBe(created[0]);
  });
});
