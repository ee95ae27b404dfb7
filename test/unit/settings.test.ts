import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clampRetention,
  ignoredSettingWarnings,
  LOG_RETENTION_DAYS_ALLOWED,
  loadSettings,
  SettingsError,
} from '../../lib/settings.js';

const ALLOWED_LIST = LOG_RETENTION_DAYS_ALLOWED.join(', ');

function loadError(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error(`loadSettings accepted ${JSON.stringify(env)}`);
}

describe('loadSettings', () => {
  it('uses the documented defaults when no DRIFTGUARD_ variable is set', () => {
    // Act
    const settings = loadSettings({});

    // Assess
    expect(settings).toEqual({
      mode: 'enforce',
      logKmsKey: undefined,
      logRetentionDays: 365,
      logRetentionMinDays: undefined,
      logRetentionMaxDays: undefined,
      noticeTopicArn: undefined,
      exemptTag: 'driftguard:exempt',
      exemptLogGroupPrefixes: [],
      stateTable: undefined,
      engineRoleArns: [],
      mfaDeactivateKeys: false,
      mfaQuarantinePolicyArn: undefined,
      forwardRoleArn: undefined,
      forwarderName: 'driftguard-forward',
      forwardRegions: undefined,
      customResource: { stackId: undefined, loopbackResponseUrl: false },
      stage: undefined,
      activityTrail: undefined,
      activityLogGroup: undefined,
      activityDeliveryRoleArn: undefined,
      guarddutyEnableMissing: true,
    });
  });

  it('treats empty and blank values as unset', () => {
    // Prepare
    const env = { DRIFTGUARD_MODE: '', DRIFTGUARD_LOG_RETENTION_DAYS: '   ', DRIFTGUARD_EXEMPT_TAG: ' ' };

    // Act
    const settings = loadSettings(env);

    // Assess
    expect(settings).toMatchObject({ mode: 'enforce', logRetentionDays: 365, exemptTag: 'driftguard:exempt' });
  });

  it.each([
    ['DRIFTGUARD_MODE', 'enforce', { mode: 'enforce' }],
    ['DRIFTGUARD_MODE', 'notify', { mode: 'notify' }],
    ['DRIFTGUARD_MODE', ' notify ', { mode: 'notify' }],
    [
      'DRIFTGUARD_LOG_KMS_KEY',
      'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      { logKmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    ],
    [
      'DRIFTGUARD_LOG_KMS_KEY',
      'arn:aws:kms:eu-west-1:123456789012:alias/driftguard/logs',
      { logKmsKey: 'arn:aws:kms:eu-west-1:123456789012:alias/driftguard/logs' },
    ],
    ['DRIFTGUARD_LOG_KMS_KEY', 'alias/driftguard-logs', { logKmsKey: 'alias/driftguard-logs' }],
    [
      'DRIFTGUARD_LOG_KMS_KEY',
      'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd',
      { logKmsKey: 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd' },
    ],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '1', { logRetentionDays: 1 }],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '3653', { logRetentionDays: 3653 }],
    ['DRIFTGUARD_LOG_RETENTION_MIN_DAYS', '30', { logRetentionMinDays: 30, logRetentionDays: 365 }],
    ['DRIFTGUARD_LOG_RETENTION_MAX_DAYS', '731', { logRetentionMaxDays: 731, logRetentionDays: 365 }],
    [
      'DRIFTGUARD_NOTICE_TOPIC_ARN',
      'arn:aws:sns:eu-west-1:123456789012:driftguard-notices',
      { noticeTopicArn: 'arn:aws:sns:eu-west-1:123456789012:driftguard-notices' },
    ],
    [
      'DRIFTGUARD_NOTICE_TOPIC_ARN',
      'arn:aws:sns:eu-west-1:123456789012:driftguard-notices.fifo',
      { noticeTopicArn: 'arn:aws:sns:eu-west-1:123456789012:driftguard-notices.fifo' },
    ],
    ['DRIFTGUARD_EXEMPT_TAG', 'team:keep-forever', { exemptTag: 'team:keep-forever' }],
    ['DRIFTGUARD_EXEMPT_TAG', 'x'.repeat(128), { exemptTag: 'x'.repeat(128) }],
    ['DRIFTGUARD_EXEMPT_LOG_GROUPS', '/aws/lambda/', { exemptLogGroupPrefixes: ['/aws/lambda/'] }],
    ['DRIFTGUARD_STATE_TABLE', 'driftguard-prod-state', { stateTable: 'driftguard-prod-state' }],
    [
      'DRIFTGUARD_ENGINE_ROLE_ARNS',
      'arn:aws:iam::123456789012:role/driftguard-prod-sweep',
      { engineRoleArns: ['arn:aws:iam::123456789012:role/driftguard-prod-sweep'] },
    ],
    [
      'DRIFTGUARD_ENGINE_ROLE_ARNS',
      ' arn:aws:iam::123456789012:role/a , arn:aws-us-gov:iam::123456789012:role/ops/b+c=.@_-,',
      { engineRoleArns: ['arn:aws:iam::123456789012:role/a', 'arn:aws-us-gov:iam::123456789012:role/ops/b+c=.@_-'] },
    ],
    [
      'DRIFTGUARD_ACTIVITY_LOG_GROUP',
      'aws-cloudtrail-logs-123456789012-a1b2c3d4',
      { activityLogGroup: 'aws-cloudtrail-logs-123456789012-a1b2c3d4' },
    ],
    [
      'DRIFTGUARD_ACTIVITY_LOG_GROUP',
      '/aws/cloudtrail/org_trail#1',
      { activityLogGroup: '/aws/cloudtrail/org_trail#1' },
    ],
    // No longer read: a prefix is no identity.
    ['DRIFTGUARD_ENGINE_ROLE_PREFIX', 'driftguard-prod-', { engineRoleArns: [] }],
    ['DRIFTGUARD_ENGINE_ROLE_PREFIX', 'driftguard/prod', { engineRoleArns: [] }],
  ])('accepts %s=%j', (name, value, expected) => {
    // Act
    const settings = loadSettings({ [name]: value });

    // Assess
    expect(settings).toMatchObject(expected);
  });

  it.each([
    ['DRIFTGUARD_MODE', 'ENFORCE', 'values are enforce, notify'],
    ['DRIFTGUARD_MODE', 'dry-run', 'values are enforce, notify'],
    ['DRIFTGUARD_LOG_KMS_KEY', '1234abcd-12ab-34cd-56ef-1234567890ab', 'a KMS key ARN, an alias ARN, or an alias name'],
    ['DRIFTGUARD_LOG_KMS_KEY', 'arn:aws:kms:eu-west-1:123:key/abc', 'a KMS key ARN, an alias ARN, or an alias name'],
    [
      'DRIFTGUARD_LOG_KMS_KEY',
      'arn:aws:sns:eu-west-1:123456789012:key/abc',
      'a KMS key ARN, an alias ARN, or an alias name',
    ],
    ['DRIFTGUARD_NOTICE_TOPIC_ARN', 'driftguard-notices', 'an SNS topic ARN'],
    ['DRIFTGUARD_NOTICE_TOPIC_ARN', 'arn:aws:sqs:eu-west-1:123456789012:queue', 'an SNS topic ARN'],
    ['DRIFTGUARD_EXEMPT_TAG', 'x'.repeat(129), 'a tag key of 1 to 128 characters'],
    ['DRIFTGUARD_STATE_TABLE', 'ab', 'a DynamoDB table name'],
    ['DRIFTGUARD_STATE_TABLE', 'state table', 'a DynamoDB table name'],
    ['DRIFTGUARD_ENGINE_ROLE_ARNS', 'driftguard-prod-sweep', 'comma-separated IAM role ARNs'],
    [
      'DRIFTGUARD_ENGINE_ROLE_ARNS',
      'arn:aws:iam::123456789012:role/driftguard-prod-*',
      'comma-separated IAM role ARNs',
    ],
    ['DRIFTGUARD_ENGINE_ROLE_ARNS', 'arn:aws:iam::123456789012:user/alice', 'comma-separated IAM role ARNs'],
    ['DRIFTGUARD_ENGINE_ROLE_ARNS', 'arn:aws:sts::123456789012:assumed-role/a/b', 'comma-separated IAM role ARNs'],
    ['DRIFTGUARD_ENGINE_ROLE_ARNS', 'arn:aws:iam::123:role/a', 'comma-separated IAM role ARNs'],
    ['DRIFTGUARD_ACTIVITY_LOG_GROUP', 'arn:aws:logs:eu-west-1:123456789012:log-group:x', 'a log group name'],
    ['DRIFTGUARD_ACTIVITY_LOG_GROUP', 'x'.repeat(513), 'a log group name'],
  ])('rejects %s=%j naming the variable and the allowed values', (name, value, allowed) => {
    // Act
    const error = loadError({ [name]: value });

    // Assess
    expect(error.name).toBe('SettingsError');
    expect(error.message).toContain(`${name}=${JSON.stringify(value)}`);
    expect(error.message).toContain(allowed);
  });

  it.each([
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '0'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '2'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '366'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '3654'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '-1'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', 'forever'],
    ['DRIFTGUARD_LOG_RETENTION_DAYS', '365 days'],
    ['DRIFTGUARD_LOG_RETENTION_MIN_DAYS', '10'],
    ['DRIFTGUARD_LOG_RETENTION_MIN_DAYS', 'one'],
    ['DRIFTGUARD_LOG_RETENTION_MAX_DAYS', '1000'],
    ['DRIFTGUARD_LOG_RETENTION_MAX_DAYS', '7.5'],
  ])('rejects retention %s=%j, listing the values AWS allows', (name, value) => {
    // Act
    const error = loadError({ [name]: value });

    // Assess
    expect(error.message).toContain(`${name}=${JSON.stringify(value)} is invalid`);
    expect(error.message).toContain(`values (days) are ${ALLOWED_LIST}`);
  });

  it('rejects a minimum greater than the maximum, naming both variables', () => {
    // Act
    const error = loadError({ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '731', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '365' });

    // Assess
    expect(error.message).toContain('DRIFTGUARD_LOG_RETENTION_MIN_DAYS=731');
    expect(error.message).toContain('DRIFTGUARD_LOG_RETENTION_MAX_DAYS=365');
  });

  it('accepts a minimum equal to the maximum', () => {
    // Act
    const settings = loadSettings({
      DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '90',
      DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '90',
    });

    // Assess
    expect(settings).toMatchObject({ logRetentionMinDays: 90, logRetentionMaxDays: 90, logRetentionDays: 90 });
  });

  it.each([
    [
      { DRIFTGUARD_LOG_RETENTION_DAYS: '30', DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '90' },
      'DRIFTGUARD_LOG_RETENTION_DAYS=30',
      '(90..unset)',
    ],
    [
      { DRIFTGUARD_LOG_RETENTION_DAYS: '731', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '365' },
      'DRIFTGUARD_LOG_RETENTION_DAYS=731',
      '(unset..365)',
    ],
    [
      {
        DRIFTGUARD_LOG_RETENTION_DAYS: '400',
        DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '30',
        DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '365',
      },
      'DRIFTGUARD_LOG_RETENTION_DAYS=400',
      '(30..365)',
    ],
  ])('rejects DAYS outside MIN..MAX: %j', (env, named, bounds) => {
    // Act
    const error = loadError(env);

    // Assess
    expect(error.message).toContain(named);
    expect(error.message).toContain(`is outside DRIFTGUARD_LOG_RETENTION_MIN_DAYS..MAX_DAYS ${bounds}`);
  });

  it.each([
    [{ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '400' }, 400],
    [{ DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '90' }, 90],
    [{ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '30', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '90' }, 90],
    [{ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '545', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '3653' }, 545],
    [{ DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '30', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '731' }, 365],
  ])('clamps the default 365 days into the bounds when only bounds are set: %j -> %i', (env, days) => {
    // Act
    const settings = loadSettings(env);

    // Assess
    expect(settings.logRetentionDays).toBe(days);
  });

  it.each([
    ['/aws/lambda/, /ops/break-glass/ ,,  /tmp/', ['/aws/lambda/', '/ops/break-glass/', '/tmp/']],
    ['  /only  ', ['/only']],
    [' , , ', []],
  ])('parses exempt log group prefixes from %j', (value, prefixes) => {
    // Act
    const settings = loadSettings({ DRIFTGUARD_EXEMPT_LOG_GROUPS: value });

    // Assess
    expect(settings.exemptLogGroupPrefixes).toEqual(prefixes);
  });
});

