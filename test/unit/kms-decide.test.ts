/** decideKeyFixes and the KMS rule's edges: which keys are protected, what is restored, what is read to decide. */
import { DynamoDBClient, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  type Tag,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import {
  CLOUDTRAIL_DESCRIBE_SID,
  CLOUDTRAIL_STATEMENT_SID,
  cloudTrailStatements,
  LOGS_STATEMENT_SID,
  logsStatement,
  type PolicyDocument,
  type PolicyStatement,
  parsePolicy,
} from '../../lib/key-policy.js';
import { type KeyDependent, KeyUsageStore, recordKeyUsage } from '../../lib/key-usage.js';
import type { Decision, Severity, SweepContext } from '../../lib/rule.js';
import {
  decideKeyFixes,
  type KeyAction,
  type KeyState,
  type KeyTarget,
  keyProtection,
  keySweep,
  requiredStatements,
} from '../../lib/rules/kms-key-protection.js';
import { loadSettings } from '../../lib/settings.js';
import { ACCOUNT, params, type RawEvent, rawSample, sample, sampleWith } from './fixtures.js';

const REGION = 'eu-west-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
/** A multi-Region key's id, as KMS makes them. */
const MRK_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/22222222-2222-4222-8222-222222222222`;
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org-audit-trail`;
const TABLE = 'driftguard-state';
const DELETION_DATE = '2025-03-10T14:00:00.000Z';

const LOG_GROUP: KeyDependent = { type: 'log-group', region: REGION, id: '/app/payments-api/prod', seenAt: 'x' };
const TRAIL: KeyDependent = { type: 'trail', region: REGION, id: TRAIL_ARN, seenAt: 'x' };

const ADMIN: PolicyStatement = {
  Sid: 'AccountAdministers',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};
const AUDIT: PolicyStatement = {
  Sid: 'SecurityAuditReads',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/security-audit` },
  Action: ['kms:DescribeKey', 'kms:GetKeyPolicy'],
  Resource: '*',
};
const LOGS = logsStatement(REGION, ACCOUNT).statement;
const DENY_LOGS: PolicyStatement = {
  Sid: 'NoLogs',
  Effect: 'Deny',
  Principal: { Service: `logs.${REGION}.amazonaws.com` },
  Action: 'kms:*',
  Resource: '*',
};

const BY_LOG_GROUP = 'in use by log groups /app/payments-api/prod';
const BY_TAG = 'tagged driftguard:protected=true';
const BY_STACK = "the stack's log key";

const policyText = (...statements: PolicyStatement[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

function keyTarget(eventName = 'DisableKey'): KeyTarget {
  return { keyArn: KEY_ARN, region: REGION, account: ACCOUNT, eventName };
}

/** A protected key in use by a log group, enabled, nothing else read. */
function state(overrides: Partial<KeyState> = {}): KeyState {
  return {
    target: keyTarget(),
    protectedBecause: BY_LOG_GROUP,
    dependents: [LOG_GROUP],
    keyState: 'Enabled',
    deletionDate: undefined,
    rotationEnabled: undefined,
    policy: undefined,
    ...overrides,
  };
}

const BY_TAG_ONLY: Partial<KeyState> = { protectedBecause: BY_TAG, dependents: [] };
const BY_STACK_ONLY: Partial<KeyState> = { protectedBecause: BY_STACK, dependents: [] };

interface Case {
  label: string;
  overrides: Partial<KeyState>;
  status: Decision['status'];
  apis: string[];
  needsHuman?: number;
  severity?: Severity;
  reason?: string | RegExp;
}

const CASES: Case[] = [
  {
    label: 'not protected, even pending deletion: ignored',
    overrides: {
      protectedBecause: undefined,
      dependents: [],
      keyState: 'PendingDeletion',
      deletionDate: DELETION_DATE,
    },
    status: 'ignored',
    apis: [],
    reason: /^not-protected/,
  },
  {
    label: 'not protected with a policy that lacks everything: ignored',
    overrides: { protectedBecause: undefined, dependents: [], policy: policyText(ADMIN), rotationEnabled: false },
    status: 'ignored',
    apis: [],
    reason: /^not-protected: .*key\/1234abcd/,
  },
  {
    label: 'the key is gone: ignored',
    overrides: { protectedBecause: 'unknown (the key is gone)', dependents: [], keyState: undefined },
    status: 'ignored',
    apis: [],
    reason: `key ${KEY_ARN} no longer exists`,
  },
  {
    label: 'pending deletion, in use: deletion cancelled, key enabled, critical',
    overrides: { keyState: 'PendingDeletion', deletionDate: DELETION_DATE },
    status: 'drifted',
    apis: ['kms:CancelKeyDeletion', 'kms:EnableKey'],
    severity: 'critical',
    reason: `keyState drifted; protected: ${BY_LOG_GROUP}`,
  },
  {
    label: 'pending deletion, used by a trail: critical',
    overrides: { keyState: 'PendingDeletion', deletionDate: DELETION_DATE, dependents: [TRAIL] },
    status: 'drifted',
    apis: ['kms:CancelKeyDeletion', 'kms:EnableKey'],
    severity: 'critical',
  },
  {
    label: 'pending deletion, protected only by its tag: high',
    overrides: { ...BY_TAG_ONLY, keyState: 'PendingDeletion', deletionDate: DELETION_DATE },
    status: 'drifted',
    apis: ['kms:CancelKeyDeletion', 'kms:EnableKey'],
    severity: 'high',
  },
  {
    label: 'pending deletion, the stack’s key with nothing recorded: high',
    overrides: { ...BY_STACK_ONLY, keyState: 'PendingDeletion', deletionDate: DELETION_DATE },
    status: 'drifted',
    apis: ['kms:CancelKeyDeletion', 'kms:EnableKey'],
    severity: 'high',
  },
  {
    label: 'disabled, in use: enabled, critical',
    overrides: { keyState: 'Disabled' },
    status: 'drifted',
    apis: ['kms:EnableKey'],
    severity: 'critical',
  },
  {
    label: 'disabled, protected only by its tag: enabled, high',
    overrides: { ...BY_TAG_ONLY, keyState: 'Disabled' },
    status: 'drifted',
    apis: ['kms:EnableKey'],
    severity: 'high',
  },
  {
    label: 'rotation off: rotation on',
    overrides: { rotationEnabled: false },
    status: 'drifted',
    apis: ['kms:EnableKeyRotation'],
    severity: 'critical',
    reason: `keyRotation drifted; protected: ${BY_LOG_GROUP}`,
  },
  {
    label: 'disabled and rotation off: enabled first, then rotation on',
    overrides: { keyState: 'Disabled', rotationEnabled: false },
    status: 'drifted',
    apis: ['kms:EnableKey', 'kms:EnableKeyRotation'],
    severity: 'critical',
  },
  {
    label: 'rotation on: compliant',
    overrides: { rotationEnabled: true },
    status: 'compliant',
    apis: [],
    reason: `key ${KEY_ARN} is enabled and usable by what depends on it`,
  },
  {
    label: 'enabled, nothing else read: compliant',
    overrides: {},
    status: 'compliant',
    apis: [],
  },
  {
    label: 'policy without the logs statement, used by a log group: statement put back',
    overrides: { policy: policyText(ADMIN, AUDIT) },
    status: 'drifted',
    apis: ['kms:PutKeyPolicy'],
    severity: 'critical',
    reason: `keyPolicy drifted; protected: ${BY_LOG_GROUP}`,
  },
  {
    label: 'policy without the logs statement, the stack’s key: statement put back, high',
    overrides: { ...BY_STACK_ONLY, policy: policyText(ADMIN) },
    status: 'drifted',
    apis: ['kms:PutKeyPolicy'],
    severity: 'high',
  },
  {
    label: 'policy without the CloudTrail statements, used by a trail: statements put back',
    overrides: { dependents: [TRAIL], policy: policyText(ADMIN, LOGS) },
    status: 'drifted',
    apis: ['kms:PutKeyPolicy'],
    severity: 'critical',
  },
  {
    label: 'policy with the logs statement: compliant',
    overrides: { policy: policyText(ADMIN, LOGS, AUDIT) },
    status: 'compliant',
    apis: [],
  },
  {
    label: 'a tagged key nothing is recorded as using: its policy is its author’s business',
    overrides: { ...BY_TAG_ONLY, policy: policyText(ADMIN) },
    status: 'compliant',
    apis: [],
  },
  {
    label: 'policy with a Deny for CloudWatch Logs: a human, no policy written',
    overrides: { policy: policyText(ADMIN, LOGS, DENY_LOGS) },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    reason: `key drifted; protected: ${BY_LOG_GROUP}`,
  },
  {
    label: 'policy without the logs statement and with a Deny: statement put back, Deny left to a human',
    overrides: { policy: policyText(DENY_LOGS, ADMIN) },
    status: 'drifted',
    apis: ['kms:PutKeyPolicy'],
    needsHuman: 1,
    severity: 'critical',
  },
  ...['PendingImport', 'Unavailable', 'Creating', 'Updating'].map(
    (keyState): Case => ({
      label: `${keyState}: a human`,
      overrides: { keyState },
      status: 'drifted',
      apis: [],
      needsHuman: 1,
      severity: 'critical',
    }),
  ),
];

const DECLARED_COMMANDS = Object.keys(keyProtection.commands);

/** The policy a PutKeyPolicy action writes, parsed; throws when the action is anything else. */
function policyWritten(action: KeyAction | undefined): PolicyDocument {
  if (action?.api !== 'kms:PutKeyPolicy' || action.params.Policy === undefined) {
    throw new Error(`expected a PutKeyPolicy action, got ${action?.api}`);
  }
  return parsePolicy(action.params.Policy);
}

describe('decideKeyFixes', () => {
  it.each(CASES)('$label', ({ overrides, status, apis, needsHuman, severity, reason }) => {
    // Act
    const decision = decideKeyFixes(state(overrides));

    // Assess
    expect(decision.status).toBe(status);
    expect(decision.actions.map((a) => a.api)).toEqual(apis);
    expect(decision.needsHuman).toHaveLength(needsHuman ?? 0);
    expect(decision.severity).toBe(severity);
    if (status !== 'drifted') expect(decision.findings).toEqual([]);
    if (reason !== undefined) expect(decision.reason).toMatch(reason);
  });

  it.each(CASES)('only plans commands the rule declares, on the key’s ARN: $label', ({ overrides }) => {
    // Act
    const decision = decideKeyFixes(state(overrides));

    // Assess
    for (const action of decision.actions) {
      expect(DECLARED_COMMANDS).toContain(action.api);
      expect(action.params.KeyId).toBe(KEY_ARN);
    }
  });

  it('names the cancelled deletion date in the finding and the summary', () => {
    // Act
    const decision = decideKeyFixes(state({ keyState: 'PendingDeletion', deletionDate: DELETION_DATE }));

    // Assess
    expect(decision.findings).toEqual([
      { attribute: 'keyState', before: `PendingDeletion (deletion date ${DELETION_DATE})`, after: 'Enabled' },
    ]);
    expect(decision.actions).toEqual([
      {
        api: 'kms:CancelKeyDeletion',
        params: { KeyId: KEY_ARN },
        summary: `deletion of ${DELETION_DATE} cancelled`,
        brief: 'deletion cancelled',
      },
      { api: 'kms:EnableKey', params: { KeyId: KEY_ARN }, summary: expect.any(String), brief: 'enabled' },
    ]);
  });

  it('cancels the deletion of a multi-Region primary key pending its replicas’ deletion, then enables it', () => {
    // Prepare
    const replica = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${MRK_ID}`;

    // Act
    const decision = decideKeyFixes(
      state({ keyState: 'PendingReplicaDeletion', pendingWindowDays: 7, replicaArns: [replica] }),
    );

    // Assess
    expect(decision).toMatchObject({ status: 'drifted', severity: 'critical', needsHuman: [] });
    expect(decision.findings).toEqual([
      {
        attribute: 'keyState',
        before: 'PendingReplicaDeletion (a multi-Region primary key, deleted after its replicas, then 7 days)',
        after: 'Enabled',
      },
    ]);
    expect(decision.actions.map((a) => a.api)).toEqual(['kms:CancelKeyDeletion', 'kms:EnableKey']);
    expect(decision.actions[0]?.summary).toBe(
      `scheduled deletion of the multi-Region primary key cancelled; its replicas (${replica}) have their own deletion schedules, which this leaves as they are`,
    );
  });

  it('says so when the deletion date is unknown', () => {
    // Act
    const decision = decideKeyFixes(state({ keyState: 'PendingDeletion', deletionDate: undefined }));

    // Assess
    expect(decision.findings[0]?.before).toBe('PendingDeletion (deletion date unknown)');
  });

  it('puts back the logs statement after the author’s statements, which stay as written', () => {
    // Prepare
    const written = { Version: '2012-10-17', Id: 'authors-policy', Statement: [ADMIN, AUDIT] };

    // Act
    const decision = decideKeyFixes(state({ target: keyTarget('PutKeyPolicy'), policy: JSON.stringify(written) }));

    // Assess
    expect(decision.actions).toHaveLength(1);
    const [put] = decision.actions;
    expect(put?.params).toEqual({ KeyId: KEY_ARN, PolicyName: 'default', Policy: expect.any(String) });
    expect(policyWritten(put)).toEqual({ ...written, Statement: [ADMIN, AUDIT, LOGS] });
    // Named by Sid, effect, principal and actions: a notice carries no policy document.
    expect(put?.summary).toBe(
      `key policy: ${LOGS_STATEMENT_SID}: Allow logs.${REGION}.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* put back (other statements unchanged)`,
    );
    expect(decision.findings).toEqual([
      {
        attribute: 'keyPolicy',
        before: `missing ${LOGS_STATEMENT_SID}`,
        after: 'statements put back, the rest as written',
      },
    ]);
  });

  it('replaces our narrowed statement where it stood', () => {
    // Prepare
    const narrowed: PolicyStatement = { ...LOGS, Action: 'kms:Describe*' };

    // Act
    const decision = decideKeyFixes(state({ policy: policyText(ADMIN, narrowed, AUDIT) }));

    // Assess
    const policy = policyWritten(decision.actions[0]);
    expect(policy.Statement).toEqual([ADMIN, LOGS, AUDIT]);
  });

  it('puts back both CloudTrail statements for a trail’s key', () => {
    // Act
    const decision = decideKeyFixes(state({ dependents: [TRAIL], policy: policyText(ADMIN) }));

    // Assess
    const policy = policyWritten(decision.actions[0]);
    expect(policy.Statement).toEqual([ADMIN, ...cloudTrailStatements(ACCOUNT).map((r) => r.statement)]);
    expect(decision.findings[0]?.before).toBe(`missing ${CLOUDTRAIL_STATEMENT_SID}, ${CLOUDTRAIL_DESCRIBE_SID}`);
  });

  it('tells the human which Deny to review, and never writes it away', () => {
    // Act
    const decision = decideKeyFixes(state({ policy: policyText(DENY_LOGS, ADMIN) }));

    // Assess
    expect(decision.needsHuman).toEqual([
      "The key policy's NoLogs denies a service that depends on the key: review it (the engine never removes a Deny).",
    ]);
    expect(policyWritten(decision.actions[0]).Statement).toEqual([DENY_LOGS, ADMIN, LOGS]);
  });

  it('tells the human the state it cannot restore', () => {
    // Act
    const decision = decideKeyFixes(state({ keyState: 'PendingImport' }));

    // Assess
    expect(decision.needsHuman).toEqual([
      `Key ${KEY_ARN} is PendingImport: the engine only restores Enabled keys; check it by hand.`,
    ]);
  });
});

