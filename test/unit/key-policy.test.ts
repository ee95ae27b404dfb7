/** Key policies: the statements services need, and the merge that puts one back while keeping the author's others. */
import { describe, expect, it } from 'vitest';
import {
  CLOUDTRAIL_DESCRIBE_SID,
  CLOUDTRAIL_STATEMENT_SID,
  cloudTrailStatements,
  LOGS_STATEMENT_SID,
  logsStatement,
  mergeRequiredStatements,
  type PolicyDocument,
  type PolicyStatement,
  parsePolicy,
  statementText,
} from '../../lib/key-policy.js';
import { ACCOUNT } from './fixtures.js';

const REGION = 'eu-west-1';
const LOGS_SERVICE = `logs.${REGION}.amazonaws.com`;
const LOGS_ACTIONS = ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'];
const LOGS = logsStatement(REGION, ACCOUNT);
const TRAIL = cloudTrailStatements(ACCOUNT);

/** AWS's documented statement for CloudWatch Logs, written out by hand so a change in lib/ cannot pass unnoticed. */
const EXPECTED_LOGS_STATEMENT: PolicyStatement = {
  Sid: 'CloudWatchLogsUsesKeyForThisAccountsLogGroups',
  Effect: 'Allow',
  Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' },
  },
};

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

/** Fields the PolicyStatement type does not name: the merge must keep them anyway. */
const UNUSUAL = {
  Sid: 'NobodyButAdminsSchedulesDeletion',
  Effect: 'Deny',
  NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:role/key-admin`] },
  Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
  Resource: '*',
  Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' }, StringEquals: { 'aws:PrincipalTag/team': ['x'] } },
} as unknown as PolicyStatement;

const VIA_GRANT: PolicyStatement = {
  Sid: 'ViaKmsGrantsOnly',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: ['kms:Decrypt', 'kms:CreateGrant'],
  Resource: '*',
  Condition: {
    StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': ['s3.eu-west-1.amazonaws.com'] },
    Bool: { 'kms:GrantIsForAWSResource': 'true' },
  },
};

function policy(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Id: 'key-default-1', Statement: statements };
}

function logsWith(overrides: Partial<PolicyStatement>): PolicyStatement {
  return { ...EXPECTED_LOGS_STATEMENT, ...overrides };
}

describe('logsStatement', () => {
  it('is AWS’s documented statement for the key’s region and account', () => {
    // Act
    const required = logsStatement(REGION, ACCOUNT);

    // Assess
    expect(required).toEqual({ service: LOGS_SERVICE, actions: LOGS_ACTIONS, statement: EXPECTED_LOGS_STATEMENT });
  });

  it('names the partition in the log-group ARN condition', () => {
    // Act
    const { statement } = logsStatement('cn-north-1', ACCOUNT, 'aws-cn');

    // Assess
    expect(statement.Principal).toEqual({ Service: 'logs.cn-north-1.amazonaws.com' });
    expect(statement.Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:*` },
    });
  });
});

