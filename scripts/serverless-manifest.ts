/**
 * What serverless.yml reads through ${file(./scripts/serverless-manifest.cjs):...}: each guard's function, EventBridge
 * rules, role and log-group settings, derived from the registry, and the engine's exact identities (its roles' ARNs,
 * its rules' ARNs) that the shared resources' policies name. Computed at variable resolution: no build product.
 */

import { stackActivityLogGroupName } from '../lib/activity-log-group.js';
import { alarmNoticePattern } from '../lib/alarms/alarm-notice-rule.js';
import { engineActivityAlarms } from '../lib/alarms/engine-alarms.js';
import { BACKUP_FUNCTION_KEY, backupStack } from '../lib/backup/stack.js';
import { type DeployedGuard, type Guard, LAMBDA_ATTEMPTS } from '../lib/guard.js';
import {
  ALARM_NOTICE_FILE,
  engineRoleNames,
  eventPatterns,
  type PolicyStatement,
  ruleStatements,
} from '../lib/manifest.js';
import { GUARDS, REGION_FORWARDERS } from '../lib/registry.js';
import { STATE_TABLE_ARN } from '../lib/rule.js';
import { forwardersTemplate } from '../lib/rules/region-forwarders.js';
import { SWEEP_PLAN } from '../lib/sweep/plan.js';

interface ResolverContext {
  resolveVariable(address: string): Promise<unknown>;
}

const pascal = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

/** The stack's fixed names: roles and rules are named, so their ARNs are known without a GetAtt (and its cycles). */
interface StackNames {
  service: string;
  stage: string;
}

const roleName = ({ service, stage }: StackNames, file: string) => `${service}-${stage}-${file}`;
const roleArnTemplate = (name: string) => `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${name}`;
const roleArn = (name: string) => ({ 'Fn::Sub': roleArnTemplate(name) });

/**
 * A guard's EventBridge rules: one per pattern, each named as osls would name it by default (<function>-rule-<n>),
 * but explicitly, so that the policies naming the rules' ARNs and the rules cannot disagree.
 */
function guardRules(names: StackNames, guard: Guard, engineRoleArns: unknown[]) {
  return eventPatterns(guard, engineRoleArns).map((pattern, index) => {
    const name = `${names.service}-${names.stage}-${guard.functionKey}-rule-${index + 1}`;
    if (name.length > 64) throw new Error(`EventBridge rule name ${name} is longer than 64 characters`);
    return { name, pattern };
  });
}

const functionName = ({ service, stage }: StackNames, key: string) => `${service}-${stage}-${key}`;

const ruleArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${name}`,
});

function guardFunction(guard: DeployedGuard, names: StackNames, engineRoleArns: unknown[], concurrency: number) {
  const dlq = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
  return {
    // Named explicitly (osls's default name): its role's policy names the function's ARN.
    name: functionName(names, guard.functionKey),
    handler: 'index.handler',
    description: guard.description,
    role: `${pascal(guard.functionKey)}Role`,
    package: { artifact: `.build/${guard.file}.zip` },
    ...(guard.environment ? { environment: guard.environment } : {}),
    // Bursts (a deployment wave creating hundreds of log groups) queue instead of exceeding AWS's API quotas.
    reservedConcurrency: concurrency,
    maximumRetryAttempts: LAMBDA_ATTEMPTS - 1,
    maximumEventAge: 3600,
    destinations: { onFailure: { type: 'sqs', arn: dlq } },
    events: guardRules(names, guard, engineRoleArns).map(({ name, pattern }) => ({
      eventBridge: {
        name,
        pattern,
        retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 5 },
        deadLetterQueueArn: dlq,
      },
    })),
  };
}

/** What every function needs beside its rules: its log, the notice topic and its key, dead letters, its own records. */
function ownStatements(ownFunction: string, stateActions: string[]): PolicyStatement[] {
  return [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${ownFunction}:*`,
      },
    },
    { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'NoticeTopic' } },
    // The notice topic and the dead-letter queue (Lambda's on-failure destination sends as the role) use the stack's key.
    { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': ['LogKey', 'Arn'] } },
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } },
    // Idempotency records and the notice outbox (and the sweep's cursor) in the state table.
    { Effect: 'Allow', Action: stateActions, Resource: { 'Fn::Sub': STATE_TABLE_ARN } },
  ];
}