describe('requiredStatements', () => {
  const logsOf = (region: string) => logsStatement(region, ACCOUNT);
  const trails = cloudTrailStatements(ACCOUNT);

  it.each([
    ['log-group dependents', BY_LOG_GROUP, [LOG_GROUP], REGION, [logsOf(REGION)]],
    ['log-group dependents of a key in us-east-1', BY_LOG_GROUP, [LOG_GROUP], 'us-east-1', [logsOf('us-east-1')]],
    ['trail dependents', `in use by trails ${TRAIL_ARN}`, [TRAIL], REGION, trails],
    ['log groups and trails', 'in use by both', [TRAIL, LOG_GROUP], REGION, [logsOf(REGION), ...trails]],
    ['the stack’s key with no dependents', BY_STACK, [], REGION, [logsOf(REGION)]],
    ['a tagged key with no dependents', BY_TAG, [], REGION, []],
  ])('%s', (_label, protectedBecause, dependents, region, expected) => {
    // Prepare
    const target = { ...keyTarget(), region, keyArn: `arn:aws:kms:${region}:${ACCOUNT}:key/${KEY_ID}` };

    // Act
    const needs = requiredStatements({ target, dependents, protectedBecause });

    // Assess
    expect(needs).toEqual(expected);
  });
});

describe('keyProtection.target', () => {
  it.each([
    'kms-ScheduleKeyDeletion',
    'kms-ScheduleKeyDeletion-by-arn',
    'kms-DisableKey',
    'kms-DisableKeyRotation',
    'kms-PutKeyPolicy-drops-logs-statement',
  ])('takes the canonical key ARN from %s', (name) => {
    // Prepare
    const event = sample(name);

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({ keyArn: KEY_ARN, region: REGION, account: ACCOUNT, eventName: event.detail.eventName });
  });

  it('prefers the key ARN in detail.resources, with its region', () => {
    // Prepare
    const resourceArn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/33333333-3333-4333-8333-333333333333`;
    const event = sampleWith('kms-DisableKey', (raw) => {
      raw.detail.resources = [
        { accountId: ACCOUNT, type: 'AWS::KMS::Alias', ARN: `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/logs` },
        { accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: resourceArn },
      ];
    });

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({ keyArn: resourceArn, region: 'us-east-1', account: ACCOUNT, eventName: 'DisableKey' });
  });

  it('builds the ARN from a key id, the event’s region and account', () => {
    // Prepare
    const event = sampleWith('kms-DisableKey', (raw) => {
      delete raw.detail.resources;
      raw.detail.awsRegion = 'ap-southeast-2';
    });

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({
      keyArn: `arn:aws:kms:ap-southeast-2:${ACCOUNT}:key/${KEY_ID}`,
      region: 'ap-southeast-2',
      account: ACCOUNT,
      eventName: 'DisableKey',
    });
  });

  it('takes a key ARN, and its region, from keyId', () => {
    // Prepare
    const arn = `arn:aws:kms:us-west-2:${ACCOUNT}:key/${KEY_ID}`;
    const event = sampleWith('kms-ScheduleKeyDeletion-by-arn', (raw) => {
      delete raw.detail.resources;
      params(raw).keyId = arn;
    });

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({ keyArn: arn, region: 'us-west-2', account: ACCOUNT, eventName: 'ScheduleKeyDeletion' });
  });

  it.each([
    ['detail.resources', (_raw: RawEvent) => undefined],
    [
      'a key id',
      (raw: RawEvent) => {
        delete raw.detail.resources;
      },
    ],
    [
      'a key ARN in keyId',
      (raw: RawEvent) => {
        delete raw.detail.resources;
        params(raw).keyId = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${MRK_ID}`;
      },
    ],
  ])('takes a multi-Region key (mrk-) from %s', (_label, change) => {
    // Prepare
    const event = sampleWith('kms-ScheduleKeyDeletion-multi-Region-primary', change);

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({
      keyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${MRK_ID}`,
      region: 'eu-west-1',
      account: ACCOUNT,
      eventName: 'ScheduleKeyDeletion',
    });
  });

  it.each([
    ['an alias name', 'alias/payments-logs'],
    ['an alias ARN', `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/payments-logs`],
  ])('skips %s', (_label, keyId) => {
    // Prepare
    const event = sampleWith('kms-DisableKey', (raw) => {
      delete raw.detail.resources;
      params(raw).keyId = keyId;
    });

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({ skip: `${keyId} is an alias: these calls take a key` });
  });

  it.each([
    ['no keyId', {}],
    ['an empty keyId', { keyId: '' }],
    ['a keyId that is not a string', { keyId: 42 }],
  ])('skips an event with %s and no key in detail.resources', (_label, requestParameters) => {
    // Prepare
    const event = sampleWith('kms-DisableKey', (raw) => {
      raw.detail.resources = [];
      raw.detail.requestParameters = requestParameters;
    });

    // Act
    const target = keyProtection.target(event);

    // Assess
    expect(target).toEqual({ skip: 'the event names no KMS key' });
  });
});

describe('keyProtection.describe', () => {
  it('gives the key id, its ARN and a console link', () => {
    // Act
    const resource = keyProtection.describe(keyTarget());

    // Assess
    expect(resource).toEqual({
      type: 'KMS key',
      id: KEY_ID,
      arn: KEY_ARN,
      region: REGION,
      consoleUrl: `https://eu-west-1.console.aws.amazon.com/kms/home?region=eu-west-1#/kms/keys/${KEY_ID}`,
    });
  });
});

