/**
 * The packaged CloudFormation template (npm run build + serverless package, offline) against the registry:
 * EventBridge patterns, least-privilege roles, encryption; and every sample run through the packaged pattern
 * with EventBridge TestEventPattern on the emulator.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCloudTrailEvent } from '../../lib/envelope.js';
import { declaredActions, eventPatterns } from '../../lib/manifest.js';
import { GUARDS } from '../../lib/registry.js';
import { actorRoleName } from '../../lib/screening.js';
import { buildAll } from '../../scripts/build.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { testEndpoint } from '../support/emulator.js';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is read as loose JSON
type Resource = { Type: string; Properties: Record<string, any>; Condition?: string };
let resources: Record<string, Resource>;

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const pascal = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
const OWN_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'sns:Publish',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'sqs:SendMessage',
];

beforeAll(async () => {
  await buildAll();
  execFileSync(join('node_modules', '.bin', 'serverless'), ['package', '--stage', 'dev'], {
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ENDPOINT_URL: '' },
    stdio: 'pipe',
  });
  const template = JSON.parse(readFileSync('.serverless/cloudformation-template-update-stack.json', 'utf8'));
  resources = template.Resources;
}, 120_000);

describe.each(GUARDS)('the packaged $file', (guard) => {
  const id = pascal(guard.functionKey);

  it('runs nodejs22.x on arm64 from its own esbuild artifact with retries into the dead-letter queue', () => {
    const fn = resources[`${id}LambdaFunction`];
    expect(fn?.Properties.Runtime).toBe('nodejs22.x');
    expect(fn?.Properties.Architectures).toEqual(['arm64']);
    expect(fn?.Properties.Code.S3Key).toMatch(new RegExp(`/${guard.file}\\.zip$`));
    expect(fn?.Properties.Role).toEqual({ 'Fn::GetAtt': [`${id}Role`, 'Arn'] });
    const invoke = resources[`${id}LambdaEvConf`]?.Properties;
    expect(invoke?.MaximumRetryAttempts).toBe(2);
    expect(invoke?.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] });
  });

  it('has EventBridge patterns equal to those derived from its rules, excluding failed calls and its own roles', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      JSON.stringify(rule.Properties.Targets).includes(`${id}LambdaFunction`),
    );
    expect(rules.map(([, rule]) => rule.Properties.EventPattern)).toEqual(eventPatterns(guard, 'driftguard-dev-'));
    for (const [, rule] of rules) {
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] });
    }
  });

  it('has a role allowing exactly its rules’ declared actions plus its own logging, notice and dead-letter needs', () => {
    const role = resources[`${id}Role`];
    expect(role?.Properties.RoleName).toBe(`driftguard-dev-${guard.file}`);
    const statements: { Effect: string; Action: string[]; Resource: unknown }[] = role?.Properties.Policies.flatMap(
      (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
    );
    const allowed = [...new Set(statements.flatMap((statement) => statement.Action))].sort();
    expect(allowed).toEqual([...new Set([...declaredActions(guard), ...OWN_ACTIONS])].sort());
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Action.some((action) => action.includes('*'))).toBe(false);
      expect(statement.Resource).not.toBe('*');
    }
  });

  it('has reserved concurrency and an errors alarm that tells the notice topic', () => {
    expect(resources[`${id}LambdaFunction`]?.Properties.ReservedConcurrentExecutions).toBe(10);
    const alarm = resources[`${id}ErrorsAlarm`]?.Properties;
    expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0 });
    expect(alarm?.AlarmActions).toEqual([{ Ref: 'NoticeTopic' }]);
  });

  it('logs to its own log group, with retention and the stack’s key', () => {
    const group = resources[`${id}LogGroup`]?.Properties;
    expect(group?.LogGroupName).toBe(`/aws/lambda/driftguard-dev-${guard.functionKey}`);
    expect(group?.RetentionInDays).toBe(365);
    expect(group?.KmsKeyId).toEqual({ 'Fn::GetAtt': ['LogKey', 'Arn'] });
  });
});

describe('the sweep function', () => {
  it('runs on a schedule with a role allowing the union of the rules’ actions, listing, and its own needs', () => {
    const fn = resources.SweepLambdaFunction?.Properties;
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': ['SweepRole', 'Arn'] });
    expect(fn?.Timeout).toBe(900);
    const schedules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      JSON.stringify(rule.Properties.Targets).includes('SweepLambdaFunction'),
    );
    expect(schedules.map(([, rule]) => rule.Properties.ScheduleExpression).sort()).toEqual([
      'rate(1 day)',
      'rate(15 minutes)',
    ]);
    const statements: { Action: string[]; Resource: unknown }[] =
      resources.SweepRole?.Properties.Policies[0].PolicyDocument.Statement;
    const allowed = [...new Set(statements.flatMap((statement) => statement.Action))].sort();
    const declared = GUARDS.flatMap((guard) => declaredActions(guard));
    expect(allowed).toEqual(
      [...new Set([...declared, ...OWN_ACTIONS, 'account:ListRegions', 'iam:ListUsers', 'dynamodb:Scan'])].sort(),
    );
    for (const statement of statements) expect(statement.Resource).not.toBe('*');
  });
});

describe('the shared resources', () => {
  it('have a rotating log key that CloudWatch Logs may use for this account’s log groups', () => {
    const key = resources.LogKey?.Properties;
    expect(key?.EnableKeyRotation).toBe(true);
    const logs = key?.KeyPolicy.Statement.find(
      (s: { Sid: string }) => s.Sid === 'CloudWatchLogsUsesKeyForThisAccountsLogGroups',
    );
    expect(logs.Principal.Service).toEqual({ 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com' });
    expect(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*',
    });
  });

  it('encrypt the notice topic and the dead-letter queue, and deny non-TLS access to both', () => {
    expect(resources.NoticeTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'LogKey' });
    expect(resources.DeadLetterQueue?.Properties.SqsManagedSseEnabled).toBe(true);
    for (const policy of ['NoticeTopicPolicy', 'DeadLetterQueuePolicy']) {
      const deny = resources[policy]?.Properties.PolicyDocument.Statement.find(
        (s: { Effect: string }) => s.Effect === 'Deny',
      );
      expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    }
  });

  it('keep the state table encrypted with the stack’s key, with point-in-time recovery and a TTL', () => {
    const table = resources.StateTable?.Properties;
    expect(table?.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { Ref: 'LogKey' } });
    expect(table?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table?.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('alarm on dead letters to the notice topic, which CloudWatch may publish to', () => {
    expect(resources.DeadLetterQueueAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmActions: [{ Ref: 'NoticeTopic' }],
    });
    const statements = resources.NoticeTopicPolicy?.Properties.PolicyDocument.Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toContain('CloudWatchAlarmsPublish');
  });

  it('subscribe the notice email only when the noticeEmail param is given', () => {
    expect(resources.NoticeEmailSubscription?.Condition).toBe('HasNoticeEmail');
  });
});

describe('the packaged patterns on EventBridge TestEventPattern', () => {
  const samples = readdirSync('events')
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ name, text: readFileSync(join('events', name), 'utf8') }));

  it.each(samples)('$name matches unless the call failed or was the engine’s own', async ({ text }) => {
    const event = parseCloudTrailEvent(JSON.parse(text));
    const expected =
      event.detail.errorCode === undefined && !actorRoleName(event.detail.userIdentity)?.startsWith('driftguard-dev-');
    const patterns = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule.Properties.EventPattern)
      .filter((pattern) => pattern !== undefined);
    const eventBridge = new EventBridgeClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    const results = await Promise.all(
      patterns.map(async (pattern) => {
        const { Result } = await eventBridge.send(
          new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: text }),
        );
        return Result;
      }),
    );
    expect(results.some(Boolean)).toBe(expected);
  });
});