/** Idempotency (Powertools: get, put, update, delete) and the notice outbox (put, update, query). */
const GUARD_STATE_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/**
 * Lambda's trust lets any function assume the role (iam:PassRole + lambda:CreateFunction suffice): a call made from
 * another function's code carries that function's ARN (lambda:SourceFunctionArn) and is refused, so only the engine's
 * own function acts as the engine. Calls Lambda makes outside the function carry no source ARN and are left alone.
 */
function onlyOwnFunction(name: string) {
  return {
    Sid: 'DenyOtherFunctions',
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      Null: { 'lambda:SourceFunctionArn': 'false' },
      ArnNotEquals: {
        'lambda:SourceFunctionArn': {
          'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}`,
        },
      },
    },
  };
}

function lambdaRole(name: string, ownFunction: string, description: string, statements: PolicyStatement[]) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: name,
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'driftguard',
          PolicyDocument: { Version: '2012-10-17', Statement: [onlyOwnFunction(ownFunction), ...statements] },
        },
      ],
    },
  };
}

/** A guard whose invocations fail (after the SDK's retries) tells the notice topic. */
function errorsAlarm(id: string) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `driftguard: ${id} failed to handle an event (see its log and the dead-letter queue)`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${id}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'NoticeTopic' }],
    },
  };
}

/**
 * The sweep function's own powers: the regions it sweeps (account:ListRegions takes the account resource), and each
 * guard it has run its rules' pages, by exact function ARN. What a page fixes, the guard's own role allows.
 */