describe('keyProtection declaration', () => {
  it('listens to the four KMS calls that can take a key away', () => {
    // Assess
    expect(keyProtection.trigger).toEqual({
      source: 'aws.kms',
      detailTypes: ['AWS API Call via CloudTrail'],
      eventNames: ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'DisableKeyRotation'],
    });
  });
});

const kmsMock = mockClient(KMSClient);
const dynamoMock = mockClient(DynamoDBClient);

function context(env: Record<string, string> = {}) {
  return {
    settings: loadSettings({ DRIFTGUARD_STATE_TABLE: TABLE, ...env }),
    aws: createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  };
}

async function inspect(eventName: string, env: Record<string, string> = {}): Promise<KeyState> {
  const state = await keyProtection.inspect(keyTarget(eventName), context(env));
  if (state === undefined) throw new Error('expected a key state');
  return state;
}

function awsError(name: string) {
  return Object.assign(new Error(`${name} happened`), { name });
}

function keyIs(KeyState: string, extra: Partial<KeyMetadata> = {}) {
  kmsMock.on(DescribeKeyCommand, { KeyId: KEY_ARN }).resolves({
    KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: KeyState as 'Enabled', ...extra },
  });
}

function tagged(tags: Tag[]) {
  kmsMock.on(ListResourceTagsCommand, { KeyId: KEY_ARN }).resolves({ Tags: tags, Truncated: false });
}

