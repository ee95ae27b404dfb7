/**
 * The replay CLI run from any region: against an emulator the engine's state is found wherever it was provisioned;
 * against anything else a missing state table is one line; the local notice inbox is a display that never changes an
 * event's outcome; and events never seen before, replayed with a notice topic of the user's own, leave the right state.
 */
import { CloudTrailClient, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { awsCallCounter } from '../../lib/aws.js';
import { emulatorClientConfig } from '../../scripts/emulator/client.js';
import { resetEmulator } from '../../scripts/emulator/launcher.js';
import { LOCAL_STATE_TABLE, useEndpoint } from '../../scripts/provision.js';
import { main } from '../../scripts/replay.js';
import { apiCallEvent, iamUser, type Json, writeEventFiles } from '../support/api-call-events.js';
import { describeGroup, freshEngine, readIamUserState, readNotices, testEndpoint } from '../support/emulator.js';

const EMULATOR_ACCOUNT = '123456789012';
/** The account the events were recorded in: the replay maps it onto the emulator's. */
const RECORDED_ACCOUNT = '777788889999';

/** A CreateLogGroup without a key, as CloudWatch Logs records it. */
function logGroupCreated(region: string, logGroupName: string, kmsKeyId?: string): Json {
  return apiCallEvent({
    account: RECORDED_ACCOUNT,
    source: 'aws.logs',
    eventName: 'CreateLogGroup',
    region,
    requestParameters: { logGroupName, ...(kmsKeyId ? { kmsKeyId } : {}) },
  });
}

/**
 * The user as they start after `npm run emulator -- --provision`: the emulator's keys and region, and no DRIFTGUARD_
 * variable but those given.
 */
function asUser(settings: Record<string, string>, env: Record<string, string>): void {
  for (const name of Object.keys(settings)) delete process.env[name];
  Object.assign(process.env, env);
}

/** main() with what it writes to stdout and stderr kept. */
async function mainWithOutput(argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const keep = (lines: string[]) => (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(keep(stdout)),
    vi.spyOn(process.stderr, 'write').mockImplementation(keep(stderr)),
  ];
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('the state table, whatever AWS_REGION is', () => {
  let provisioned: Record<string, string>;
  beforeEach(async () => {
    provisioned = await freshEngine();
  });

  it('finds the table provisioned in us-east-1 from eu-west-1, says where, and keeps the event’s state there', async () => {
    asUser(provisioned, { AWS_REGION: 'eu-west-1' });
    const [file = ''] = writeEventFiles([logGroupCreated('eu-west-1', '/app/checkout/prod')]);

    const first = await mainWithOutput(['--endpoint', testEndpoint(), '--reenact', file]);

    expect(first.stderr).toEqual([]);
    expect(first.code).toBe(0);
    const printed = first.stdout.join('');
    expect(printed).toContain('settings: DRIFTGUARD_STATE_REGION=us-east-1 (provisioned on the endpoint)\n');
    expect(printed).toMatch(/CreateLogGroup log group \/app\/checkout\/prod -> remediated: /);
    expect(printed).toContain('notice (published, read back from the notice queue)');
    expect(await describeGroup('/app/checkout/prod', 'eu-west-1')).toMatchObject({
      retentionInDays: 365,
      kmsKeyId: expect.stringContaining(':kms:eu-west-1:'),
    });
    // A second delivery is known from the record the first left in the us-east-1 table: no second notice. It is
    // reenacted too, so that it is the record the engine saw (moved onto the emulator's account), not another.
    const again = await mainWithOutput(['--endpoint', testEndpoint(), '--reenact', '--json', file]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.at(-1) ?? '{}')).toMatchObject({ outcome: 'remediated' });
    expect(await readNotices()).toHaveLength(1);
  });

  it('provisions a fresh emulator in the region the CLI runs in', async () => {
    asUser(provisioned, { AWS_REGION: 'ap-southeast-2' });
    // Fresh: what --emulator starts, with nothing on it yet.
    await resetEmulator(testEndpoint());
    await useEndpoint(testEndpoint(), true);

    const config = emulatorClientConfig(testEndpoint(), 'ap-southeast-2');
    const { Table } = await new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: LOCAL_STATE_TABLE }));
    expect(Table?.TableArn).toContain(':dynamodb:ap-southeast-2:');
    expect(process.env.DRIFTGUARD_NOTICE_TOPIC_ARN).toMatch(/^arn:aws:sns:ap-southeast-2:/);
    expect(process.env.DRIFTGUARD_STATE_REGION).toBeUndefined();
  });

  it('against a real account, a missing table is one line naming it, the region and the fix; exit 2, no write', async () => {
    // No --endpoint: the CLI takes the account as real (the SDK still reaches the emulator through AWS_ENDPOINT_URL).
    asUser(provisioned, { AWS_REGION: 'eu-west-1', DRIFTGUARD_STATE_TABLE: 'driftguard-prod-state' });
    const [file = ''] = writeEventFiles([logGroupCreated('eu-west-1', '/app/never-replayed')]);
    const writesBefore = awsCallCounter.writes;

    const { code, stderr } = await mainWithOutput([file]);

    expect(code).toBe(2);
    expect(stderr).toEqual([
      'replay: state table driftguard-prod-state not found in eu-west-1: deploy the stack there, or set DRIFTGUARD_STATE_TABLE / DRIFTGUARD_STATE_REGION\n',
    ]);
    expect(awsCallCounter.writes - writesBefore).toBe(0);
    expect(await describeGroup('/app/never-replayed', 'eu-west-1')).toBeUndefined();
  });
});

