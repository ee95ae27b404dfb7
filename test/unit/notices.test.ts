import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { buildNotice, type NoticeInput, publishInput } from '../../lib/notices.js';
import { type Action, OUTCOMES, type Outcome, type Resource } from '../../lib/rule.js';
import { logGroupEncryptionRetention as rule } from '../../lib/rules/log-group-encryption-retention.js';
import { assumedRole, madeBy } from '../support/identities.js';
import { ACCOUNT, params, sample, sampleWith } from './fixtures.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:driftguard-notices';

const ASSOCIATE: Action = {
  api: 'logs:AssociateKmsKey',
  params: { logGroupName: '/app/payments-api/prod', kmsKeyId: KEY },
  summary: `KMS key none -> ${KEY}`,
  brief: 'encrypted',
};
const RETAIN: Action = {
  api: 'logs:PutRetentionPolicy',
  params: { logGroupName: '/app/payments-api/prod', retentionInDays: 365 },
  summary: 'retention none (never expire) -> 365 days',
  brief: 'retention 365d',
};

function input(overrides: Partial<NoticeInput> = {}): NoticeInput {
  const event = overrides.event ?? sample('logs-CreateLogGroup-plain');
  const name = (event.detail.requestParameters?.logGroupName as string | undefined) ?? '/app/payments-api/prod';
  return {
    event,
    ruleId: rule.id,
    ruleTitle: rule.title,
    severity: 'medium',
    outcome: 'remediated',
    reason: 'encryption: none; retention: none (never expire)',
    resource: rule.describe({ name, region: event.detail.awsRegion, account: event.account }),
    findings: [
      { attribute: 'kmsKeyId', before: 'none', after: KEY },
      { attribute: 'retentionInDays', before: 'none (never expire)', after: '365 days' },
    ],
    actions: [ASSOCIATE, RETAIN],
    failures: [],
    needsHuman: [],
    ...overrides,
  };
}

const SSO_SESSION = 'firstname.lastname@example-corporation.com';

function withGroupName(name: string) {
  return sampleWith('logs-CreateLogGroup-plain', (raw) => {
    params(raw).logGroupName = name;
  });
}

/** The event as made by an IAM Identity Center (SSO) session: the actor is the session name. */
function withSsoSession(event: CloudTrailEvent, session: string): CloudTrailEvent {
  return madeBy(event, assumedRole('AWSReservedSSO_AdministratorAccess_0123456789abcdef', session, { issuer: false }));
}