function recorded(...dependents: KeyDependent[]) {
  dynamoMock.on(QueryCommand).resolves({
    Items: dependents.map((d) => ({
      pk: { S: `key#${KEY_ARN}` },
      sk: { S: `${d.type}#${d.region}#${d.id}` },
      type: { S: d.type },
      region: { S: d.region },
      id: { S: d.id },
      seenAt: { S: d.seenAt },
    })),
  });
}

const PROTECTED_TAG: Tag = { TagKey: 'driftguard:protected', TagValue: 'true' };
const ALL_EVENTS = ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'DisableKeyRotation'];

describe('keyProtection.inspect', () => {
  beforeEach(() => {
    kmsMock.reset();
    dynamoMock.reset();
    keyIs('Enabled');
    tagged([]);
    recorded();
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: policyText(ADMIN, LOGS) });
  });

  describe('protection', () => {
    it('protects a key that log groups and trails are recorded as using, and names them', async () => {
      // Prepare
      recorded(LOG_GROUP, TRAIL, { ...LOG_GROUP, id: '/app/orders/prod' });

      // Act
      const state = await inspect('DisableKey');

      // Assess
      expect(state.protectedBecause).toBe(
        `in use by log groups /app/payments-api/prod, /app/orders/prod; trails ${TRAIL_ARN}`,
      );
      expect(state.dependents).toEqual([LOG_GROUP, TRAIL, { ...LOG_GROUP, id: '/app/orders/prod' }]);
      expect(dynamoMock.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `key#${KEY_ARN}` } },
        Limit: 100,
      });
    });

    it('protects a key tagged driftguard:protected=true', async () => {
      // Prepare
      tagged([{ TagKey: 'team', TagValue: 'security' }, PROTECTED_TAG]);

      // Act
      const state = await inspect('DisableKey');

      // Assess
      expect(state.protectedBecause).toBe(BY_TAG);
      expect(state.dependents).toEqual([]);
    });

    it.each([
      ['driftguard:protected=false', [{ TagKey: 'driftguard:protected', TagValue: 'false' }]],
      ['another tag =true', [{ TagKey: 'driftguard:exempt', TagValue: 'true' }]],
    ])('does not protect a key tagged %s', async (_label, tags) => {
      // Prepare
      tagged(tags);

      // Act
      const state = await inspect('DisableKey');

      // Assess
      expect(state.protectedBecause).toBeUndefined();
    });

    it('protects the stack’s key named by its ARN', async () => {
      // Act
      const state = await inspect('DisableKey', { DRIFTGUARD_LOG_KMS_KEY: KEY_ARN });

      // Assess
      expect(state.protectedBecause).toBe(BY_STACK);
    });

    it.each([
      ['an alias name', 'alias/driftguard-logs'],
      ['an alias ARN', `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/driftguard-logs`],
    ])('protects the stack’s key named by %s that resolves to it', async (_label, alias) => {
      // Prepare
      kmsMock.on(DescribeKeyCommand, { KeyId: alias }).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN } });

      // Act
      const state = await inspect('DisableKey', { DRIFTGUARD_LOG_KMS_KEY: alias });

      // Assess
      expect(state.protectedBecause).toBe(BY_STACK);
    });

    it.each([
      ['another key’s ARN', { env: OTHER_KEY_ARN, resolves: undefined }],
      ['an alias of another key', { env: 'alias/other', resolves: OTHER_KEY_ARN }],
      ['an alias that cannot be read', { env: 'alias/gone', resolves: undefined }],
    ])('does not protect a key when the stack’s key is %s', async (_label, { env, resolves }) => {
      // Prepare
      if (resolves) {
        kmsMock.on(DescribeKeyCommand, { KeyId: env }).resolves({ KeyMetadata: { KeyId: 'other', Arn: resolves } });
      } else {
        kmsMock.on(DescribeKeyCommand, { KeyId: env }).rejects(awsError('NotFoundException'));
      }

      // Act
      const state = await inspect('DisableKey', { DRIFTGUARD_LOG_KMS_KEY: env });

      // Assess
      expect(state.protectedBecause).toBeUndefined();
    });

    it.each(['KMSInternalException', 'ThrottlingException', 'DependencyTimeoutException'])(
      'passes %s on DescribeKey of the stack’s alias up: never an answer of not-protected',
      async (name) => {
        // Prepare
        kmsMock.on(DescribeKeyCommand, { KeyId: 'alias/driftguard-logs' }).rejects(awsError(name));

        // Act
        const act = inspect('DisableKey', { DRIFTGUARD_LOG_KMS_KEY: 'alias/driftguard-logs' });

        // Assess
        await expect(act).rejects.toThrow(`${name} happened`);
        expect(kmsMock.commandCalls(ListResourceTagsCommand)).toHaveLength(0);
      },
    );

    it('refuses to answer when the stack’s alias cannot be read (AccessDeniedException)', async () => {
      // Prepare
      kmsMock.on(DescribeKeyCommand, { KeyId: 'alias/driftguard-logs' }).rejects(awsError('AccessDeniedException'));

      // Act
      const act = inspect('DisableKey', { DRIFTGUARD_LOG_KMS_KEY: 'alias/driftguard-logs' });

      // Assess
      await expect(act).rejects.toThrow(`the configured key alias/driftguard-logs cannot be read in ${REGION}`);
    });

    it('reads no recorded dependents without a state table', async () => {
      // Prepare
      const ctx = { ...context(), settings: loadSettings({}) };

      // Act
      const state = await keyProtection.inspect(keyTarget('DisableKey'), ctx);

      // Assess
      expect(dynamoMock.commandCalls(QueryCommand)).toHaveLength(0);
      expect(state?.protectedBecause).toBeUndefined();
    });

    it.each(ALL_EVENTS)('reads neither policy nor rotation of an unprotected key (%s)', async (eventName) => {
      // Act
      const state = await inspect(eventName);

      // Assess
      expect(state).toMatchObject({ protectedBecause: undefined, policy: undefined, rotationEnabled: undefined });
      expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(0);
      expect(kmsMock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
      expect(decideKeyFixes(state).reason).toMatch(/^not-protected/);
    });
  });

  describe('a key that is gone', () => {
    it('has no key state, and nothing else is read', async () => {
      // Prepare
      recorded(LOG_GROUP);
      kmsMock.on(DescribeKeyCommand, { KeyId: KEY_ARN }).rejects(awsError('NotFoundException'));

      // Act
      const state = await inspect('PutKeyPolicy');

      // Assess
      expect(state.keyState).toBeUndefined();
      expect(state.deletionDate).toBeUndefined();
      expect(kmsMock.calls()).toHaveLength(1);
      expect(decideKeyFixes(state)).toMatchObject({ status: 'ignored', reason: `key ${KEY_ARN} no longer exists` });
    });

    it.each(['AccessDeniedException', 'ThrottlingException'])('passes %s on DescribeKey up', async (name) => {
      // Prepare
      kmsMock.on(DescribeKeyCommand, { KeyId: KEY_ARN }).rejects(awsError(name));

      // Act
      const act = inspect('DisableKey');

      // Assess
      await expect(act).rejects.toThrow(`${name} happened`);
    });
  });

  describe('what is read for each event', () => {
    beforeEach(() => {
      recorded(LOG_GROUP);
    });

    it('reads the key state and the deletion date', async () => {
      // Prepare
      keyIs('PendingDeletion', { DeletionDate: new Date(DELETION_DATE) });

      // Act
      const state = await inspect('ScheduleKeyDeletion');

      // Assess
      expect(state).toEqual({
        target: keyTarget('ScheduleKeyDeletion'),
        protectedBecause: BY_LOG_GROUP,
        isStackKey: false,
        dependents: [LOG_GROUP],
        keyState: 'PendingDeletion',
        deletionDate: DELETION_DATE,
        rotationEnabled: undefined,
        policy: undefined,
      });
    });

    it('reads the waiting period and the replicas of a multi-Region primary key pending their deletion', async () => {
      // Prepare
      const replica = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
      keyIs('PendingReplicaDeletion', {
        PendingDeletionWindowInDays: 7,
        MultiRegionConfiguration: {
          MultiRegionKeyType: 'PRIMARY',
          PrimaryKey: { Arn: KEY_ARN, Region: REGION },
          ReplicaKeys: [{ Arn: replica, Region: 'us-east-1' }],
        },
      });

      // Act
      const state = await inspect('ScheduleKeyDeletion');

      // Assess
      expect(state).toMatchObject({
        keyState: 'PendingReplicaDeletion',
        deletionDate: undefined,
        pendingWindowDays: 7,
        replicaArns: [replica],
      });
      expect(decideKeyFixes(state).actions.map((a) => a.api)).toEqual(['kms:CancelKeyDeletion', 'kms:EnableKey']);
    });

    it.each([
      [false, false],
      [true, true],
    ])('reads rotation of an enabled key after DisableKeyRotation (enabled: %s)', async (enabled, expected) => {
      // Prepare
      kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: enabled });

      // Act
      const state = await inspect('DisableKeyRotation');

      // Assess
      expect(state.rotationEnabled).toBe(expected);
      expect(kmsMock.commandCalls(GetKeyRotationStatusCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN },
      ]);
    });

    it.each(['Disabled', 'PendingDeletion'])(
      'takes rotation as off, without reading it, when the key is %s',
      async (keyState) => {
        // Prepare
        keyIs(keyState);

        // Act
        const state = await inspect('DisableKeyRotation');

        // Assess
        expect(state.rotationEnabled).toBe(false);
        expect(kmsMock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
      },
    );

    it.each(['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'])('reads no rotation after %s', async (eventName) => {
      // Act
      const state = await inspect(eventName);

      // Assess
      expect(state.rotationEnabled).toBeUndefined();
      expect(kmsMock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
    });

    it('reads the default policy after PutKeyPolicy', async () => {
      // Act
      const state = await inspect('PutKeyPolicy');

      // Assess
      expect(state.policy).toBe(policyText(ADMIN, LOGS));
      expect(kmsMock.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN, PolicyName: 'default' },
      ]);
    });

    it.each(['ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation'])(
      'reads no policy after %s',
      async (eventName) => {
        // Act
        const state = await inspect(eventName);

        // Assess
        expect(state.policy).toBeUndefined();
        expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(0);
      },
    );

    it('reads rotation and the default policy when the sweep looks (no event)', async () => {
      // Act
      const state = await keyProtection.inspect({ keyArn: KEY_ARN, region: REGION, account: ACCOUNT }, context());

      // Assess
      expect(state).toMatchObject({ rotationEnabled: true, policy: policyText(ADMIN, LOGS) });
      expect(kmsMock.commandCalls(GetKeyRotationStatusCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN },
      ]);
      expect(kmsMock.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN, PolicyName: 'default' },
      ]);
    });

    it.each(ALL_EVENTS)('makes only calls the rule declares as reads (%s)', async (eventName) => {
      // Prepare
      const declared = keyProtection.reads.flatMap((p) => p.actions);
      kmsMock
        .on(DescribeKeyCommand, { KeyId: 'alias/driftguard-logs' })
        .resolves({ KeyMetadata: { KeyId: 'other', Arn: OTHER_KEY_ARN } });

      // Act
      await inspect(eventName, { DRIFTGUARD_LOG_KMS_KEY: 'alias/driftguard-logs' });

      // Assess
      const calls = [
        ...kmsMock.calls().map((c) => `kms:${c.args[0].constructor.name.replace(/Command$/, '')}`),
        ...dynamoMock.calls().map((c) => `dynamodb:${c.args[0].constructor.name.replace(/Command$/, '')}`),
      ];
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(declared).toContain(call);
    });
  });

  it('puts the logs statement back into the policy of the sample that drops it', async () => {
    // Prepare
    const event = sample('kms-PutKeyPolicy-drops-logs-statement');
    const written = String(params(rawSample('kms-PutKeyPolicy-drops-logs-statement')).policy);
    recorded(LOG_GROUP);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: written });
    const target = keyProtection.target(event) as KeyTarget;

    // Act
    const state = await keyProtection.inspect(target, context());
    const decision = decideKeyFixes(state as KeyState);

    // Assess
    expect(decision.actions.map((a) => a.api)).toEqual(['kms:PutKeyPolicy']);
    const author = parsePolicy(written);
    expect(policyWritten(decision.actions[0])).toEqual({
      ...author,
      Statement: [...author.Statement, LOGS],
    });
  });

  it('accepts the policy of the sample that keeps the logs statement', async () => {
    // Prepare
    const written = String(params(rawSample('kms-PutKeyPolicy-keeps-logs-statement')).policy);
    recorded(LOG_GROUP);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: written });

    // Act
    const state = await inspect('PutKeyPolicy');

    // Assess
    expect(decideKeyFixes(state).status).toBe('compliant');
  });
});