describe('the local notice inbox is a display', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('says once on stderr why it cannot be read, and every event keeps its outcome and exit code', async () => {
    process.env.DRIFTGUARD_NOTICE_QUEUE_URL = `${testEndpoint()}/${EMULATOR_ACCOUNT}/an-inbox-that-is-not-there`;
    const files = writeEventFiles([
      logGroupCreated('eu-west-1', '/app/inbox-gone/one'),
      logGroupCreated('eu-west-1', '/app/inbox-gone/two'),
    ]);

    const { code, stdout, stderr } = await mainWithOutput([
      '--endpoint',
      testEndpoint(),
      '--reenact',
      '--json',
      ...files,
    ]);

    const results = stdout.map((line) => JSON.parse(line) as Json);
    expect(results.map((result) => [result.outcome, result.notice.delivered])).toEqual([
      ['remediated', false],
      ['remediated', false],
    ]);
    expect(code).toBe(0);
    expect(stderr).toEqual([
      expect.stringMatching(
        /^replay: notices not read back from \S+an-inbox-that-is-not-there in us-east-1 \(.*QueueDoesNotExist.*\n$/,
      ),
    ]);
    expect((await readNotices()).map((notice) => notice.subject)).toEqual(
      results.map((result) => result.notice.subject),
    );
  });
});