describe('cloudTrailStatements', () => {
  it('are the encrypt statement for this account’s trails and the describe statement', () => {
    // Act
    const required = cloudTrailStatements(ACCOUNT);

    // Assess
    expect(required).toEqual([
      {
        service: 'cloudtrail.amazonaws.com',
        actions: ['kms:GenerateDataKey*'],
        statement: {
          Sid: 'CloudTrailEncryptsThisAccountsTrails',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'kms:GenerateDataKey*',
          Resource: '*',
          Condition: {
            StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:123456789012:trail/*' },
          },
        },
      },
      {
        service: 'cloudtrail.amazonaws.com',
        actions: ['kms:DescribeKey'],
        statement: {
          Sid: 'CloudTrailDescribesKey',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'kms:DescribeKey',
          Resource: '*',
        },
      },
    ]);
  });
});

describe('parsePolicy', () => {
  it('reads a policy document as KMS returns it', () => {
    // Prepare
    const document = policy(ADMIN, AUDIT);

    // Act
    const parsed = parsePolicy(JSON.stringify(document));

    // Assess
    expect(parsed).toEqual(document);
  });

  it('turns a single Statement object into a list of one', () => {
    // Prepare
    const text = JSON.stringify({ Version: '2012-10-17', Statement: ADMIN });

    // Act
    const parsed = parsePolicy(text);

    // Assess
    expect(parsed).toEqual({ Version: '2012-10-17', Statement: [ADMIN] });
  });

  it.each([
    ['an object without Statement', '{"Version": "2012-10-17"}'],
    ['an empty object', '{}'],
    ['a list', '[]'],
  ])('rejects %s', (_label, text) => {
    // Act
    const act = () => parsePolicy(text);

    // Assess
    expect(act).toThrow(SyntaxError);
    expect(act).toThrow('the key policy has no Statement');
  });

  it('rejects text that is not JSON', () => {
    // Act
    const act = () => parsePolicy('{"Statement": [');

    // Assess
    expect(act).toThrow(SyntaxError);
  });
});

describe('mergeRequiredStatements', () => {
  describe('a statement that is missing', () => {
    it.each([
      ['an empty policy', policy()],
      ['only the author’s statements', policy(ADMIN, AUDIT)],
      ['unusual statements', policy(ADMIN, UNUSUAL, VIA_GRANT)],
    ])('is added at the end, exactly, to %s', (_label, input) => {
      // Prepare
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.policy).toEqual({ ...before, Statement: [...before.Statement, EXPECTED_LOGS_STATEMENT] });
      expect(merge.added).toEqual([LOGS_STATEMENT_SID]);
      expect(merge.replaced).toEqual([]);
      expect(merge.blockingDenies).toEqual([]);
      expect(input).toEqual(before);
    });

    it.each([
      ['the global service name', logsWith({ Sid: 'Logs', Principal: { Service: 'logs.amazonaws.com' } })],
      ['another region’s service', logsWith({ Sid: 'Logs', Principal: { Service: 'logs.us-east-1.amazonaws.com' } })],
      ['an account principal', logsWith({ Sid: 'Logs', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })],
      ['fewer actions', logsWith({ Sid: 'Logs', Action: ['kms:Encrypt*', 'kms:Decrypt*'] })],
      ['NotAction', { ...logsWith({ Sid: 'Logs', Action: undefined }), NotAction: 'kms:ScheduleKeyDeletion' }],
    ])('is added when another Sid grants %s only', (_label, near) => {
      // Act
      const merge = mergeRequiredStatements(policy(ADMIN, near), [LOGS]);

      // Assess
      expect(merge.policy.Statement).toEqual([ADMIN, near, EXPECTED_LOGS_STATEMENT]);
      expect(merge.added).toEqual([LOGS_STATEMENT_SID]);
    });

    it('adds both CloudTrail statements when neither is there', () => {
      // Act
      const merge = mergeRequiredStatements(policy(ADMIN), TRAIL);

      // Assess
      expect(merge.policy.Statement).toEqual([ADMIN, TRAIL[0]?.statement, TRAIL[1]?.statement]);
      expect(merge.added).toEqual([CLOUDTRAIL_STATEMENT_SID, CLOUDTRAIL_DESCRIBE_SID]);
      expect(merge.replaced).toEqual([]);
    });

    it.each([
      ['the encrypt statement', 0, CLOUDTRAIL_DESCRIBE_SID],
      ['the describe statement', 1, CLOUDTRAIL_STATEMENT_SID],
    ])('adds only the other CloudTrail statement when %s is there', (_label, present, missingSid) => {
      // Prepare
      const kept = TRAIL[present]?.statement as PolicyStatement;
      const missing = TRAIL[1 - present]?.statement as PolicyStatement;

      // Act
      const merge = mergeRequiredStatements(policy(ADMIN, kept), TRAIL);

      // Assess
      expect(merge.policy.Statement).toEqual([ADMIN, kept, missing]);
      expect(merge.added).toEqual([missingSid]);
    });

    it('adds the logs and the CloudTrail statements together, in the order required', () => {
      // Act
      const merge = mergeRequiredStatements(policy(AUDIT), [LOGS, ...TRAIL]);

      // Assess
      expect(merge.policy.Statement).toEqual([
        AUDIT,
        EXPECTED_LOGS_STATEMENT,
        TRAIL[0]?.statement,
        TRAIL[1]?.statement,
      ]);
      expect(merge.added).toEqual([LOGS_STATEMENT_SID, CLOUDTRAIL_STATEMENT_SID, CLOUDTRAIL_DESCRIBE_SID]);
    });
  });

  describe('a statement that is present', () => {
    it.each([
      ['exactly', EXPECTED_LOGS_STATEMENT],
      ['under another Sid', logsWith({ Sid: 'LogsMayUseTheKey' })],
      ['without a Sid', logsWith({ Sid: undefined })],
      [
        'with its actions in another order and case',
        logsWith({ Action: [...LOGS_ACTIONS].reverse().map((a) => a.toLowerCase()) }),
      ],
      ['through kms:*', logsWith({ Sid: 'LogsDoesAnything', Action: 'kms:*' })],
      ['through *', logsWith({ Sid: 'LogsDoesAnything', Action: '*' })],
      [
        'with the Service principal as a list',
        logsWith({ Principal: { Service: ['s3.amazonaws.com', LOGS_SERVICE] } }),
      ],
      ['to every principal (*)', logsWith({ Sid: 'Everyone', Principal: '*' })],
      ['with another condition', logsWith({ Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } })],
    ])('leaves the policy unchanged when granted %s', (_label, grant) => {
      // Prepare
      const input = policy(ADMIN, grant, UNUSUAL, AUDIT);
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.policy).toEqual(before);
      expect(merge.added).toEqual([]);
      expect(merge.replaced).toEqual([]);
      expect(merge.blockingDenies).toEqual([]);
    });

    it('counts actions granted across two statements only when one statement grants them all', () => {
      // Prepare
      const half = (Sid: string, Action: string[]) => logsWith({ Sid, Action });
      const input = policy(half('LogsA', LOGS_ACTIONS.slice(0, 2)), half('LogsB', LOGS_ACTIONS.slice(2)));

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.added).toEqual([LOGS_STATEMENT_SID]);
    });

    it.each([
      ['kms:GenerateDataKey*', 'kms:GenerateDataKey*'],
      ['kms:*', 'kms:*'],
      ['kms:Generate* (a wider wildcard)', 'kms:Generate*'],
    ])('leaves the policy unchanged when CloudTrail encrypts through %s', (_label, action) => {
      // Prepare
      const encrypt: PolicyStatement = { ...(TRAIL[0]?.statement as PolicyStatement), Sid: 'Trails', Action: action };
      const describeKey: PolicyStatement = {
        Sid: 'TrailsDescribe',
        Effect: 'Allow',
        Principal: { Service: ['cloudtrail.amazonaws.com'] },
        Action: ['kms:DescribeKey'],
        Resource: '*',
      };
      const input = policy(ADMIN, encrypt, describeKey);
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, TRAIL);

      // Assess
      expect(merge.policy).toEqual(before);
      expect(merge.added).toEqual([]);
      expect(merge.replaced).toEqual([]);
    });

    it('adds the encrypt statement when CloudTrail may only GenerateDataKey (not GenerateDataKeyWithoutPlaintext)', () => {
      // Prepare
      const exact: PolicyStatement = {
        ...(TRAIL[0]?.statement as PolicyStatement),
        Sid: 'Trails',
        Action: 'kms:GenerateDataKey',
      };

      // Act
      const merge = mergeRequiredStatements(policy(exact, TRAIL[1]?.statement as PolicyStatement), TRAIL);

      // Assess
      expect(merge.added).toEqual([CLOUDTRAIL_STATEMENT_SID]);
    });
  });

  describe('our statement, changed', () => {
    it.each([
      ['narrowed to fewer actions', logsWith({ Action: ['kms:Decrypt*', 'kms:Describe*'] })],
      ['narrowed to one action', logsWith({ Action: 'kms:Describe*' })],
      ['turned into a Deny', logsWith({ Effect: 'Deny' })],
      ['pointed at another service', logsWith({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } })],
      ['pointed at an account', logsWith({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })],
    ])('is replaced in place when %s', (_label, changed) => {
      // Prepare
      const input = policy(ADMIN, changed, UNUSUAL, AUDIT);
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.policy).toEqual({ ...before, Statement: [ADMIN, EXPECTED_LOGS_STATEMENT, UNUSUAL, AUDIT] });
      expect(merge.replaced).toEqual([LOGS_STATEMENT_SID]);
      expect(merge.added).toEqual([]);
      expect(input).toEqual(before);
    });

    it('is replaced in place for CloudTrail, the describe statement left alone', () => {
      // Prepare
      const narrowed: PolicyStatement = { ...(TRAIL[0]?.statement as PolicyStatement), Action: 'kms:Decrypt' };
      const describeKey = TRAIL[1]?.statement as PolicyStatement;

      // Act
      const merge = mergeRequiredStatements(policy(narrowed, ADMIN, describeKey), TRAIL);

      // Assess
      expect(merge.policy.Statement).toEqual([TRAIL[0]?.statement, ADMIN, describeKey]);
      expect(merge.replaced).toEqual([CLOUDTRAIL_STATEMENT_SID]);
      expect(merge.added).toEqual([]);
    });

    it('is left as it is when another statement grants what it no longer does', () => {
      // Prepare
      const narrowed = logsWith({ Action: 'kms:Describe*' });
      const input = policy(narrowed, logsWith({ Sid: 'LogsByAnotherName' }));
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.policy).toEqual(before);
      expect(merge.replaced).toEqual([]);
    });
  });

  describe('the author’s other statements', () => {
    it('are kept exactly, in their order, with fields the engine does not know', () => {
      // Prepare
      const input = {
        Version: '2012-10-17',
        Id: 'custom-policy',
        Statement: [UNUSUAL, ADMIN, VIA_GRANT, logsWith({ Action: 'kms:Describe*' }), AUDIT],
      };
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS, ...TRAIL]);

      // Assess
      expect(merge.policy).toEqual({
        Version: '2012-10-17',
        Id: 'custom-policy',
        Statement: [
          UNUSUAL,
          ADMIN,
          VIA_GRANT,
          EXPECTED_LOGS_STATEMENT,
          AUDIT,
          TRAIL[0]?.statement,
          TRAIL[1]?.statement,
        ],
      });
      expect(JSON.stringify(merge.policy.Statement[0])).toBe(JSON.stringify(before.Statement[0]));
      expect(JSON.stringify(merge.policy.Statement[2])).toBe(JSON.stringify(before.Statement[2]));
      expect(input).toEqual(before);
    });

    it('keeps document fields other than Statement', () => {
      // Prepare
      const input = { ...policy(ADMIN), Extra: { note: 'kept' } } as PolicyDocument;

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.policy).toEqual({ ...input, Statement: [ADMIN, EXPECTED_LOGS_STATEMENT] });
    });
  });

  describe('a Deny that blocks a service', () => {
    const denyLogs: PolicyStatement = {
      Sid: 'NoLogsDecrypt',
      Effect: 'Deny',
      Principal: { Service: LOGS_SERVICE },
      Action: 'kms:Decrypt*',
      Resource: '*',
    };
    const denyEveryone: PolicyStatement = {
      Sid: 'FreezeTheKey',
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:*',
      Resource: '*',
    };

    it.each([
      ['the service, for one of its actions', denyLogs, 'NoLogsDecrypt'],
      ['every principal, for every KMS action', denyEveryone, 'FreezeTheKey'],
      [
        'the service in a list, without a Sid',
        { ...denyLogs, Sid: undefined, Principal: { Service: ['s3.amazonaws.com', LOGS_SERVICE] } },
        `Deny for ${LOGS_SERVICE}`,
      ],
    ])('is reported and kept when it denies %s', (_label, deny, name) => {
      // Prepare
      const input = policy(ADMIN, deny, EXPECTED_LOGS_STATEMENT);
      const before = structuredClone(input);

      // Act
      const merge = mergeRequiredStatements(input, [LOGS]);

      // Assess
      expect(merge.blockingDenies).toEqual([name]);
      expect(merge.policy).toEqual(before);
    });

    it('is reported and kept while the missing statement is added', () => {
      // Act
      const merge = mergeRequiredStatements(policy(denyLogs, ADMIN), [LOGS]);

      // Assess
      expect(merge.policy.Statement).toEqual([denyLogs, ADMIN, EXPECTED_LOGS_STATEMENT]);
      expect(merge.added).toEqual([LOGS_STATEMENT_SID]);
      expect(merge.blockingDenies).toEqual(['NoLogsDecrypt']);
    });

    it('is named once when it blocks several required statements', () => {
      // Act
      const merge = mergeRequiredStatements(policy(denyEveryone, ADMIN), [LOGS, ...TRAIL]);

      // Assess
      expect(merge.blockingDenies).toEqual(['FreezeTheKey']);
      expect(merge.policy.Statement[0]).toEqual(denyEveryone);
      expect(merge.policy.Statement).toHaveLength(5);
    });

    it.each([
      ['another service', { ...denyLogs, Principal: { Service: 's3.amazonaws.com' } }],
      ['actions the service does not need', { ...denyEveryone, Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'] }],
      ['an account principal', { ...denyEveryone, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/mallory` } }],
    ])('is not reported when it denies %s', (_label, deny) => {
      // Act
      const merge = mergeRequiredStatements(policy(deny, EXPECTED_LOGS_STATEMENT), [LOGS]);

      // Assess
      expect(merge.blockingDenies).toEqual([]);
    });
  });
});

describe('review fixes', () => {
  const need = logsStatement('eu-west-1', '123456789012');

  it('replaces our own Sid turned into a Deny without also reporting it as a Deny to leave alone', () => {
    const policy = parsePolicy(JSON.stringify({ Statement: [{ ...need.statement, Effect: 'Deny' }] }));
    const merge = mergeRequiredStatements(policy, [need]);
    expect(merge.replaced).toEqual([need.statement.Sid]);
    expect(merge.blockingDenies).toEqual([]);
  });

  it.each([
    [
      'one action inside a needed wildcard',
      { Effect: 'Deny', Principal: { Service: need.service }, Action: 'kms:Decrypt' },
    ],
    ['a NotAction that does not spare it', { Effect: 'Deny', Principal: '*', NotAction: 'kms:PutKeyPolicy' }],
    ['every AWS principal', { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:*' }],
  ])('reports a Deny on %s', (_label, deny) => {
    const policy = parsePolicy(JSON.stringify({ Statement: [need.statement, { Sid: 'Blocker', ...deny }] }));
    expect(mergeRequiredStatements(policy, [need]).blockingDenies).toEqual(['Blocker']);
  });

  it.each(['null', '{"Statement": null}', '{"Statement": [null]}'])('rejects %s as no policy', (text) => {
    expect(() => parsePolicy(text)).toThrow('the key policy has no Statement');
  });
});

describe('statementText', () => {
  it.each([
    [
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
        Action: ['kms:Encrypt*', 'kms:Decrypt*'],
      },
      'Logs: Allow logs.eu-west-1.amazonaws.com kms:Encrypt*, kms:Decrypt*',
    ],
    [
      { Effect: 'Deny', Principal: '*', NotAction: 'kms:Describe*', Resource: '*' },
      '(no Sid): Deny * not kms:Describe*',
    ],
    [
      { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::123456789012:root'] }, Action: 'kms:*' },
      'Admins: Allow arn:aws:iam::123456789012:root kms:*',
    ],
  ] satisfies [PolicyStatement, string][])('names %j by Sid, effect, principal and actions', (statement, text) => {
    // Act
    const named = statementText(statement);

    // Assess
    expect(named).toBe(text);
  });
});
