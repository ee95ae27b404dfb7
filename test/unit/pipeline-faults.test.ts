import { Logger } from '@aws-lambda-powertools/logger';
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lib/aws.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { logGroupGuard } from '../../lib/guards/log-group-guard.js';
import { createGuardHandler, RemediationFailedError } from '../../lib/handler.js';
import { checkEvent, type EngineContext, handleEvent } from '../../lib/pipeline.js';
import { logGroupEncryptionRetention } from '../../lib/rules/log-group-encryption-retention.js';
import { loadSettings } from '../../lib/settings.js';
import { lambdaContext } from '../../scripts/replay.js';
import { ACCOUNT, rawSample, sample } from './fixtures.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:driftguard-notices';
const GROUP = '/app/payments-api/prod';
const GROUP_ARN = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${GROUP}`;
const RULES = [logGroupEncryptionRetention];

const logsMock = mockClient(CloudWatchLogsClient);
const kmsMock = mockClient(KMSClient);
const snsMock = mockClient(SNSClient);

// aws-sdk-client-mock stubs send(), so no request, retry or credential lookup happens; small clients regardless.
function testClients(): AwsClients {
  return createAwsClients({ maxAttempts: 2, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
}

function engine(env: Record<string, string> = {}): EngineContext {
  const settings = loadSettings({ DRIFTGUARD_LOG_KMS_KEY: KEY, DRIFTGUARD_NOTICE_TOPIC_ARN: TOPIC, ...env });
  return {
    settings,
    aws: testClients(),
    screening: { accountId: ACCOUNT, engineRoleArns: settings.engineRoleArns, ownPrincipalArns: [] },
  };
}

const plainEvent = () => rawSample('logs-CreateLogGroup-plain');
/** The log-group guard's own function in ACCOUNT: the handler screens with the account of its ARN. */
const guardContext = () => lambdaContext(sample('logs-CreateLogGroup-plain'), ACCOUNT);

const metadata = { httpStatusCode: 503, requestId: 'req-1', attempts: 2, totalRetryDelay: 0 };

function throttled() {
  return new ThrottlingException({
    message: 'Rate exceeded',
    $metadata: { ...metadata, httpStatusCode: 400 },
  });
}

function unavailable() {
  return new ServiceUnavailableException({ message: 'The service is unavailable', $metadata: metadata });
}

function notFound() {
  return new ResourceNotFoundException({
    message: 'The specified log group does not exist.',
    $metadata: { ...metadata, httpStatusCode: 400 },
  });
}

function writes() {
  return [
    ...logsMock.commandCalls(AssociateKmsKeyCommand),
    ...logsMock.commandCalls(PutRetentionPolicyCommand),
    ...snsMock.commandCalls(PublishCommand),
  ];
}

/** Every mock reset, then a plain group: no key, no retention, no tags; writes and the notice succeed. */
function resetToPlainGroup() {
  logsMock.reset();
  kmsMock.reset();
  snsMock.reset();
  logsMock
    .on(DescribeLogGroupsCommand)
    .resolves({ logGroups: [{ logGroupName: GROUP, arn: `${GROUP_ARN}:*`, logGroupArn: GROUP_ARN }] });
  logsMock.on(ListTagsForResourceCommand).resolves({ tags: {} });
  logsMock.on(AssociateKmsKeyCommand).resolves({});
  logsMock.on(PutRetentionPolicyCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
}

describe('handleEvent fault paths', () => {
  beforeEach(resetToPlainGroup);

  it('remediates a plain group and publishes one notice (baseline for the faults below)', async () => {
    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    expect(result.outcome).toBe('remediated');
    expect(logsMock.commandCalls(AssociateKmsKeyCommand)[0]?.args[0].input).toEqual({
      logGroupName: GROUP,
      kmsKeyId: KEY,
    });
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input).toEqual({
      logGroupName: GROUP,
      retentionInDays: 365,
    });
    expect(result.notice).toEqual(expect.objectContaining({ published: true, messageId: 'msg-1' }));
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('propagates a throttled DescribeLogGroups and writes nothing', async () => {
    // Prepare
    const error = throttled();
    logsMock.on(DescribeLogGroupsCommand).rejects(error);

    // Act
    const handled = handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    await expect(handled).rejects.toBe(error);
    expect(logsMock.commandCalls(DescribeLogGroupsCommand).length).toBeGreaterThanOrEqual(1);
    expect(writes()).toHaveLength(0);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('reports a failed AssociateKmsKey, still applies the retention, and publishes a failed notice', async () => {
    // Prepare
    const error = unavailable();
    logsMock.on(AssociateKmsKeyCommand).rejects(error);

    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    expect(error.$fault).toBe('server');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe('1 of 2 fixes failed');
    expect(result.failures).toEqual([
      { api: 'logs:AssociateKmsKey', error: 'ServiceUnavailableException: The service is unavailable' },
    ]);
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)).toHaveLength(1);
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input).toEqual({
      logGroupName: GROUP,
      retentionInDays: 365,
    });
    const publishes = snsMock.commandCalls(PublishCommand);
    expect(publishes).toHaveLength(1);
    const publish = publishes[0]?.args[0].input;
    expect(publish?.TopicArn).toBe(TOPIC);
    expect(publish?.MessageAttributes?.outcome).toEqual({ DataType: 'String', StringValue: 'failed' });
    const document = JSON.parse(JSON.parse(publish?.Message ?? '{}').sqs);
    expect(document.failures).toEqual([
      expect.objectContaining({
        api: 'logs:AssociateKmsKey',
        error: 'ServiceUnavailableException: The service is unavailable',
      }),
    ]);
    expect(document.actions.map((a: { api: string }) => a.api)).toEqual(['logs:PutRetentionPolicy']);
  });

  it('ignores a group deleted while the fixes were applied', async () => {
    // Prepare
    logsMock.on(AssociateKmsKeyCommand).rejects(notFound());

    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toBe(`log group ${GROUP} was deleted meanwhile: nothing to do`);
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it('ignores a group that no longer exists when inspected', async () => {
    // Prepare
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });

    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toBe(`log group ${GROUP} no longer exists: nothing to do`);
    expect(writes()).toHaveLength(0);
  });

  it.each([
    ['a string', () => 'not json'],
    ['null', () => null],
    [
      'an envelope without detail',
      () => {
        const raw = plainEvent();
        Reflect.deleteProperty(raw, 'detail');
        return raw;
      },
    ],
    [
      'a CreateLogGroup without logGroupName',
      () => {
        const raw = plainEvent();
        raw.detail.requestParameters = {};
        return raw;
      },
    ],
  ])('rejects %s with MalformedEventError and makes no AWS call', async (_label, makeInput) => {
    // Act
    const handled = (async () => handleEvent(checkEvent(makeInput(), RULES), engine()))();

    // Assess
    await expect(handled).rejects.toBeInstanceOf(MalformedEventError);
    expect(logsMock.calls()).toHaveLength(0);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it('fails the outcome when the notice cannot be published, after the fixes were made', async () => {
    // Prepare
    snsMock.on(PublishCommand).rejects(new Error('connect ECONNREFUSED'));

    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine());

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/the notice could not be published$/);
    expect(result.notice).toEqual(expect.objectContaining({ published: false, error: 'Error: connect ECONNREFUSED' }));
    expect(logsMock.commandCalls(AssociateKmsKeyCommand)).toHaveLength(1);
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)).toHaveLength(1);
  });

  it('in notify mode writes nothing but publishes a planned notice', async () => {
    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), engine({ DRIFTGUARD_MODE: 'notify' }));

    // Assess
    expect(result.outcome).toBe('planned');
    expect(logsMock.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.outcome?.StringValue).toBe(
      'planned',
    );
  });

  it('in a dry run writes nothing at all, not even the notice', async () => {
    // Act
    const result = await handleEvent(checkEvent(plainEvent(), RULES), { ...engine(), dryRun: true });

    // Assess
    expect(result.outcome).toBe('planned');
    expect(result.actions.map((a) => a.api)).toEqual(['logs:AssociateKmsKey', 'logs:PutRetentionPolicy']);
    expect(writes()).toHaveLength(0);
  });
});

describe('createGuardHandler', () => {
  beforeEach(resetToPlainGroup);

  function guardHandler() {
    const { settings, aws } = engine();
    return createGuardHandler(logGroupGuard, { settings, aws, logger: new Logger({ logLevel: 'SILENT' }) });
  }

  it('returns the result of a remediation', async () => {
    // Act
    const result = await guardHandler()(plainEvent(), guardContext());

    // Assess
    expect(result.outcome).toBe('remediated');
    expect(result.rule).toBe('log-group-encryption-retention');
  });

  it('throws RemediationFailedError carrying the result when the outcome is failed', async () => {
    // Prepare
    logsMock.on(AssociateKmsKeyCommand).rejects(unavailable());

    // Act
    const error = await guardHandler()(plainEvent(), guardContext()).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(RemediationFailedError);
    const failed = error as RemediationFailedError;
    expect(failed.result.outcome).toBe('failed');
    expect(failed.result.failures).toEqual([expect.objectContaining({ api: 'logs:AssociateKmsKey' })]);
    expect(failed.message).toBe(`log-group-encryption-retention failed on ${GROUP}: 1 of 2 fixes failed`);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('screens with the account of its own function ARN', async () => {
    // Prepare
    const event = plainEvent();
    event.account = '210987654321';

    // Act
    const result = await guardHandler()(event, guardContext());

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toContain('the engine acts only in 123456789012');
    expect(logsMock.calls()).toHaveLength(0);
  });

  it('rethrows MalformedEventError for malformed input', async () => {
    // Act
    const handled = guardHandler()({ hello: 'world' }, guardContext());

    // Assess
    await expect(handled).rejects.toBeInstanceOf(MalformedEventError);
    expect(logsMock.calls()).toHaveLength(0);
  });
});