describe('KeyUsageStore', () => {
  beforeEach(() => {
    dynamoMock.reset();
  });

  const store = () =>
    new KeyUsageStore(
      createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      TABLE,
    );

  it('records a dependent under the key, keyed by type, region and id', async () => {
    // Prepare
    dynamoMock.on(PutItemCommand).resolves({});

    // Act
    await recordKeyUsage(context().aws, TABLE, KEY_ARN, { type: 'trail', region: REGION, id: TRAIL_ARN });

    // Assess
    const input = dynamoMock.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: `key#${KEY_ARN}` },
        sk: { S: `trail#${REGION}#${TRAIL_ARN}` },
        type: { S: 'trail' },
        region: { S: REGION },
        id: { S: TRAIL_ARN },
        seenAt: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      },
    });
  });

  it('reads dependents back, with defaults for missing attributes', async () => {
    // Prepare
    dynamoMock.on(QueryCommand).resolves({
      Items: [
        { type: { S: 'trail' }, region: { S: REGION }, id: { S: TRAIL_ARN }, seenAt: { S: '2025-03-03T00:00:00Z' } },
        { id: { S: '/legacy' } },
      ],
    });

    // Act
    const dependents = await store().dependents(KEY_ARN);

    // Assess
    expect(dependents).toEqual([
      { type: 'trail', region: REGION, id: TRAIL_ARN, seenAt: '2025-03-03T00:00:00Z' },
      { type: 'log-group', region: '', id: '/legacy', seenAt: '' },
    ]);
  });

  it('reads no dependents when nothing is recorded', async () => {
    // Prepare
    dynamoMock.on(QueryCommand).resolves({});

    // Act
    const dependents = await store().dependents(KEY_ARN);

    // Assess
    expect(dependents).toEqual([]);
  });
});