describe('events never seen before, with a notice topic of the user’s own (issue 10, done when)', () => {
  let provisioned: Record<string, string>;
  beforeEach(async () => {
    provisioned = await freshEngine();
  });

  /** The user's topic in eu-west-2, with a queue of theirs subscribed to it. */
  async function usersOwnTopic() {
    const config = emulatorClientConfig(testEndpoint(), 'eu-west-2');
    const { TopicArn } = await new SNSClient(config).send(new CreateTopicCommand({ Name: 'security-alerts' }));
    const sqs = new SQSClient(config);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'security-alerts-archive' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await new SNSClient(config).send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
    );
    if (!TopicArn || !QueueUrl) throw new Error('CreateTopic/CreateQueue returned no ARN/URL');
    return { topicArn: TopicArn, queueUrl: QueueUrl };
  }

  it('leaves each resource remediated, in its own region, and notifies the user’s topic', async () => {
    const topic = await usersOwnTopic();
    // The user's own key for their log groups, in the account the events are replayed into.
    const kms = new KMSClient(emulatorClientConfig(testEndpoint(), 'eu-central-1'));
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'orders log key' }));
    const keyId = KeyMetadata?.KeyId ?? '';
    const recordedKeyArn = `arn:aws:kms:eu-central-1:${RECORDED_ACCOUNT}:key/${keyId}`;
    asUser(provisioned, { AWS_REGION: 'us-east-1', DRIFTGUARD_NOTICE_TOPIC_ARN: topic.topicArn });
    const files = writeEventFiles([
      logGroupCreated('eu-central-1', '/app/orders/prod', recordedKeyArn),
      apiCallEvent({
        account: RECORDED_ACCOUNT,
        source: 'aws.kms',
        eventName: 'ScheduleKeyDeletion',
        region: 'eu-central-1',
        requestParameters: { keyId: recordedKeyArn, pendingWindowInDays: 7 },
        responseElements: { keyId: recordedKeyArn, keyState: 'PendingDeletion', pendingWindowInDays: 7 },
        resources: [{ type: 'AWS::KMS::Key', ARN: recordedKeyArn }],
      }),
      apiCallEvent({
        account: RECORDED_ACCOUNT,
        source: 'aws.cloudtrail',
        eventName: 'StopLogging',
        region: 'us-west-2',
        requestParameters: { name: `arn:aws:cloudtrail:us-west-2:${RECORDED_ACCOUNT}:trail/management-events` },
      }),
      apiCallEvent({
        account: RECORDED_ACCOUNT,
        source: 'aws.iam',
        eventName: 'DeactivateMFADevice',
        region: 'us-east-1',
        requestParameters: { userName: 'dana', serialNumber: `arn:aws:iam::${RECORDED_ACCOUNT}:mfa/dana` },
        userIdentity: iamUser(RECORDED_ACCOUNT, 'dana'),
      }),
    ]);

    const { code, stdout, stderr } = await mainWithOutput([
      '--endpoint',
      testEndpoint(),
      '--reenact',
      '--json',
      ...files,
    ]);

    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    const results = stdout.map((line) => JSON.parse(line) as Json);
    expect(results.map((result) => [result.eventName, result.outcome])).toEqual([
      ['CreateLogGroup', 'remediated'],
      ['ScheduleKeyDeletion', 'remediated'],
      ['StopLogging', 'remediated'],
      ['DeactivateMFADevice', 'remediated'],
    ]);
    expect(results[0]?.notes).toContain(
      `key arn:aws:kms:eu-central-1:${EMULATOR_ACCOUNT}:key/${keyId} exists at the endpoint: used as it is`,
    );
    // The log group keeps the user's key (it exists: used as it is) and gets a retention.
    expect(await describeGroup('/app/orders/prod', 'eu-central-1')).toMatchObject({
      kmsKeyId: KeyMetadata?.Arn,
      retentionInDays: 365,
    });
    // The user's key, in use by that group, is no longer pending deletion.
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
    });
    const trail = new CloudTrailClient(emulatorClientConfig(testEndpoint(), 'us-west-2'));
    expect((await trail.send(new GetTrailStatusCommand({ Name: 'management-events' }))).IsLogging).toBe(true);
    expect((await readIamUserState('dana')).policies).toContain(provisioned.DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN);
    // Every notice went to the user's topic; the provisioned inbox got none.
    const delivered = await readNotices(topic.queueUrl, 'eu-west-2');
    expect(delivered.map((notice) => notice.subject).sort()).toEqual(
      results.map((result) => result.notice.subject).sort(),
    );
    expect(results.map((result) => result.notice.delivered)).toEqual([false, false, false, false]);
    expect(await readNotices()).toEqual([]);
  });
});
