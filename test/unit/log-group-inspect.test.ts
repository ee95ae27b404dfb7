/** inspect(): what the rule reads, and which KMS errors mean a bad key versus a call to retry. */
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { logGroupEncryptionRetention as rule } from '../../lib/rules/log-group-encryption-retention.js';
import { loadSettings } from '../../lib/settings.js';

const CONFIGURED = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
const OTHER = 'arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222';
const target = { name: '/app/x', region: 'eu-west-1', account: '123456789012' };
const logsMock = mockClient(CloudWatchLogsClient);
const kmsMock = mockClient(KMSClient);

function context(env: Record<string, string> = {}) {
  return {
    settings: loadSettings({ DRIFTGUARD_LOG_KMS_KEY: CONFIGURED, ...env }),
    aws: createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  };
}

async function inspectExisting(env: Record<string, string> = {}) {
  const state = await rule.inspect(target, context(env));
  if (state === undefined) throw new Error('expected the group to exist');
  return state;
}

function awsError(name: string) {
  return Object.assign(new Error(`${name} happened`), { name });
}

describe('log-group inspect', () => {
  beforeEach(() => {
    logsMock.reset();
    kmsMock.reset();
    logsMock.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        {
          logGroupName: '/app/x',
          logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/app/x',
          kmsKeyId: OTHER,
        },
      ],
    });
    logsMock.on(ListTagsForResourceCommand).resolves({ tags: {} });
  });

  it('passes throttling on the group’s key up (retry), instead of replacing a good key', async () => {
    kmsMock.on(DescribeKeyCommand).rejects(awsError('ThrottlingException'));
    await expect(rule.inspect(target, context())).rejects.toThrow('ThrottlingException happened');
  });

  it('asks a human, and does not replace the key, when the key cannot be read', async () => {
    kmsMock.on(DescribeKeyCommand).rejects(awsError('AccessDeniedException'));
    const settings = loadSettings({ DRIFTGUARD_LOG_KMS_KEY: CONFIGURED });
    const decision = rule.decide(await inspectExisting(), settings);
    expect(decision.actions.map((a) => a.api)).toEqual(['logs:PutRetentionPolicy']);
    expect(decision.needsHuman[0]).toMatch(/may not read it/);
  });

  it('treats a key that no longer exists as drift', async () => {
    kmsMock.on(DescribeKeyCommand).rejects(awsError('NotFoundException'));
    const decision = rule.decide(await inspectExisting(), loadSettings({ DRIFTGUARD_LOG_KMS_KEY: CONFIGURED }));
    expect(decision.findings[0]).toEqual({
      attribute: 'kmsKeyId',
      before: `${OTHER} (the key does not exist)`,
      after: CONFIGURED,
    });
  });

  it('does not exempt a group for a tag key that is an Object builtin (toString)', async () => {
    kmsMock
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: 'k', Arn: OTHER, KeyState: 'Enabled', KeyManager: 'CUSTOMER' } });
    const state = await rule.inspect(target, context({ DRIFTGUARD_EXEMPT_TAG: 'toString' }));
    expect(state?.exemptByTag).toBe(false);
  });

  it('refuses a configured alias whose key is disabled', async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: '/app/x', logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/app/x' }],
    });
    kmsMock
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: 'k', Arn: OTHER, KeyState: 'Disabled', KeyManager: 'CUSTOMER' } });
    const state = await rule.inspect(target, context({ DRIFTGUARD_LOG_KMS_KEY: 'alias/logs-key' }));
    expect(state?.configuredKey).toEqual({
      problem: expect.stringMatching(/alias\/logs-key cannot be used in eu-west-1: key state Disabled/),
    });
  });

  it('reads nothing more when the group is gone', async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/app/x-other' }] });
    expect(await rule.inspect(target, context())).toBeUndefined();
    expect(logsMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
    expect(kmsMock.calls()).toHaveLength(0);
  });
});

describe('settings this rule relies on', () => {
  it.each(['alias/aws/logs', 'arn:aws:kms:eu-west-1:123456789012:alias/aws/logs'])(
    'refuses the AWS managed key %s',
    (key) => {
      expect(() => loadSettings({ DRIFTGUARD_LOG_KMS_KEY: key })).toThrow(
        /DRIFTGUARD_LOG_KMS_KEY=.*customer managed keys/,
      );
    },
  );

  it.each(['0x16D', '3.65e2', '365.0', ' 365x'])('refuses the retention spelling %s', (days) => {
    expect(() => loadSettings({ DRIFTGUARD_LOG_RETENTION_DAYS: days })).toThrow(/DRIFTGUARD_LOG_RETENTION_DAYS/);
  });
});
