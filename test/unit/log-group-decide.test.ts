import { describe, expect, it } from 'vitest';
import type { KeyFacts } from '../../lib/configured-key.js';
import { MalformedEventError } from '../../lib/envelope.js';
import type { Action, Decision } from '../../lib/rule.js';
import {
  decideLogGroupFixes,
  type LogGroupState,
  logGroupEncryptionRetention,
} from '../../lib/rules/log-group-encryption-retention.js';
import { ACCOUNT, params, sample, sampleWith, settingsOf } from './fixtures.js';

const NAME = '/app/payments-api/prod';
const REGION = 'eu-west-1';
const CONFIGURED_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
const OTHER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222';
const OTHER_REGION_KEY = 'arn:aws:kms:us-east-1:123456789012:key/33333333-3333-4333-8333-333333333333';
const NO_KEY_PROBLEM = 'no key is configured (DRIFTGUARD_LOG_KMS_KEY)';

const BASE_ENV = { DRIFTGUARD_LOG_KMS_KEY: CONFIGURED_KEY };

function state(overrides: Partial<LogGroupState> = {}): LogGroupState {
  return {
    target: { name: NAME, region: REGION, account: ACCOUNT },
    arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${NAME}`,
    retentionInDays: 365,
    kmsKeyId: CONFIGURED_KEY,
    exemptByTag: false,
    currentKey: undefined,
    configuredKey: { arn: CONFIGURED_KEY },
    ...overrides,
  };
}

function otherKey(facts: Omit<KeyFacts, 'arn'>, arn = OTHER_KEY): Partial<LogGroupState> {
  return { kmsKeyId: arn, currentKey: { arn, ...facts } };
}

const associate: Action = {
  api: 'logs:AssociateKmsKey',
  params: { logGroupName: NAME, kmsKeyId: CONFIGURED_KEY },
  summary: expect.any(String) as unknown as string,
  brief: 'encrypted',
};

function putRetention(days: number): Action {
  return {
    api: 'logs:PutRetentionPolicy',
    params: { logGroupName: NAME, retentionInDays: days },
    summary: expect.any(String) as unknown as string,
    brief: `retention ${days}d`,
  };
}

interface Case {
  label: string;
  overrides: Partial<LogGroupState>;
  env?: Record<string, string>;
  status: Decision['status'];
  actions: Action[];
  needsHuman?: number;
  /** Expected findings as attribute: before -> after. */
  findings?: string[];
  reason?: string | RegExp;
}

const CASES: Case[] = [
  {
    label: 'no key and no retention: associate the configured key and set the default retention',
    overrides: { kmsKeyId: undefined, retentionInDays: undefined },
    status: 'drifted',
    actions: [associate, putRetention(365)],
    findings: [`kmsKeyId: none -> ${CONFIGURED_KEY}`, 'retentionInDays: none (never expire) -> 365 days'],
    reason: 'encryption: none; retention: none (never expire)',
  },
  {
    label: 'the configured key already, retention set: compliant',
    overrides: {},
    status: 'compliant',
    actions: [],
    reason: `encrypted with ${CONFIGURED_KEY} and retained 365 days`,
  },
  {
    label: 'another enabled customer key of the same region: compliant',
    overrides: otherKey({ state: 'Enabled', manager: 'CUSTOMER' }),
    status: 'compliant',
    actions: [],
  },
  {
    label: 'another key that is disabled: associate the configured key',
    overrides: otherKey({ state: 'Disabled', manager: 'CUSTOMER' }),
    status: 'drifted',
    actions: [associate],
    findings: [`kmsKeyId: ${OTHER_KEY} (key state Disabled) -> ${CONFIGURED_KEY}`],
  },
  {
    label: 'another key pending deletion: associate the configured key',
    overrides: otherKey({ state: 'PendingDeletion', manager: 'CUSTOMER' }),
    status: 'drifted',
    actions: [associate],
    findings: [`kmsKeyId: ${OTHER_KEY} (key state PendingDeletion) -> ${CONFIGURED_KEY}`],
  },
  {
    label: 'an AWS managed key: associate the configured key',
    overrides: otherKey({ state: 'Enabled', manager: 'AWS' }),
    status: 'drifted',
    actions: [associate],
    findings: [`kmsKeyId: ${OTHER_KEY} (not a customer managed key) -> ${CONFIGURED_KEY}`],
  },
  {
    label: 'an enabled customer key of another region: associate the configured key',
    overrides: otherKey({ state: 'Enabled', manager: 'CUSTOMER' }, OTHER_REGION_KEY),
    status: 'drifted',
    actions: [associate],
    findings: [`kmsKeyId: ${OTHER_REGION_KEY} (in us-east-1, not eu-west-1) -> ${CONFIGURED_KEY}`],
  },
  {
    label: 'a key that does not exist: associate the configured key',
    overrides: otherKey({ problem: 'the key does not exist' }),
    status: 'drifted',
    actions: [associate],
    findings: [`kmsKeyId: ${OTHER_KEY} (the key does not exist) -> ${CONFIGURED_KEY}`],
  },
  {
    label: 'no key and no configured key available: a human must act, retention is still fixed',
    overrides: { kmsKeyId: undefined, retentionInDays: undefined, configuredKey: { problem: NO_KEY_PROBLEM } },
    env: {},
    status: 'drifted',
    actions: [putRetention(365)],
    needsHuman: 1,
    findings: [
      'kmsKeyId: none -> a customer managed key (none available)',
      'retentionInDays: none (never expire) -> 365 days',
    ],
  },
  {
    label: 'a disabled key and no configured key available: a human must act',
    overrides: { ...otherKey({ state: 'Disabled', manager: 'CUSTOMER' }), configuredKey: { problem: NO_KEY_PROBLEM } },
    env: {},
    status: 'drifted',
    actions: [],
    needsHuman: 1,
  },
  {
    label: 'an enabled customer key and no configured key: compliant',
    overrides: { ...otherKey({ state: 'Enabled', manager: 'CUSTOMER' }), configuredKey: { problem: NO_KEY_PROBLEM } },
    env: {},
    status: 'compliant',
    actions: [],
  },
  {
    label: 'no retention: DRIFTGUARD_LOG_RETENTION_DAYS',
    overrides: { retentionInDays: undefined },
    env: { ...BASE_ENV, DRIFTGUARD_LOG_RETENTION_DAYS: '731' },
    status: 'drifted',
    actions: [putRetention(731)],
    findings: ['retentionInDays: none (never expire) -> 731 days'],
    reason: 'retention: none (never expire)',
  },
  {
    label: 'retention below the minimum: the minimum',
    overrides: { retentionInDays: 7 },
    env: { ...BASE_ENV, DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '90', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '731' },
    status: 'drifted',
    actions: [putRetention(90)],
    findings: ['retentionInDays: 7 days -> 90 days'],
  },
  {
    label: 'retention above the maximum: the maximum',
    overrides: { retentionInDays: 3653 },
    env: { ...BASE_ENV, DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '90', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '731' },
    status: 'drifted',
    actions: [putRetention(731)],
    findings: ['retentionInDays: 3653 days -> 731 days'],
  },
  {
    label: 'retention inside the bounds: compliant',
    overrides: { retentionInDays: 180 },
    env: { ...BASE_ENV, DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '90', DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '731' },
    status: 'compliant',
    actions: [],
    reason: `encrypted with ${CONFIGURED_KEY} and retained 180 days (bounds 90..731)`,
  },
  {
    label: 'any retention without bounds: compliant',
    overrides: { retentionInDays: 1 },
    status: 'compliant',
    actions: [],
  },
  {
    label: 'exempt by tag, however drifted: ignored',
    overrides: { exemptByTag: true, kmsKeyId: undefined, retentionInDays: undefined },
    status: 'ignored',
    actions: [],
    reason: 'exempt: tagged driftguard:exempt',
  },
];

const DECLARED_ACTIONS = Object.keys(logGroupEncryptionRetention.commands);

describe('decideLogGroupFixes', () => {
  it.each(CASES)('$label', ({ overrides, env, status, actions, needsHuman, findings, reason }) => {
    // Prepare
    const settings = settingsOf(env ?? BASE_ENV);

    // Act
    const decision = decideLogGroupFixes(state(overrides), settings);

    // Assess
    expect(decision.status).toBe(status);
    expect(decision.actions).toEqual(actions);
    expect(decision.needsHuman).toHaveLength(needsHuman ?? 0);
    if (findings) expect(decision.findings.map((f) => `${f.attribute}: ${f.before} -> ${f.after}`)).toEqual(findings);
    if (status !== 'drifted') expect(decision.findings).toEqual([]);
    if (reason !== undefined) expect(decision.reason).toMatch(reason);
  });

  it('tells the human which key, region and group, and why no key is available', () => {
    // Prepare
    const settings = settingsOf({});

    // Act
    const decision = decideLogGroupFixes(
      state({ kmsKeyId: undefined, configuredKey: { problem: NO_KEY_PROBLEM } }),
      settings,
    );

    // Assess
    expect(decision.needsHuman).toEqual([
      `Associate a customer managed KMS key of eu-west-1 with ${NAME}: ${NO_KEY_PROBLEM}.`,
    ]);
  });

  it('writes summaries with before -> after', () => {
    // Act
    const decision = decideLogGroupFixes(
      state({ kmsKeyId: undefined, retentionInDays: undefined }),
      settingsOf(BASE_ENV),
    );

    // Assess
    expect(decision.actions.map((a) => a.summary)).toEqual([
      `KMS key none -> ${CONFIGURED_KEY}`,
      'retention none (never expire) -> 365 days',
    ]);
  });

  it.each(CASES)('only plans actions the rule declares permissions for: $label', ({ overrides, env }) => {
    // Act
    const decision = decideLogGroupFixes(state(overrides), settingsOf(env ?? BASE_ENV));

    // Assess
    for (const action of decision.actions) expect(DECLARED_ACTIONS).toContain(action.api);
  });
});

describe('logGroupEncryptionRetention.preScreen', () => {
  const settings = settingsOf({ DRIFTGUARD_EXEMPT_LOG_GROUPS: '/aws/lambda/, /ops/break-glass/' });

  it.each([
    ['/ops/break-glass/audit', '/ops/break-glass/'],
    ['/aws/lambda/fn', '/aws/lambda/'],
  ])('ignores %s, exempt by the prefix %s', (name, prefix) => {
    // Act
    const decision = logGroupEncryptionRetention.preScreen?.({ name, region: REGION, account: ACCOUNT }, settings);

    // Assess
    expect(decision).toEqual({
      status: 'ignored',
      reason: `exempt: name starts with ${prefix}`,
      findings: [],
      actions: [],
      needsHuman: [],
    });
  });

  it.each(['/app/payments-api/prod', '/aws/lambd', '/ops/break-glass'])('inspects %s', (name) => {
    // Act
    const decision = logGroupEncryptionRetention.preScreen?.({ name, region: REGION, account: ACCOUNT }, settings);

    // Assess
    expect(decision).toBeUndefined();
  });
});

describe('logGroupEncryptionRetention.target', () => {
  it('takes logGroupName, the event region and the envelope account', () => {
    // Act
    const target = logGroupEncryptionRetention.target(sample('logs-CreateLogGroup-plain'));

    // Assess
    expect(target).toEqual({ name: '/app/payments-api/prod', region: 'eu-west-1', account: ACCOUNT });
  });

  it.each([
    ['without suffix', 'arn:aws:logs:us-east-1:123456789012:log-group:/app/inventory/prod'],
    ['with the :* suffix', 'arn:aws:logs:us-east-1:123456789012:log-group:/app/inventory/prod:*'],
  ])('takes the group name from a resourceIdentifier ARN %s', (_label, resourceIdentifier) => {
    // Prepare
    const event = sampleWith('logs-AssociateKmsKey-by-resourceIdentifier', (raw) => {
      params(raw).resourceIdentifier = resourceIdentifier;
    });

    // Act
    const target = logGroupEncryptionRetention.target(event);

    // Assess
    expect(target).toEqual({ name: '/app/inventory/prod', region: 'us-east-1', account: ACCOUNT });
  });

  it.each([
    ['neither logGroupName nor resourceIdentifier', {}],
    ['an empty logGroupName', { logGroupName: '' }],
  ])('throws MalformedEventError with %s', (_label, requestParameters) => {
    // Prepare
    const event = sampleWith('logs-AssociateKmsKey-by-resourceIdentifier', (raw) => {
      raw.detail.requestParameters = requestParameters;
    });

    // Act
    const act = () => logGroupEncryptionRetention.target(event);

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow(
      'AssociateKmsKey event e0d2b6a1-0010-4a3b-8c2d-000000000010: detail.requestParameters has no logGroupName',
    );
  });

  it('skips a resourceIdentifier that is not a log group (query results are out of scope)', () => {
    // Prepare
    const event = sampleWith('logs-AssociateKmsKey-by-resourceIdentifier', (raw) => {
      raw.detail.requestParameters = { resourceIdentifier: 'arn:aws:logs:us-east-1:123456789012:query-result:*' };
    });

    // Act
    const target = logGroupEncryptionRetention.target(event);

    // Assess
    expect(target).toEqual({ skip: expect.stringMatching(/is not a log group/) });
  });

  it('throws MalformedEventError when requestParameters is null', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      raw.detail.requestParameters = null;
    });

    // Act
    const act = () => logGroupEncryptionRetention.target(event);

    // Assess
    expect(act).toThrow(MalformedEventError);
  });
});

describe('logGroupEncryptionRetention.describe', () => {
  it('gives the ARN and a console link that double-encodes the name', () => {
    // Act
    const resource = logGroupEncryptionRetention.describe({ name: NAME, region: REGION, account: ACCOUNT });

    // Assess
    expect(resource).toEqual({
      type: 'log group',
      id: NAME,
      arn: `arn:aws:logs:eu-west-1:123456789012:log-group:${NAME}`,
      region: REGION,
      consoleUrl:
        'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fapp$252Fpayments-api$252Fprod',
    });
  });
});

describe('key usage is recorded when the key changes', () => {
  const withTable = { ...BASE_ENV, DRIFTGUARD_STATE_TABLE: 'driftguard-state' };

  it.each([
    ['CreateLogGroup', 'logs-CreateLogGroup-plain', false],
    ['PutRetentionPolicy', 'logs-PutRetentionPolicy', true],
  ])('an event of %s marks the key unchanged: %s', (_label, file, keyUnchanged) => {
    // Act
    const target = logGroupEncryptionRetention.target(sample(file));

    // Assess
    expect(target).toMatchObject({ name: expect.any(String) });
    expect((target as { keyUnchanged?: boolean }).keyUnchanged ?? false).toBe(keyUnchanged);
  });

  it.each([
    // [label, key unchanged by the event, state, recorded key or none]
    ['a group the engine encrypts', true, { kmsKeyId: undefined }, CONFIGURED_KEY],
    ['a group whose key is set by the event', false, {}, CONFIGURED_KEY],
    [
      'a group whose own usable key is set by the event',
      false,
      otherKey({ state: 'Enabled', manager: 'CUSTOMER' }),
      OTHER_KEY,
    ],
    ["a retention change on a group encrypted with the stack's key", true, {}, undefined],
    ["a retention fix on a group encrypted with the stack's key", true, { retentionInDays: undefined }, undefined],
    // The event that set a customer key may have recorded nothing (exempt then, notify mode): recorded again.
    [
      'a retention change on a group with its own usable key',
      true,
      otherKey({ state: 'Enabled', manager: 'CUSTOMER' }),
      OTHER_KEY,
    ],
    [
      'a retention fix on a group with its own usable key',
      true,
      { ...otherKey({ state: 'Enabled', manager: 'CUSTOMER' }), retentionInDays: undefined },
      OTHER_KEY,
    ],
    ['a sweep (no event): always', undefined, {}, CONFIGURED_KEY],
  ])('%s: %s', (_label, keyUnchanged, overrides, recorded) => {
    // Prepare
    const target = {
      name: NAME,
      region: REGION,
      account: ACCOUNT,
      ...(keyUnchanged === undefined ? {} : { keyUnchanged }),
    };

    // Act
    const decision = decideLogGroupFixes(state({ target, ...overrides }), settingsOf(withTable));

    // Assess
    const keys = (decision.bookkeeping ?? []).flatMap((record) => (record.kind === 'key-usage' ? [record.keyArn] : []));
    expect(keys).toEqual(recorded === undefined ? [] : [recorded]);
  });
});