function sweepStatements(names: StackNames): PolicyStatement[] {
  return [
    {
      Effect: 'Allow',
      Action: ['account:ListRegions'],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:account::${AWS::AccountId}:account' },
    },
    {
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: sweptGuards().map((guard) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${functionName(names, guard.functionKey)}`,
      })),
    },
  ];
}

/** The guards whose rules the sweep has a pass for (lib/sweep/plan.ts): it invokes each for its pages. */
const sweptGuards = () =>
  GUARDS.filter((guard) => SWEEP_PLAN.passes.some((pass) => pass.functionKey === guard.functionKey));

/** The sweep's state: its cursor (get, put, delete) in the state table. */
const SWEEP_STATE_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'];

/** Daily by default (the sweepSchedule param), and every 15 minutes a continuation of a sweep left open. */
function sweepFunction(names: StackNames) {
  // Which function runs each guard's pages: DRIFTGUARD_GUARD_FUNCTIONS (lib/sweep/invoked-pass.ts). The stack's own
  // ARN: the forwarders' custom resource answers only its own stack's requests.
  const environment = {
    DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' },
    DRIFTGUARD_GUARD_FUNCTIONS: sweptGuards()
      .map((guard) => `${guard.functionKey}=${functionName(names, guard.functionKey)}`)
      .join(','),
  };
  return {
    name: functionName(names, 'sweep'),
    handler: 'index.handler',
    description: "Finds and fixes drift that no event reported, in every region, with the guards' decisions",
    role: 'SweepRole',
    package: { artifact: '.build/sweep.zip' },
    environment,
    timeout: 900,
    memorySize: 512,
    reservedConcurrency: 1,
    maximumRetryAttempts: 0,
    events: [
      { schedule: { rate: ['${param:sweepSchedule}'], input: { continue: false } } },
      { schedule: { rate: ['rate(15 minutes)'], input: { continue: true } } },
    ],
  };
}

const ALARM_NOTICE_KEY = 'alarmNotice';
const alarmNoticeRuleName = ({ service, stage }: StackNames) => `${service}-${stage}-${ALARM_NOTICE_KEY}-rule-1`;

/**
 * The alarm notice: an EventBridge rule on the stage's 14 activity alarms entering ALARM invokes it; it reads the
 * log group the activity trail delivers to (the stack's, set here, only when the trail delivers to none) and publishes
 * one notice per state change.
 */
function alarmNoticeFunction(names: StackNames, activityLogGroup: string) {
  const dlq = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
  const alarmNames = engineActivityAlarms(names.stage).map((alarm) => alarm.alarmName);
  return {
    name: functionName(names, ALARM_NOTICE_KEY),
    handler: 'index.handler',
    description: 'Names who tripped an activity alarm (CloudWatch.1-14): the matching CloudTrail records, one notice',
    role: 'AlarmNoticeRole',
    package: { artifact: `.build/${ALARM_NOTICE_FILE}.zip` },
    // DRIFTGUARD_STAGE (the alarms' names) comes with every function's settings.
    environment: { DRIFTGUARD_ACTIVITY_LOG_GROUP: activityLogGroup },
    reservedConcurrency: 2,
    maximumRetryAttempts: LAMBDA_ATTEMPTS - 1,
    maximumEventAge: 3600,
    destinations: { onFailure: { type: 'sqs', arn: dlq } },
    events: [
      {
        eventBridge: {
          name: alarmNoticeRuleName(names),
          pattern: alarmNoticePattern(alarmNames),
          retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 5 },
          deadLetterQueueArn: dlq,
        },
      },
    ],
  };
}

/**
 * What the notice reads. The group is the one the activity trail delivers to, known only at run time (an account's
 * trail usually delivers to a group of its own, not the stack's): cloudtrail:DescribeTrails to find it (an action with
 * no resource-level permissions, so "*"), and logs:FilterLogEvents on the log groups of this account in the stack's
 * region alone (the home region, where the trail, its group and the alarms are). IAM has no narrower form for a name
 * known only at run time (FilterLogEvents has no condition key naming the group); the code narrows the rest: it reads
 * only the group CloudTrail names (lib/alarms/engine-alarms.ts), never one the alarm event names. Read-only either way.
 */
const activityLogGroupRead = (): PolicyStatement[] => [
  { Effect: 'Allow', Action: ['cloudtrail:DescribeTrails'], Resource: ['*'] },
  {
    Effect: 'Allow',
    Action: ['logs:FilterLogEvents'],
    Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*' }],
  },
];

/**
 * What every function needs, with the state table narrowed to the alarm notices' outbox items: UpdateItem (a claim,
 * then sent) on items whose key starts notice#alarm# (dynamodb:LeadingKeys), nothing else of the table.
 */
function alarmNoticeOwnStatements(ownFunction: string): PolicyStatement[] {
  return ownStatements(ownFunction, ['dynamodb:UpdateItem']).map((statement) =>
    statement.Action.includes('dynamodb:UpdateItem')
      ? { ...statement, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notice#alarm#*'] } } }
      : statement,
  );
}

export default async function resolve({ resolveVariable }: ResolverContext) {
  const names: StackNames = {
    service: String(await resolveVariable('self:service')),
    stage: String(await resolveVariable('sls:stage')),
  };
  const { service, stage } = names;
  const concurrency = Number(await resolveVariable('param:guardConcurrency'));
  // Empty: the stack's own activity group, to which the activity-alarms rule links a trail that delivers to none.
  const activityLogGroup = String(await resolveVariable('param:activityLogGroup')) || stackActivityLogGroupName(stage);
  const engineRoles = engineRoleNames(`${service}-${stage}`, GUARDS);
  const engineRoleArns = engineRoles.map(roleArn);
  const functions: Record<string, unknown> = {};
  const resources: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const guard of GUARDS) {
    const id = pascal(guard.functionKey);
    functions[guard.functionKey] = guardFunction(guard, names, engineRoleArns, concurrency);
    resources[`${id}ErrorsAlarm`] = errorsAlarm(id);
    const guardFunctionName = functionName(names, guard.functionKey);
    resources[`${id}Role`] = lambdaRole(
      roleName(names, guard.file),
      guardFunctionName,
      `driftguard ${guard.file}: exactly the actions its rules declare`,
      [...ruleStatements(guard), ...ownStatements(guardFunctionName, GUARD_STATE_ACTIONS)],
    );
    Object.assign(resources, guard.resources?.({ stage }) ?? {});
    // The engine obeys its own policy: its log groups use the stack's key (retention comes from provider).
    extensions[`${id}LogGroup`] = {
      Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] } },
    };
  }
  const forwarders = forwardersTemplate({
    stage,
    regions: String(await resolveVariable('param:regions')),
    guards: GUARDS,
  });
  const sweep = sweepFunction(names);
  Object.assign(functions, { sweep: { ...sweep, environment: { ...sweep.environment, ...forwarders.environment } } });
  Object.assign(resources, forwarders.resources);
  resources.SweepRole = lambdaRole(
    roleName(names, 'sweep'),
    functionName(names, 'sweep'),
    'driftguard sweep: keeps the forwarders, has each guard sweep its own rules, keeps its cursor',
    [
      ...ruleStatements({ rules: [REGION_FORWARDERS] }),
      ...sweepStatements(names),
      ...ownStatements(functionName(names, 'sweep'), SWEEP_STATE_ACTIONS),
    ],
  );
  resources.SweepErrorsAlarm = errorsAlarm('Sweep');
  extensions.SweepLogGroup = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] } } };
  functions[ALARM_NOTICE_KEY] = alarmNoticeFunction(names, activityLogGroup);
  resources.AlarmNoticeRole = lambdaRole(
    roleName(names, ALARM_NOTICE_FILE),
    functionName(names, ALARM_NOTICE_KEY),
    "driftguard alarm-notice: reads the activity trail's log group, publishes the notice",
    [...activityLogGroupRead(), ...alarmNoticeOwnStatements(functionName(names, ALARM_NOTICE_KEY))],
  );
  resources.AlarmNoticeErrorsAlarm = errorsAlarm('AlarmNotice');
  extensions.AlarmNoticeLogGroup = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] } } };
  const backupFunctionName = functionName(names, BACKUP_FUNCTION_KEY);
  const backup = backupStack({
    stage,
    functionName: backupFunctionName,
    bucket: String((await resolveVariable('param:backupBucket')) ?? ''),
    schedule: String(await resolveVariable('param:backupSchedule')),
    coldAfterDays: Number(await resolveVariable('param:backupColdAfterDays')),
    environment: {
      DRIFTGUARD_BACKUP_BUCKETS: String((await resolveVariable('param:backupBuckets')) ?? ''),
      DRIFTGUARD_BACKUP_LOG_GROUPS: String((await resolveVariable('param:backupLogGroups')) ?? ''),
      DRIFTGUARD_BACKUP_SINCE_DAYS: String((await resolveVariable('param:backupSinceDays')) ?? ''),
      DRIFTGUARD_BACKUP_SETTLE_HOURS: String((await resolveVariable('param:backupSettleHours')) ?? ''),
    },
  });
  functions[BACKUP_FUNCTION_KEY] = backup.function;
  Object.assign(resources, backup.resources);
  resources.BackupRole = lambdaRole(
    roleName(names, BACKUP_FUNCTION_KEY),
    backupFunctionName,
    'driftguard backup: export log groups to the backup bucket, its own records in the state table, its notices',
    backup.roleStatements,
  );
  resources.BackupErrorsAlarm = errorsAlarm('Backup');
  extensions.BackupLogGroup = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] } } };
  return {
    functions,
    resources: { Resources: resources, extensions },
    /** Each engine role's ARN (Fn::Sub), for the shared resources' policies. */
    engineRoleArns,
    /** The same, comma-separated in one Fn::Sub: DRIFTGUARD_ENGINE_ROLE_ARNS. */
    engineRoleArnList: { 'Fn::Sub': engineRoles.map(roleArnTemplate).join(',') },
    /** Every guard rule's ARN: the only senders to the dead-letter queue (and users of its key) besides the roles. */
    guardRuleArns: [
      ...GUARDS.flatMap((guard) => guardRules(names, guard, engineRoleArns).map(({ name }) => ruleArn(name))),
      ruleArn(alarmNoticeRuleName(names)),
    ],
  };
}