describe('clampRetention', () => {
  it.each([
    [365, undefined, undefined, 365],
    [1, 30, undefined, 30],
    [30, 30, undefined, 30],
    [3653, undefined, 731, 731],
    [731, undefined, 731, 731],
    [7, 30, 365, 30],
    [400, 30, 365, 365],
    [90, 30, 365, 90],
  ])('clampRetention(%j, min %j, max %j) = %j', (days, min, max, expected) => {
    // Act
    const clamped = clampRetention(days, min, max);

    // Assess
    expect(clamped).toBe(expected);
  });
});

describe('ignoredSettingWarnings', () => {
  it('says nothing when no ignored setting is set', () => {
    // Act
    const warnings = ignoredSettingWarnings({ DRIFTGUARD_ENGINE_ROLE_PREFIX: ' ', DRIFTGUARD_MODE: 'notify' });

    // Assess
    expect(warnings).toEqual([]);
  });

  it('warns once that DRIFTGUARD_ENGINE_ROLE_PREFIX is ignored, and names what replaced it', () => {
    // Act
    const warnings = ignoredSettingWarnings({ DRIFTGUARD_ENGINE_ROLE_PREFIX: 'driftguard-prod-' });

    // Assess
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^DRIFTGUARD_ENGINE_ROLE_PREFIX is ignored: .*DRIFTGUARD_ENGINE_ROLE_ARNS$/);
  });
});

describe('the README settings table', () => {
  it('documents every DRIFTGUARD_ variable the engine reads', () => {
    // Prepare
    const sources = readdirSync('lib', { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join('lib', file), 'utf8'));
    const variables = new Set(sources.flatMap((source) => source.match(/DRIFTGUARD_[A-Z_]+[A-Z]/g) ?? []));
    const readme = readFileSync('README.md', 'utf8');

    // Act
    const undocumented = [...variables].filter((name) => !readme.includes(`| \`${name}\` |`));

    // Assess
    expect(variables).toContain('DRIFTGUARD_ENGINE_ROLE_ARNS');
    expect(undocumented).toEqual([]);
  });
});