describe('KeyUsageStore.keysInRegion', () => {
  beforeEach(() => {
    dynamoMock.reset();
  });

  const keyItem = (keyArn: string, sk: string) => ({ pk: { S: `key#${keyArn}` }, sk: { S: sk } });
  const US_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;

  it('scans the key items page by page, and yields each key of the region once', async () => {
    // Prepare
    const lastKey = { pk: { S: `key#${KEY_ARN}` }, sk: { S: 'log-group#eu-west-1#/a' } };
    dynamoMock
      .on(ScanCommand)
      .resolvesOnce({
        Items: [keyItem(KEY_ARN, 'log-group#eu-west-1#/a'), keyItem(US_KEY_ARN, 'x')],
        LastEvaluatedKey: lastKey,
      })
      .resolvesOnce({ Items: [keyItem(KEY_ARN, `trail#eu-west-1#${TRAIL_ARN}`), keyItem(OTHER_KEY_ARN, 'y')] });
    const store = new KeyUsageStore(context().aws, TABLE);

    // Act
    const keys = await store.keysInRegion(REGION);

    // Assess
    expect(keys).toEqual([KEY_ARN, OTHER_KEY_ARN]);
    const scan = {
      TableName: TABLE,
      FilterExpression: 'begins_with(pk, :key)',
      ExpressionAttributeValues: { ':key': { S: 'key#' } },
      ProjectionExpression: 'pk',
    };
    expect(dynamoMock.commandCalls(ScanCommand).map((c) => c.args[0].input)).toEqual([
      { ...scan, ExclusiveStartKey: undefined },
      { ...scan, ExclusiveStartKey: lastKey },
    ]);
  });

  it('yields nothing from an empty table', async () => {
    // Prepare
    dynamoMock.on(ScanCommand).resolves({});
    const store = new KeyUsageStore(context().aws, TABLE);

    // Act
    const keys = await store.keysInRegion(REGION);

    // Assess
    expect(keys).toEqual([]);
  });

  it('scans once per sweep run for all its regions, and again for the next run', async () => {
    // Prepare
    dynamoMock.on(ScanCommand).resolves({ Items: [keyItem(KEY_ARN, 'a'), keyItem(US_KEY_ARN, 'b')] });
    const store = new KeyUsageStore(context().aws, TABLE);

    // Act
    const run = new Map();
    const first = [await store.keysInRegion(REGION, run), await store.keysInRegion('us-east-1', run)];
    const next = await store.keysInRegion(REGION, new Map());

    // Assess
    expect(first).toEqual([[KEY_ARN], [US_KEY_ARN]]);
    expect(next).toEqual([KEY_ARN]);
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(2);
  });

  it('scans again after a failed scan, in the same run', async () => {
    // Prepare
    dynamoMock
      .on(ScanCommand)
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }))
      .resolves({ Items: [keyItem(KEY_ARN, 'a')] });
    const store = new KeyUsageStore(context().aws, TABLE);

    // Act
    const run = new Map();
    const failed = await store.keysInRegion(REGION, run).catch((error: Error) => error.name);
    const retried = await store.keysInRegion(REGION, run);

    // Assess
    expect(failed).toBe('ProvisionedThroughputExceededException');
    expect(retried).toEqual([KEY_ARN]);
  });
});

