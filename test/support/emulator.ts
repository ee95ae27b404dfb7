/** Integration-test helpers: the shared emulator, engine settings provisioned on it, and readers of its state. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, type LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import {
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListMFADevicesCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { resetEmulator } from '../../scripts/emulator/launcher.js';
import { emulatorClientConfig, provisionEngineResources } from '../../scripts/provision.js';

/**
 * This worker's emulator: DRIFTGUARD_TEST_ENDPOINT when set, else the one of DRIFTGUARD_TEST_ENDPOINTS (started by
 * test/global-setup.ts) that belongs to this worker. Vitest numbers its workers 1..maxWorkers (VITEST_POOL_ID) and
 * maxWorkers is the emulators' count, so no two files running at once share one.
 */
export function testEndpoint(): string {
  if (process.env.DRIFTGUARD_TEST_ENDPOINT) return process.env.DRIFTGUARD_TEST_ENDPOINT;
  const endpoints = (process.env.DRIFTGUARD_TEST_ENDPOINTS ?? '').split(',').filter(Boolean);
  if (endpoints.length === 0) {
    throw new Error('DRIFTGUARD_TEST_ENDPOINTS is not set: test/global-setup.ts starts the emulators');
  }
  const worker = Number(process.env.VITEST_POOL_ID ?? 1);
  return endpoints[(worker - 1) % endpoints.length] as string;
}

const ENGINE_VARIABLES = [
  'DRIFTGUARD_MODE',
  'DRIFTGUARD_LOG_KMS_KEY',
  'DRIFTGUARD_LOG_RETENTION_DAYS',
  'DRIFTGUARD_LOG_RETENTION_MIN_DAYS',
  'DRIFTGUARD_LOG_RETENTION_MAX_DAYS',
  'DRIFTGUARD_NOTICE_TOPIC_ARN',
  'DRIFTGUARD_NOTICE_QUEUE_URL',
  'DRIFTGUARD_EXEMPT_TAG',
  'DRIFTGUARD_EXEMPT_LOG_GROUPS',
  'DRIFTGUARD_STATE_TABLE',
  'DRIFTGUARD_STATE_REGION',
  'DRIFTGUARD_MFA_DEACTIVATE_KEYS',
  'DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN',
  'DRIFTGUARD_ENGINE_ROLE_ARNS',
  'DRIFTGUARD_FORWARD_ROLE_ARN',
  'DRIFTGUARD_FORWARDER_NAME',
  'DRIFTGUARD_FORWARD_REGIONS',
  'DRIFTGUARD_ACTIVITY_LOG_GROUP',
  'DRIFTGUARD_STAGE',
];

let testInbox: string | undefined;

/** A clean emulator with the engine's resources, and the process environment pointing at it. */
export async function freshEngine(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const endpoint = testEndpoint();
  await resetEmulator(endpoint);
  const settings = await provisionEngineResources({ endpoint, keyRegions: ['us-east-1', 'eu-west-1'] });
  for (const name of ENGINE_VARIABLES) delete process.env[name];
  // The tests' own inbox: the replay drains the provisioned one to show notices.
  const config = emulatorClientConfig(endpoint, 'us-east-1');
  const sqs = new SQSClient(config);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'driftguard-test-inbox' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await new SNSClient(config).send(
    new SubscribeCommand({
      TopicArn: settings.DRIFTGUARD_NOTICE_TOPIC_ARN,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
    }),
  );
  testInbox = QueueUrl;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    ...settings,
    ...extra,
  });
  return settings;
}

export async function describeGroup(name: string, region = 'eu-west-1'): Promise<LogGroup | undefined> {
  const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), region));
  const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return logGroups?.find((group) => group.logGroupName === name);
}

/** An IAM client on the emulator (IAM answers in us-east-1). */
export const emulatorIam = () => new IAMClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));

/** What the MFA guard may change on a user, read back from the emulator: policies, tags, key statuses, devices. */
export async function readIamUserState(userName: string) {
  const client = emulatorIam();
  const [policies, tags, keys, devices] = await Promise.all([
    client.send(new ListAttachedUserPoliciesCommand({ UserName: userName })),
    client.send(new ListUserTagsCommand({ UserName: userName })),
    client.send(new ListAccessKeysCommand({ UserName: userName })),
    client.send(new ListMFADevicesCommand({ UserName: userName })),
  ]);
  return {
    policies: (policies.AttachedPolicies ?? []).map((policy) => policy.PolicyArn),
    tags: Object.fromEntries((tags.Tags ?? []).map((tag) => [tag.Key, tag.Value])),
    keys: Object.fromEntries((keys.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId, key.Status])),
    devices: (devices.MFADevices ?? []).map((device) => device.SerialNumber),
  };
}

export interface DeliveredNotice {
  subject: string;
  text: string;
  document: Record<string, unknown>;
  attributes: Record<string, string>;
}

/** Every notice waiting in the provisioned inbox queue (the SQS protocol's message is the JSON document). */
export async function readNotices(queueUrl = testInbox, region = 'us-east-1'): Promise<DeliveredNotice[]> {
  if (!queueUrl) throw new Error('no notice queue provisioned');
  const sqs = new SQSClient(emulatorClientConfig(testEndpoint(), region));
  const notices: DeliveredNotice[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return notices;
    for (const message of Messages) {
      const body = JSON.parse(message.Body ?? '{}') as {
        Subject: string;
        Message: string;
        MessageAttributes?: Record<string, { Value: string }>;
      };
      notices.push({
        subject: body.Subject,
        text: body.Message,
        document: JSON.parse(body.Message) as Record<string, unknown>,
        attributes: Object.fromEntries(
          Object.entries(body.MessageAttributes ?? {}).map(([name, { Value }]) => [name, Value]),
        ),
      });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/**
 * A copy of a sample event under another event id (and optional text replacements): the engine treats a repeated id
 * as a repeated delivery and returns its first result, so a test that means a new event needs a new id.
 */
export function anotherEvent(file: string, id: string, replacements: [string, string][] = []): string {
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of replacements) text = text.replaceAll(from, to);
  const event = JSON.parse(text) as { detail: { eventID: string } };
  event.detail.eventID = `${event.detail.eventID}-${id}`;
  const path = join(mkdtempSync(join(tmpdir(), 'driftguard-')), basename(file));
  writeFileSync(path, JSON.stringify(event));
  return path;
}