function withActor(event: CloudTrailEvent, userName: string): CloudTrailEvent {
  const userIdentity = { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/${userName}`, userName };
  return { ...event, detail: { ...event.detail, userIdentity } };
}

function trail(name: string): Resource {
  return { type: 'trail', id: name, region: 'eu-west-1' };
}

function trailAction(api: string, brief: string): Action {
  return { api: `cloudtrail:${api}`, params: { Name: 'org-audit-trail' }, summary: `${api} org-audit-trail`, brief };
}

describe('buildNotice subject', () => {
  it('starts with the severity, resource, event and actor, then the fixes in brief', () => {
    // Act
    const notice = buildNotice(input({ event: withGroupName('/a'), actions: [ASSOCIATE, RETAIN] }));

    // Assess
    expect(notice.subject).toBe('[driftguard] MEDIUM log group /a CreateLogGroup by alice: encrypted, retention 365d');
  });

  it('drops the resource type first (the README’s example)', () => {
    // Act
    const notice = buildNotice(input());

    // Assess
    expect(notice.subject).toBe(
      '[driftguard] MEDIUM /app/payments-api/prod CreateLogGroup by alice: encrypted, retention 365d',
    );
  });

  it('cuts the fixes from the end of their list before the name', () => {
    // Act
    const notice = buildNotice(input({ event: withGroupName(`/app/${'x'.repeat(28)}/prod`) }));

    // Assess
    expect(notice.subject).toBe(
      `[driftguard] MEDIUM /app/${'x'.repeat(28)}/prod CreateLogGroup by alice: encrypted, ...`,
    );
  });

  it('says remediated when no fix fits, then shortens the name in its middle', () => {
    // Act
    const notice = buildNotice(input({ event: withGroupName(`/app/${'x'.repeat(40)}/prod`) }));

    // Assess
    expect(notice.subject).toBe(
      '[driftguard] MEDIUM /app/xxxxxxxxxxxxxxx...xxxxxxxxxxxxxxx/prod CreateLogGroup by alice: remediated',
    );
  });

  it('shortens the actor last, after the name is down to 20 characters', () => {
    // Act
    const notice = buildNotice(
      input({ event: withActor(withGroupName(`/app/${'x'.repeat(40)}/prod`), `${'a'.repeat(60)}@example.com`) }),
    );

    // Assess
    expect(notice.subject).toBe(
      `[driftguard] MEDIUM /app/xxxx...xxx/prod CreateLogGroup by ${'a'.repeat(13)}...@example.com: remediated`,
    );
  });

  it('keeps FAILED for a failed trail fix by an SSO session with a long trail name (issue 17)', () => {
    // Prepare
    const failed = { action: trailAction('StartLogging', 'logging started'), error: 'TrailNotFoundException' };

    // Act
    const notice = buildNotice(
      input({
        event: withSsoSession(sample('cloudtrail-DeleteTrail-by-name'), SSO_SESSION),
        severity: 'critical',
        outcome: 'failed',
        resource: trail('organization-audit-trail-eu-west-1'),
        actions: [trailAction('CreateTrail', 're-created')],
        failures: [failed],
      }),
    );

    // Assess
    expect(notice.subject).toBe(
      '[driftguard] CRITICAL organizat...u-west-1 DeleteTrail by firstname.las...rporation.com: FAILED ...',
    );
  });

  it('names a role session as the actor', () => {
    // Act
    const notice = buildNotice(input({ event: sample('logs-PutRetentionPolicy'), actions: [] }));

    // Assess
    expect(notice.subject).toBe(
      '[driftguard] MEDIUM /app/search/prod PutRetentionPolicy by jane.doe@example.com: remediated',
    );
  });

  it.each([
    ['remediated', [RETAIN], [], 'retention 365d'],
    ['remediated', [], [], 'remediated'],
    ['planned', [ASSOCIATE, RETAIN], [], 'would do: encrypted, retention 365d'],
    ['failed', [RETAIN], [ASSOCIATE], 'FAILED AssociateKmsKey; done: retention 365d'],
    ['failed', [], [ASSOCIATE], 'FAILED AssociateKmsKey'],
    ['needs-human', [RETAIN], [], 'needs a human; done: retention 365d'],
    ['needs-human', [], [], 'needs a human'],
    ['compliant', [], [], 'compliant'],
    ['ignored', [], [], 'ignored'],
  ] as const)('says %s outcomes in words, with what was done (%j, failed %j)', (outcome, actions, failed, words) => {
    // Act
    const failures = failed.map((action) => ({ action, error: 'InvalidParameterException: disabled' }));
    const notice = buildNotice(input({ event: withGroupName('/a'), outcome, actions: [...actions], failures }));

    // Assess
    expect(notice.subject.endsWith(` /a CreateLogGroup by alice: ${words}`)).toBe(true);
    expect(notice.subject.startsWith('[driftguard] MEDIUM ')).toBe(true);
  });

  it.each([
    ['a 512-character name', `/${'a'.repeat(511)}`],
    ['emoji', '/app/🔥🔥🔥/prod'],
    ['right-to-left text', '/app/\u05E9\u05DC\u05D5\u05DD\u202E/prod'],
    ['NUL and line breaks', '/app/a\u0000b\r\nSubject: injected'],
    ['a 512-character name of emoji', `/${'😀'.repeat(255)}`],
  ])('stays printable ASCII, one line, under 100 characters with %s', (_label, name) => {
    // Act
    const notice = buildNotice(input({ event: withGroupName(name) }));

    // Assess
    expect(notice.subject.length).toBeLessThan(100);
    expect(notice.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(notice.subject.startsWith('[driftguard] MEDIUM ')).toBe(true);
    expect(notice.subject).toContain(' CreateLogGroup by alice: ');
  });

  it('marks a shortened name with an ellipsis', () => {
    // Act
    const notice = buildNotice(input({ event: withGroupName(`/${'a'.repeat(511)}`) }));

    // Assess
    expect(notice.subject).toMatch(/^\[driftguard\] MEDIUM \/a+\.\.\.a+ CreateLogGroup by alice: remediated$/);
  });

  it('shortens an event name only when it is longer than any a guard is sent, and keeps the outcome', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      raw.detail.eventName = `Create${'X'.repeat(122)}`;
    });

    // Act
    const notice = buildNotice(input({ event, outcome: 'needs-human', actions: [RETAIN] }));

    // Assess
    expect(notice.subject.length).toBe(99);
    expect(notice.subject).toBe(
      `[driftguard] MEDIUM /a...od Create${'X'.repeat(11)}...${'X'.repeat(16)} by alice: needs a human; done: ...`,
    );
  });
});

describe('buildNotice subject, every shortening', () => {
  const LONG_FIXES = [
    trailAction('UpdateTrail', 'isMultiRegionTrail, logFileValidationEnabled, includeGlobalServiceEvents restored'),
    trailAction('PutEventSelectors', 'management events restored'),
    trailAction('StartLogging', 'logging started'),
    trailAction('CreateTrail', 're-created'),
  ];
  const resources = [
    ['short resource', 'a'],
    ['long resource', `org-${'trail-'.repeat(20)}eu-west-1`.slice(0, 128)],
  ] as const;
  const actors = [
    ['short actor', (event: CloudTrailEvent) => event],
    ['SSO session actor', (event: CloudTrailEvent) => withSsoSession(event, SSO_SESSION)],
    ['64-character user', (event: CloudTrailEvent) => withActor(event, `${'u'.repeat(52)}@example.com`)],
  ] as const;
  const fixLists = [
    ['short fix list', [trailAction('CreateTrail', 're-created')]],
    ['long fix list', LONG_FIXES],
  ] as const;
  const events = [
    ['DeleteTrail', sample('cloudtrail-DeleteTrail-by-name')],
    ['DeleteVirtualMFADevice', sample('iam-DeleteVirtualMFADevice')],
  ] as const;
  // Every outcome's words, as the subject's tail starts: a remediation is said by its first fix or in a word.
  const OUTCOME_TAIL: Record<Outcome, (firstFix: string) => RegExp> = {
    remediated: (firstFix) => new RegExp(`^(remediated|${firstFix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`),
    planned: () => /^would do: /,
    failed: () => /^FAILED /,
    'needs-human': () => /^needs a human; /,
    compliant: () => /^compliant$/,
    ignored: () => /^ignored$/,
  };
  const cases = resources.flatMap(([resourceLabel, name]) =>
    actors.flatMap(([actorLabel, withActorOf]) =>
      fixLists.flatMap(([fixesLabel, fixes]) =>
        events.flatMap(([eventName, event]) =>
          OUTCOMES.flatMap((outcome) =>
            (['low', 'critical'] as const).map((severity) => ({
              label: `${severity} ${outcome} ${eventName}, ${resourceLabel}, ${actorLabel}, ${fixesLabel}`,
              name,
              event: withActorOf(event),
              fixes,
              eventName,
              outcome,
              severity,
            })),
          ),
        ),
      ),
    ),
  );

  it.each(cases)('$label', ({ name, event, fixes, eventName, outcome, severity }) => {
    // Prepare: a failed notice lists the last fix as failed, the others as done
    const failed = outcome === 'failed';
    const done = failed ? fixes.slice(0, -1) : fixes;
    const failures = failed ? fixes.slice(-1).map((action) => ({ action, error: 'ServiceUnavailableException' })) : [];

    // Act
    const { subject } = buildNotice(
      input({ event, severity, outcome, resource: trail(name), actions: [...done], failures }),
    );

    // Assess
    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.startsWith(`[driftguard] ${severity.toUpperCase()} `)).toBe(true);
    expect(subject).toContain(` ${eventName} by `);
    const tail = subject.slice(subject.indexOf(': ', subject.indexOf(` ${eventName} by `)) + 2);
    expect(tail).toMatch(OUTCOME_TAIL[outcome](done[0]?.brief ?? ''));
  });
});

describe('buildNotice text', () => {
  it('says what drifted, who, when, what was done, the console link and the event id', () => {
    // Act
    const { text } = buildNotice(input());

    // Assess
    expect(text.split('\n')).toEqual([
      `REMEDIATED: ${rule.title}`,
      '',
      'What drifted: log group /app/payments-api/prod (CreateLogGroup)',
      `  - kmsKeyId: none -> ${KEY}`,
      '  - retentionInDays: none (never expire) -> 365 days',
      'Who: alice (arn:aws:iam::123456789012:user/alice) from 198.51.100.10',
      'When: 2026-11-20T10:00:00Z',
      'What was done:',
      `  - KMS key none -> ${KEY} (logs:AssociateKmsKey)`,
      '  - retention none (never expire) -> 365 days (logs:PutRetentionPolicy)',
      'Why: encryption: none; retention: none (never expire)',
      '',
      'Rule: log-group-encryption-retention   Severity: medium   Outcome: remediated',
      'Account: 123456789012   Region: eu-west-1',
      'Resource: arn:aws:logs:eu-west-1:123456789012:log-group:/app/payments-api/prod',
      'Console: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fapp$252Fpayments-api$252Fprod',
      'Event: e0d2b6a1-0001-4a3b-8c2d-000000000001',
    ]);
  });

  it('says a planned notice changed nothing', () => {
    // Act
    const notice = buildNotice(input({ outcome: 'planned' }));

    // Assess
    expect(notice.text).toMatch(/^WOULD REMEDIATE: /);
    expect(notice.text).toContain('What would be done (notify mode, nothing changed):\n  - KMS key none -> ');
    expect(notice.subject).toContain(' by alice: would do: encrypted');
  });

  it('lists failed writes with their error beside what was done', () => {
    // Act
    const notice = buildNotice(
      input({
        outcome: 'failed',
        reason: '1 of 2 fixes failed',
        actions: [RETAIN],
        failures: [{ action: ASSOCIATE, error: 'ServiceUnavailableException: try later' }],
      }),
    );

    // Assess
    expect(notice.text).toMatch(/^REMEDIATION FAILED: /);
    expect(notice.text).toContain(
      [
        'What was done:',
        '  - retention none (never expire) -> 365 days (logs:PutRetentionPolicy)',
        `  ! FAILED KMS key none -> ${KEY} (logs:AssociateKmsKey): ServiceUnavailableException: try later`,
      ].join('\n'),
    );
    expect(notice.text).toContain('Why: 1 of 2 fixes failed');
  });

  it('tells a human what to do, and says when nothing was done', () => {
    // Act
    const notice = buildNotice(
      input({ outcome: 'needs-human', actions: [], needsHuman: ['Associate a customer managed KMS key.'] }),
    );

    // Assess
    expect(notice.text).toMatch(/^NEEDS A HUMAN: /);
    expect(notice.text).toContain(
      'What was done: nothing\nWhat a human must do:\n  - Associate a customer managed KMS key.',
    );
  });

  it('falls back to the identity type and unknown IP', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      raw.detail.userIdentity = { type: 'AWSService', invokedBy: 'logs.amazonaws.com' };
      Reflect.deleteProperty(raw.detail, 'sourceIPAddress');
    });

    // Act
    const notice = buildNotice(input({ event }));

    // Assess
    expect(notice.text).toContain('Who: logs.amazonaws.com (AWSService) from unknown IP');
  });
});

describe('buildNotice document and attributes', () => {
  it('carries the machine-readable facts', () => {
    // Act
    const notice = buildNotice(input());

    // Assess
    expect(notice.document).toMatchObject({
      kind: 'driftguard.notice',
      version: 1,
      rule: 'log-group-encryption-retention',
      severity: 'medium',
      outcome: 'remediated',
      account: ACCOUNT,
      region: 'eu-west-1',
      actor: { arn: 'arn:aws:iam::123456789012:user/alice', name: 'alice', type: 'IAMUser' },
      sourceIPAddress: '198.51.100.10',
      event: {
        id: 'e0d2b6a1-0001-4a3b-8c2d-000000000001',
        name: 'CreateLogGroup',
        time: '2026-11-20T10:00:00Z',
        source: 'logs.amazonaws.com',
      },
      // What was done, in words: no request parameters.
      actions: [ASSOCIATE, RETAIN].map(({ api, summary }) => ({ api, summary })),
      earlierAttempts: [],
      failures: [],
      needsHuman: [],
    });
    expect(JSON.stringify(notice.document)).not.toContain('"params"');
    expect(notice.attributes).toEqual({
      severity: 'medium',
      rule: 'log-group-encryption-retention',
      outcome: 'remediated',
      account: ACCOUNT,
    });
  });
});

describe('writes of an earlier attempt', () => {
  it('are named in the notice that follows, after what this attempt did', () => {
    // Prepare
    const earlierWrites = [{ api: 'logs:AssociateKmsKey', summary: 'KMS key none -> arn:aws:kms:eu-west-1:k' }];

    // Act
    const notice = buildNotice(input({ actions: [RETAIN], earlierWrites }));

    // Assess
    expect(notice.document.earlierAttempts).toEqual(earlierWrites);
    expect(notice.text).toContain(
      'Done by an earlier attempt at this event, which then failed:\n  - KMS key none -> arn:aws:kms:eu-west-1:k (logs:AssociateKmsKey)',
    );
  });
});

describe('publishInput', () => {
  it('sends a per-protocol JSON message with string attributes', () => {
    // Prepare
    const notice = buildNotice(input({ outcome: 'failed', failures: [{ action: ASSOCIATE, error: 'x' }] }));

    // Act
    const publish = publishInput(notice, TOPIC);

    // Assess
    expect(publish.TopicArn).toBe(TOPIC);
    expect(publish.Subject).toBe(notice.subject);
    expect(publish.MessageStructure).toBe('json');
    const message = JSON.parse(publish.Message) as Record<string, string>;
    expect(Object.keys(message)).toEqual(expect.arrayContaining(['default', 'email', 'sqs', 'lambda', 'https']));
    expect(message.default).toBe(notice.text);
    expect(message.email).toBe(notice.text);
    expect(JSON.parse(message.sqs as string)).toEqual(notice.document);
    expect(JSON.parse(message.lambda as string)).toEqual(notice.document);
    expect(JSON.parse(message.https as string)).toEqual(notice.document);
    expect(publish.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'medium' },
      rule: { DataType: 'String', StringValue: 'log-group-encryption-retention' },
      outcome: { DataType: 'String', StringValue: 'failed' },
      account: { DataType: 'String', StringValue: ACCOUNT },
    });
  });
});