describe('the sweep’s keys pass', () => {
  const STACK_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/33333333-3333-4333-8333-333333333333`;

  function sweepContext(env: Record<string, string> = {}): SweepContext {
    return { ...context(env), account: ACCOUNT, sweepId: 'sweep-1', now: '2025-03-01T00:00:00.000Z', dryRun: false };
  }

  function recordedKeys(...keyArns: string[]) {
    dynamoMock.on(ScanCommand).resolves({ Items: keyArns.map((arn) => ({ pk: { S: `key#${arn}` } })) });
  }

  /** The region's keys as ListKeys pages them, each with its tags. */
  function regionKeys(...pages: { arn: string; tagged: boolean }[][]) {
    pages.forEach((page, index) => {
      kmsMock.on(ListKeysCommand, index === 0 ? {} : { Marker: `page-${index}` }).resolves({
        Keys: page.map(({ arn }) => ({ KeyArn: arn, KeyId: arn.split('/').pop() })),
        ...(index < pages.length - 1 ? { Truncated: true, NextMarker: `page-${index + 1}` } : {}),
      });
      for (const { arn, tagged } of page) {
        kmsMock.on(ListResourceTagsCommand, { KeyId: arn }).resolves({
          Tags: tagged ? [{ TagKey: 'driftguard:protected', TagValue: 'true' }] : [{ TagKey: 'team', TagValue: 'x' }],
        });
      }
    });
  }

  beforeEach(() => {
    kmsMock.reset();
    dynamoMock.reset();
    recordedKeys();
    regionKeys([]);
  });

  it('lists the recorded keys, then the keys tagged driftguard:protected=true one ListKeys page at a time', async () => {
    // Prepare
    const TAGGED = `arn:aws:kms:${REGION}:${ACCOUNT}:key/44444444-4444-4444-8444-444444444444`;
    const UNTAGGED = `arn:aws:kms:${REGION}:${ACCOUNT}:key/55555555-5555-4555-8555-555555555555`;
    recordedKeys(KEY_ARN);
    regionKeys(
      [
        { arn: KEY_ARN, tagged: true },
        { arn: UNTAGGED, tagged: false },
      ],
      [{ arn: TAGGED, tagged: true }],
    );

    // Act
    const ctx = { ...sweepContext(), sharedReads: new Map() };
    const first = await keySweep.list(REGION, undefined, ctx);
    const second = await keySweep.list(REGION, first.next, ctx);

    // Assess
    expect(first).toEqual({ items: [KEY_ARN], next: 'page-1' });
    expect(second).toEqual({ items: [TAGGED] });
    // The recorded keys are read on the first page only.
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(1);
  });

  it('lists a recorded key again where ListKeys lists it tagged on a later page: looked at twice, never not at all', async () => {
    // Prepare
    const UNTAGGED = `arn:aws:kms:${REGION}:${ACCOUNT}:key/55555555-5555-4555-8555-555555555555`;
    recordedKeys(KEY_ARN);
    regionKeys([{ arn: UNTAGGED, tagged: false }], [{ arn: KEY_ARN, tagged: true }]);

    // Act: the second page in another run (a continuation), which read no recorded key
    const first = await keySweep.list(REGION, undefined, sweepContext());
    const second = await keySweep.list(REGION, first.next, sweepContext());

    // Assess
    expect(first).toEqual({ items: [KEY_ARN], next: 'page-1' });
    expect(second).toEqual({ items: [KEY_ARN] });
  });

  it('lists a key whose tags the engine may not read (its policy keeps the engine out): it may be protected', async () => {
    // Prepare
    const TAGGED = `arn:aws:kms:${REGION}:${ACCOUNT}:key/44444444-4444-4444-8444-444444444444`;
    regionKeys([
      { arn: KEY_ARN, tagged: true },
      { arn: TAGGED, tagged: true },
    ]);
    kmsMock.on(ListResourceTagsCommand, { KeyId: KEY_ARN }).rejects(awsError('AccessDeniedException'));

    // Act
    const page = await keySweep.list(REGION, undefined, sweepContext());

    // Assess
    expect(page).toEqual({ items: [KEY_ARN, TAGGED] });
  });

  it('fails, rather than skip a key, when a key’s tags cannot be read', async () => {
    // Prepare
    regionKeys([{ arn: KEY_ARN, tagged: true }]);
    kmsMock.on(ListResourceTagsCommand).rejects(awsError('KMSInternalException'));

    // Act
    const act = keySweep.list(REGION, undefined, sweepContext());

    // Assess
    await expect(act).rejects.toThrow('KMSInternalException happened');
  });

  it('is named keys and swept in every region', async () => {
    // Act
    const page = await keySweep.list(REGION, undefined, sweepContext());

    // Assess
    expect(keySweep.pass).toBe('keys');
    expect(keySweep.onlyRegion).toBeUndefined();
    expect(page).toEqual({ items: [] });
  });

  it('lists the recorded keys of the region, then the stack’s key its alias names there', async () => {
    // Prepare
    recordedKeys(KEY_ARN, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`, OTHER_KEY_ARN);
    kmsMock
      .on(DescribeKeyCommand, { KeyId: 'alias/driftguard-logs' })
      .resolves({ KeyMetadata: { KeyId: 'stack', Arn: STACK_KEY_ARN, KeyState: 'Enabled' } });

    // Act
    const page = await keySweep.list(
      REGION,
      undefined,
      sweepContext({ DRIFTGUARD_LOG_KMS_KEY: 'alias/driftguard-logs' }),
    );

    // Assess
    expect(page).toEqual({ items: [KEY_ARN, OTHER_KEY_ARN, STACK_KEY_ARN] });
  });

  it.each([
    ['recorded too: listed once', KEY_ARN, [KEY_ARN]],
    ['not recorded: listed after the recorded ones', STACK_KEY_ARN, [KEY_ARN, STACK_KEY_ARN]],
    ['in another region: not listed here', `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`, [KEY_ARN]],
    ['an alias of another region: not listed here', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/logs`, [KEY_ARN]],
  ])('lists the stack’s key named by ARN, %s', async (_label, configured, items) => {
    // Prepare
    recordedKeys(KEY_ARN);

    // Act
    const page = await keySweep.list(REGION, undefined, sweepContext({ DRIFTGUARD_LOG_KMS_KEY: configured }));

    // Assess
    expect(page).toEqual({ items });
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(0);
  });

  it('lists only the stack’s key without a state table', async () => {
    // Prepare
    const ctx = { ...sweepContext(), settings: loadSettings({ DRIFTGUARD_LOG_KMS_KEY: STACK_KEY_ARN }) };

    // Act
    const page = await keySweep.list(REGION, undefined, ctx);

    // Assess
    expect(page).toEqual({ items: [STACK_KEY_ARN] });
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it('fails when the stack’s alias cannot be resolved for a reason other than its absence', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand, { KeyId: 'alias/driftguard-logs' }).rejects(awsError('KMSInternalException'));

    // Act
    const act = keySweep.list(REGION, undefined, sweepContext({ DRIFTGUARD_LOG_KMS_KEY: 'alias/driftguard-logs' }));

    // Assess
    await expect(act).rejects.toThrow('KMSInternalException happened');
  });

  it('reads a key in full and decides, with a target that names no event', async () => {
    // Prepare
    keyIs('Disabled');
    recorded(LOG_GROUP);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: policyText(ADMIN) });

    // Act
    const swept = await keySweep.assess(KEY_ARN, REGION, sweepContext());

    // Assess
    expect(swept?.name).toBe(KEY_ARN);
    expect(swept?.resource).toEqual(keyProtection.describe({ keyArn: KEY_ARN, region: REGION, account: ACCOUNT }));
    expect(swept?.state?.target).toEqual({ keyArn: KEY_ARN, region: REGION, account: ACCOUNT });
    expect(swept?.state).toMatchObject({ keyState: 'Disabled', rotationEnabled: false, policy: policyText(ADMIN) });
    expect(swept?.decision.status).toBe('drifted');
    expect(swept?.decision.actions.map((a) => a.api)).toEqual([
      'kms:EnableKey',
      'kms:EnableKeyRotation',
      'kms:PutKeyPolicy',
    ]);
    expect(kmsMock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
  });

  it('reports a key deleted since it was listed as ignored', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand, { KeyId: KEY_ARN }).rejects(awsError('NotFoundException'));

    // Act
    const swept = await keySweep.assess(KEY_ARN, REGION, sweepContext());

    // Assess
    expect(swept?.decision).toMatchObject({ status: 'ignored', reason: `key ${KEY_ARN} no longer exists` });
  });
});

describe('the stack’s log key', () => {
  it('keeps needing the CloudWatch Logs statement when a trail also uses it', () => {
    const needs = requiredStatements({
      target: {
        keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
        region: 'eu-west-1',
        account: '123456789012',
        eventName: 'PutKeyPolicy',
      },
      dependents: [
        { type: 'trail', region: 'eu-west-1', id: 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/t', seenAt: '' },
      ],
      protectedBecause: "the stack's log key",
      isStackKey: true,
    });
    expect(needs.map((n) => n.service)).toEqual([
      'logs.eu-west-1.amazonaws.com',
      'cloudtrail.amazonaws.com',
      'cloudtrail.amazonaws.com',
    ]);
  });
});
