/**
 * The packaged CloudFormation template (serverless package alone, offline, from a fresh copy of the sources: the
 * package step builds what it needs), against values written out by hand: each function, its EventBridge patterns and
 * its role's every statement, the shared resources and their policies; the same stack in another region; and every
 * sample in events/ routed by the packaged patterns (EventBridge TestEventPattern on the emulator) to the one guard
 * that owns it. Nothing here is derived from the code that builds the template: a change to the template fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { INVOKE_ATTEMPTS, INVOKE_TIMEOUT_MS, SWEEP_MARGIN_MS } from '../../lib/sweep/invoked-pass.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { alarmStateChange } from '../support/alarm-events.js';
import { testEndpoint } from '../support/emulator.js';
import { type PackagedTemplate, packageFreshClone, type Resource, resolveSubs } from '../support/packaged-stack.js';

let resources: Record<string, Resource>;
let elsewhere: PackagedTemplate;

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const targetsOf = (rule: Resource): string[] =>
  rule.Properties.Targets.map((target: { Arn: { 'Fn::GetAtt': [string, string] } }) => target.Arn['Fn::GetAtt'][0]);

beforeAll(() => {
  const templates = packageFreshClone(['us-east-1', 'eu-west-1']);
  resources = templates['us-east-1']?.Resources ?? {};
  elsewhere = templates['eu-west-1'] as PackagedTemplate;
}, 180_000);

// --- What the template must hold, written out ---

const sub = (template: string) => ({ 'Fn::Sub': template });
const allow = (Action: string[], Resource: unknown, Condition?: Record<string, unknown>) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

const LOG_GROUPS = sub('arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*');
const KEYS = sub('arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*');
const TRAILS = sub('arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*');
const ROLES = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*');
const USERS = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*');
/** Actions IAM gives no resource type (listing the account's keys, its buckets) take "*". */
const ANY = '*';
const STATE_TABLE = sub('arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${StateTable}');
const LOG_KEY = { 'Fn::GetAtt': ['LogKey', 'Arn'] };
const ROLE = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/';
/** The engine's own roles, by exact ARN: the guards', the sweep's, the backup's and the alarm notice's. */
const ENGINE_ROLE_ARNS = [
  `${ROLE}driftguard-dev-log-group-guard`,
  `${ROLE}driftguard-dev-trail-guard`,
  `${ROLE}driftguard-dev-kms-guard`,
  `${ROLE}driftguard-dev-mfa-guard`,
  `${ROLE}driftguard-dev-config-guard`,
  `${ROLE}driftguard-dev-activity-guard`,
  `${ROLE}driftguard-dev-guardduty-guard`,
  `${ROLE}driftguard-dev-sweep`,
  `${ROLE}driftguard-dev-backup`,
  `${ROLE}driftguard-dev-alarm-notice`,
];
const RULE = 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/';
/** The guards' EventBridge rules, by exact ARN: the only senders of dead letters. */
const GUARD_RULE_ARNS = [
  `${RULE}driftguard-dev-logGroupGuard-rule-1`,
  `${RULE}driftguard-dev-trailGuard-rule-1`,
  `${RULE}driftguard-dev-kmsGuard-rule-1`,
  `${RULE}driftguard-dev-mfaGuard-rule-1`,
  `${RULE}driftguard-dev-mfaGuard-rule-2`,
  `${RULE}driftguard-dev-configGuard-rule-1`,
  `${RULE}driftguard-dev-activityGuard-rule-1`,
  `${RULE}driftguard-dev-activityGuard-rule-2`,
  `${RULE}driftguard-dev-guarddutyGuard-rule-1`,
  `${RULE}driftguard-dev-alarmNotice-rule-1`,
].map(sub);
const DEAD_LETTER_QUEUE = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };

const DETECTORS = sub('arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*');
/** What the GuardDuty rule reads and writes under the detectors (filters, IP sets, destinations under them). */
const GUARDDUTY_ACTIONS = [
  'guardduty:CreateFilter',
  'guardduty:CreatePublishingDestination',
  'guardduty:DescribePublishingDestination',
  'guardduty:GetAdministratorAccount',
  'guardduty:GetDetector',
  'guardduty:GetFilter',
  'guardduty:GetIPSet',
  'guardduty:ListFilters',
  'guardduty:ListIPSets',
  'guardduty:ListPublishingDestinations',
  'guardduty:TagResource',
  'guardduty:UpdateDetector',
];
/** The first CreateDetector of an account creates GuardDuty's service-linked role. */
const GUARDDUTY_SERVICE_ROLE = {
  Effect: 'Allow',
  Action: ['iam:CreateServiceLinkedRole'],
  Resource: sub(
    'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty',
  ),
  Condition: { StringEquals: { 'iam:AWSServiceName': 'guardduty.amazonaws.com' } },
};

const LOG_GROUP_RULE = [
  allow(
    ['logs:AssociateKmsKey', 'logs:DescribeLogGroups', 'logs:ListTagsForResource', 'logs:PutRetentionPolicy'],
    LOG_GROUPS,
  ),
  allow(['kms:DescribeKey'], KEYS),
  allow(['dynamodb:PutItem'], STATE_TABLE),
];
const TRAIL_ACTIONS = [
  'cloudtrail:AddTags',
  'cloudtrail:CreateTrail',
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetEventSelectors',
  'cloudtrail:GetInsightSelectors',
  'cloudtrail:GetTrailStatus',
  'cloudtrail:ListTags',
  'cloudtrail:PutEventSelectors',
  'cloudtrail:PutInsightSelectors',
  'cloudtrail:StartLogging',
  'cloudtrail:UpdateTrail',
];
const PASS_ROLE_TO_CLOUDTRAIL = allow(['iam:PassRole'], ROLES, {
  StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' },
});
const KEY_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:DescribeKey',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
];
const MFA_RULES = [
  allow(
    [
      'iam:GetLoginProfile',
      'iam:ListAccessKeys',
      'iam:ListAttachedUserPolicies',
      'iam:ListMFADevices',
      'iam:ListUserTags',
      'iam:ListUsers',
      'iam:TagUser',
      'iam:UntagUser',
      'iam:UpdateAccessKey',
    ],
    USERS,
  ),
  allow(['iam:AttachUserPolicy', 'iam:DetachUserPolicy'], USERS, {
    ArnEquals: { 'iam:PolicyARN': sub('${MfaQuarantinePolicy}') },
  }),
];
/** The customer-managed Config recorders of any region (IAM's ConfigurationRecorder resource type). */
const RECORDERS = sub('arn:${AWS::Partition}:config:*:${AWS::AccountId}:configuration-recorder/*');
const CONFIG_RECORDER_ACTIONS = ['config:PutConfigurationRecorder', 'config:StartConfigurationRecorder'];
/** IAM gives the delivery-channel calls no resource type: "*"; the reads name no recorder: "*" too. */
const CONFIG_CHANNEL_ACTIONS = [
  'config:DescribeConfigurationRecorderStatus',
  'config:DescribeConfigurationRecorders',
  'config:DescribeDeliveryChannelStatus',
  'config:DescribeDeliveryChannels',
  'config:PutDeliveryChannel',
];
const PASS_ROLE_TO_CONFIG = allow(['iam:PassRole'], ROLES, {
  StringEquals: { 'iam:PassedToService': 'config.amazonaws.com' },
});
/** The forwarders of the other regions (lib/rules/region-forwarders.ts), each by name: the sweep keeps them in place. */
const FORWARDERS = ['', '-2', '-3', '-4'].map((suffix) =>
  sub(`arn:\${AWS::Partition}:events:*:\${AWS::AccountId}:rule/\${ForwardRole}${suffix}`),
);
const FORWARDER_RULE = [
  allow(
    [
      'events:DeleteRule',
      'events:DescribeRule',
      'events:EnableRule',
      'events:ListTargetsByRule',
      'events:PutRule',
      'events:PutTargets',
      'events:RemoveTargets',
    ],
    FORWARDERS,
  ),
  allow(['iam:PassRole'], sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ForwardRole}'), {
    StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' },
  }),
];
const FORWARDER_ENVIRONMENT = {
  DRIFTGUARD_FORWARD_ROLE_ARN: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
  DRIFTGUARD_FORWARDER_NAME: 'driftguard-dev-forward',
  DRIFTGUARD_FORWARD_REGIONS: '',
};

const ALARMS = sub('arn:${AWS::Partition}:cloudwatch:*:${AWS::AccountId}:alarm:*');
/** The 14 activity alarms of this stack by exact name (the stack is driftguard-dev), no prefix. */
const ENGINE_ALARMS = Array.from({ length: 14 }, (_, i) =>
  sub(`arn:\${AWS::Partition}:cloudwatch:*:\${AWS::AccountId}:alarm:\${AWS::StackName}-CloudWatch.${i + 1}`),
);
/** Linking a trail to the stack's activity group hands CloudTrail this stack's delivery role only, by its ARN. */
const PASS_DELIVERY_ROLE = allow(['iam:PassRole'], sub(`${ROLE}\${ActivityDeliveryRole}`), {
  StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' },
});
const ACTIVITY_ENVIRONMENT = {
  DRIFTGUARD_ACTIVITY_LOG_GROUP: { Ref: 'ActivityLogGroup' },
  DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: { 'Fn::GetAtt': ['ActivityDeliveryRole', 'Arn'] },
};

const GUARD_STATE = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** Its own log stream, the notice topic and its key, the dead-letter queue, its records in the state table. */
const ownNeeds = (functionName: string, stateActions = GUARD_STATE) => [
  allow(
    ['logs:CreateLogStream', 'logs:PutLogEvents'],
    sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`),
  ),
  allow(['sns:Publish'], { Ref: 'NoticeTopic' }),
  allow(['kms:Decrypt', 'kms:GenerateDataKey'], LOG_KEY),
  allow(['sqs:SendMessage'], DEAD_LETTER_QUEUE),
  allow(stateActions, STATE_TABLE),
];

/**
 * Every engine role's first statement: a call made from any function's code but its own (lambda:SourceFunctionArn,
 * present only then) is refused, so no one else's function passed the role acts as the engine.
 */
const DENY_OTHER_FUNCTIONS = (functionName: string) => ({
  Sid: 'DenyOtherFunctions',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: {
    Null: { 'lambda:SourceFunctionArn': 'false' },
    ArnNotEquals: {
      'lambda:SourceFunctionArn': sub(
        `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${functionName}`,
      ),
    },
  },
});

const API_CALL = 'AWS API Call via CloudTrail';
/** A guard's pattern: its calls, failed calls left out, and the engine's own roles, by exact ARN, left out. */
const pattern = (source: string, detailTypes: string[], eventNames: string[]) => ({
  source: [source],
  'detail-type': detailTypes,
  detail: {
    eventName: eventNames,
    errorCode: [{ exists: false }],
    $or: [
      { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
      { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': ENGINE_ROLE_ARNS.map(sub) }] } } } },
    ],
  },
});

const SETTINGS_ENVIRONMENT = {
  DRIFTGUARD_MODE: 'enforce',
  DRIFTGUARD_LOG_KMS_KEY: { 'Fn::If': ['HasLogKmsKey', { Ref: 'LogKmsKey' }, LOG_KEY] },
  DRIFTGUARD_LOG_RETENTION_DAYS: '365',
  DRIFTGUARD_LOG_RETENTION_MIN_DAYS: '',
  DRIFTGUARD_LOG_RETENTION_MAX_DAYS: '',
  DRIFTGUARD_NOTICE_TOPIC_ARN: { Ref: 'NoticeTopic' },
  DRIFTGUARD_EXEMPT_TAG: 'driftguard:exempt',
  DRIFTGUARD_EXEMPT_LOG_GROUPS: '',
  DRIFTGUARD_STATE_TABLE: { Ref: 'StateTable' },
  DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'false',
  DRIFTGUARD_GUARDDUTY_ENABLE_MISSING: 'true',
  DRIFTGUARD_SWEEP_REGIONS: '',
  DRIFTGUARD_SWEEP_RATE_LIMITS: '',
  DRIFTGUARD_ENGINE_ROLE_ARNS: sub(ENGINE_ROLE_ARNS.join(',')),
  DRIFTGUARD_STAGE: 'dev',
  POWERTOOLS_SERVICE_NAME: 'driftguard',
  NODE_OPTIONS: '--enable-source-maps',
};

interface ExpectedGuard {
  id: string;
  functionName: string;
  ruleNames: string[];
  artifact: string;
  roleName: string;
  patterns: ReturnType<typeof pattern>[];
  statements: ReturnType<typeof allow>[];
  environment: Record<string, unknown>;
}

const GUARDS: ExpectedGuard[] = [
  {
    id: 'LogGroupGuard',
    functionName: 'driftguard-dev-logGroupGuard',
    ruleNames: ['driftguard-dev-logGroupGuard-rule-1'],
    artifact: 'log-group-guard.zip',
    roleName: 'driftguard-dev-log-group-guard',
    patterns: [
      pattern(
        'aws.logs',
        [API_CALL],
        ['AssociateKmsKey', 'CreateLogGroup', 'DeleteRetentionPolicy', 'DisassociateKmsKey', 'PutRetentionPolicy'],
      ),
    ],
    statements: [...LOG_GROUP_RULE, ...ownNeeds('driftguard-dev-logGroupGuard')],
    environment: SETTINGS_ENVIRONMENT,
  },
  {
    id: 'TrailGuard',
    functionName: 'driftguard-dev-trailGuard',
    ruleNames: ['driftguard-dev-trailGuard-rule-1'],
    artifact: 'trail-guard.zip',
    roleName: 'driftguard-dev-trail-guard',
    patterns: [
      pattern(
        'aws.cloudtrail',
        [API_CALL],
        ['CreateTrail', 'DeleteTrail', 'PutEventSelectors', 'PutInsightSelectors', 'StopLogging', 'UpdateTrail'],
      ),
    ],
    statements: [
      allow(TRAIL_ACTIONS, TRAILS),
      allow(['kms:DescribeKey'], KEYS),
      // Whether a baseline's bucket is the account's own, before a restore writes to it.
      allow(['s3:ListAllMyBuckets'], ANY),
      allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'], STATE_TABLE),
      // Declared with CreateTrail and UpdateTrail, the commands that hand CloudTrail a role.
      PASS_ROLE_TO_CLOUDTRAIL,
      ...ownNeeds('driftguard-dev-trailGuard'),
    ],
    // The stack's own ARN: the deploy-time capture answers only its own stack's requests.
    environment: { ...SETTINGS_ENVIRONMENT, DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
  },
  {
    id: 'KmsGuard',
    functionName: 'driftguard-dev-kmsGuard',
    ruleNames: ['driftguard-dev-kmsGuard-rule-1'],
    artifact: 'kms-guard.zip',
    roleName: 'driftguard-dev-kms-guard',
    patterns: [
      pattern('aws.kms', [API_CALL], ['DisableKey', 'DisableKeyRotation', 'PutKeyPolicy', 'ScheduleKeyDeletion']),
    ],
    statements: [
      allow(KEY_ACTIONS, KEYS),
      allow(['dynamodb:Query', 'dynamodb:Scan'], STATE_TABLE),
      // The sweep's keys pass lists the region's keys to find the tagged ones.
      allow(['kms:ListKeys'], ANY),
      ...ownNeeds('driftguard-dev-kmsGuard'),
    ],
    environment: SETTINGS_ENVIRONMENT,
  },
  {
    id: 'MfaGuard',
    functionName: 'driftguard-dev-mfaGuard',
    ruleNames: ['driftguard-dev-mfaGuard-rule-1', 'driftguard-dev-mfaGuard-rule-2'],
    artifact: 'mfa-guard.zip',
    roleName: 'driftguard-dev-mfa-guard',
    patterns: [
      pattern('aws.iam', [API_CALL], ['DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice']),
      pattern(
        'aws.signin',
        ['AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'],
        ['ConsoleLogin'],
      ),
    ],
    statements: [...MFA_RULES, ...ownNeeds('driftguard-dev-mfaGuard')],
    environment: { ...SETTINGS_ENVIRONMENT, DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: { Ref: 'MfaQuarantinePolicy' } },
  },
  {
    id: 'ConfigGuard',
    functionName: 'driftguard-dev-configGuard',
    ruleNames: ['driftguard-dev-configGuard-rule-1'],
    artifact: 'config-guard.zip',
    roleName: 'driftguard-dev-config-guard',
    patterns: [
      pattern(
        'aws.config',
        [API_CALL],
        [
          'DeleteConfigurationRecorder',
          'DeleteDeliveryChannel',
          'PutConfigurationRecorder',
          'PutDeliveryChannel',
          'StopConfigurationRecorder',
        ],
      ),
    ],
    statements: [
      allow(CONFIG_CHANNEL_ACTIONS, ANY),
      allow(['dynamodb:GetItem', 'dynamodb:PutItem'], STATE_TABLE),
      allow(CONFIG_RECORDER_ACTIONS, RECORDERS),
      // Declared with PutConfigurationRecorder, the command that hands Config its role.
      PASS_ROLE_TO_CONFIG,
      ...ownNeeds('driftguard-dev-configGuard'),
    ],
    // The stack's own ARN: the deploy-time capture answers only its own stack's requests.
    environment: { ...SETTINGS_ENVIRONMENT, DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
  },
  {
    id: 'ActivityGuard',
    functionName: 'driftguard-dev-activityGuard',
    ruleNames: ['driftguard-dev-activityGuard-rule-1', 'driftguard-dev-activityGuard-rule-2'],
    artifact: 'activity-guard.zip',
    roleName: 'driftguard-dev-activity-guard',
    patterns: [
      pattern('aws.logs', [API_CALL], ['DeleteLogGroup', 'DeleteMetricFilter', 'PutMetricFilter']),
      pattern('aws.cloudwatch', [API_CALL], ['DeleteAlarms', 'DisableAlarmActions', 'PutMetricAlarm']),
    ],
    statements: [
      allow(
        [
          'logs:CreateLogGroup',
          'logs:DescribeLogGroups',
          'logs:DescribeMetricFilters',
          'logs:PutMetricFilter',
          'logs:PutRetentionPolicy',
        ],
        LOG_GROUPS,
      ),
      allow(['cloudwatch:DescribeAlarms'], ALARMS),
      allow(
        [
          'cloudtrail:DescribeTrails',
          'cloudtrail:GetEventSelectors',
          'cloudtrail:GetInsightSelectors',
          'cloudtrail:GetTrailStatus',
          'cloudtrail:ListTags',
          'cloudtrail:UpdateTrail',
        ],
        TRAILS,
      ),
      allow(['dynamodb:GetItem', 'dynamodb:PutItem'], STATE_TABLE),
      allow(
        ['sns:ListSubscriptionsByTopic'],
        sub('arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${NoticeTopic.TopicName}'),
      ),
      allow(['cloudwatch:PutMetricAlarm'], ENGINE_ALARMS),
      PASS_DELIVERY_ROLE,
      ...ownNeeds('driftguard-dev-activityGuard'),
    ],
    environment: { ...SETTINGS_ENVIRONMENT, ...ACTIVITY_ENVIRONMENT },
  },
  {
    id: 'GuarddutyGuard',
    functionName: 'driftguard-dev-guarddutyGuard',
    ruleNames: ['driftguard-dev-guarddutyGuard-rule-1'],
    artifact: 'guardduty-guard.zip',
    roleName: 'driftguard-dev-guardduty-guard',
    patterns: [
      pattern(
        'aws.guardduty',
        [API_CALL],
        [
          'CreateFilter',
          'CreateIPSet',
          'DeleteDetector',
          'DeletePublishingDestination',
          'DisassociateFromAdministratorAccount',
          'DisassociateFromMasterAccount',
          'UpdateDetector',
          'UpdateFilter',
          'UpdateIPSet',
        ],
      ),
    ],
    statements: [
      allow(['guardduty:CreateDetector', 'guardduty:ListDetectors'], ANY),
      allow(GUARDDUTY_ACTIONS, DETECTORS),
      allow(['dynamodb:GetItem', 'dynamodb:PutItem'], STATE_TABLE),
      GUARDDUTY_SERVICE_ROLE,
      ...ownNeeds('driftguard-dev-guarddutyGuard'),
    ],
    // The stack's own ARN: the deploy-time capture answers only its own stack's requests.
    environment: { ...SETTINGS_ENVIRONMENT, DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } },
  },
];

/** Which function each sample reaches: none for a failed call or one made by the engine's own roles. */
const SAMPLE_ROUTES: Record<string, string | null> = {
  // The samples name the local alarms (driftguard-CloudWatch.1, no stage): the dev stack's rule takes only its own
  // (driftguard-dev-CloudWatch.1), tested with the alarm-notice function below; an OK, or another alarm, nothing.
  'cloudwatch-alarm-CloudWatch.1-RootAccountUsage-ALARM.json': null,
  'cloudwatch-alarm-CloudWatch.2-UnauthorizedAPICalls-ALARM.json': null,
  'cloudwatch-alarm-CloudWatch.5-CloudTrailChanges-OK.json': null,
  'cloudwatch-alarm-not-the-engines-ALARM.json': null,
  'cloudtrail-CreateTrail-by-remediation-engine.json': null,
  'config-DeleteConfigurationRecorder.json': 'ConfigGuard',
  'config-DeleteDeliveryChannel.json': 'ConfigGuard',
  'config-PutConfigurationRecorder-by-remediation-engine.json': null,
  'config-PutConfigurationRecorder-narrowed-daily.json': 'ConfigGuard',
  'config-PutDeliveryChannel-other-bucket.json': 'ConfigGuard',
  'config-StopConfigurationRecorder-failed-NoSuchRecorder.json': null,
  // Service-linked recorders are the handler's to tell apart: the pattern delivers them.
  'config-StopConfigurationRecorder-service-linked.json': 'ConfigGuard',
  'config-StopConfigurationRecorder.json': 'ConfigGuard',
  'cloudtrail-CreateTrail.json': 'TrailGuard',
  'cloudtrail-DeleteTrail-by-arn.json': 'TrailGuard',
  'cloudtrail-DeleteTrail-by-name.json': 'TrailGuard',
  'cloudtrail-PutEventSelectors-write-only.json': 'TrailGuard',
  'cloudtrail-PutInsightSelectors.json': 'TrailGuard',
  'cloudtrail-StopLogging-failed-AccessDenied.json': null,
  'cloudtrail-StopLogging.json': 'TrailGuard',
  'cloudtrail-UpdateTrail-change-bucket.json': 'TrailGuard',
  'cloudtrail-UpdateTrail-disable-multiregion-and-validation.json': 'TrailGuard',
  'cloudtrail-UpdateTrail-remove-cloudwatch-logs.json': 'TrailGuard',
  'cloudtrail-UpdateTrail-remove-kms.json': 'TrailGuard',
  'cloudtrail-UpdateTrail-s3-prefix-only.json': 'TrailGuard',
  'iam-DeactivateMFADevice-failed.json': null,
  'guardduty-CreateFilter-archive-everything.json': 'GuarddutyGuard',
  'guardduty-CreateIPSet-trusted-activated.json': 'GuarddutyGuard',
  'guardduty-DeleteDetector-ap-southeast-2.json': 'GuarddutyGuard',
  'guardduty-DeleteDetector-failed-AccessDenied.json': null,
  'guardduty-DeleteDetector.json': 'GuarddutyGuard',
  'guardduty-DeletePublishingDestination.json': 'GuarddutyGuard',
  'guardduty-DisassociateFromAdministratorAccount.json': 'GuarddutyGuard',
  'guardduty-DisassociateFromMasterAccount.json': 'GuarddutyGuard',
  'guardduty-UpdateDetector-by-remediation-engine.json': null,
  'guardduty-UpdateDetector-disable.json': 'GuarddutyGuard',
  'guardduty-UpdateDetector-enable-runtime-monitoring.json': 'GuarddutyGuard',
  'guardduty-UpdateDetector-features-and-frequency.json': 'GuarddutyGuard',
  'guardduty-UpdateFilter-to-archive.json': 'GuarddutyGuard',
  'guardduty-UpdateIPSet-activate.json': 'GuarddutyGuard',
  'iam-DeactivateMFADevice-iam-user.json': 'MfaGuard',
  'iam-DeactivateMFADevice-root-on-iam-user.json': 'MfaGuard',
  'iam-DeactivateMFADevice-root.json': 'MfaGuard',
  'iam-DeleteVirtualMFADevice.json': 'MfaGuard',
  'iam-EnableMFADevice.json': 'MfaGuard',
  'kms-DisableKey-failed-AccessDenied.json': null,
  'kms-DisableKey.json': 'KmsGuard',
  'kms-DisableKeyRotation.json': 'KmsGuard',
  'kms-PutKeyPolicy-by-remediation-engine.json': null,
  'kms-PutKeyPolicy-drops-logs-statement.json': 'KmsGuard',
  'kms-PutKeyPolicy-keeps-logs-statement.json': 'KmsGuard',
  'kms-ScheduleKeyDeletion-by-arn.json': 'KmsGuard',
  'kms-ScheduleKeyDeletion-multi-Region-primary.json': 'KmsGuard',
  'kms-ScheduleKeyDeletion.json': 'KmsGuard',
  'logs-AssociateKmsKey-by-resourceIdentifier.json': 'LogGroupGuard',
  'logs-AssociateKmsKey.json': 'LogGroupGuard',
  // The exemption is the handler's to decide: the pattern delivers it.
  'logs-CreateLogGroup-exempt-tag.json': 'LogGroupGuard',
  'logs-CreateLogGroup-failed-ResourceAlreadyExists.json': null,
  'logs-CreateLogGroup-plain.json': 'LogGroupGuard',
  'logs-CreateLogGroup-with-kmsKeyId.json': 'LogGroupGuard',
  'logs-DeleteLogGroup-activity.json': 'ActivityGuard',
  'logs-DeleteMetricFilter-activity.json': 'ActivityGuard',
  'logs-DeleteRetentionPolicy.json': 'LogGroupGuard',
  'logs-DisassociateKmsKey.json': 'LogGroupGuard',
  'logs-PutMetricFilter-activity-narrowed.json': 'ActivityGuard',
  'logs-PutMetricFilter-by-remediation-engine.json': null,
  'logs-PutRetentionPolicy-by-remediation-engine.json': null,
  'logs-PutRetentionPolicy.json': 'LogGroupGuard',
  'monitoring-DeleteAlarms-activity.json': 'ActivityGuard',
  'monitoring-DisableAlarmActions-activity.json': 'ActivityGuard',
  'monitoring-DisableAlarmActions-failed-AccessDenied.json': null,
  'monitoring-PutMetricAlarm-attacker-topic.json': 'ActivityGuard',
  // With MFA or without, every console sign-in reaches the guard, which decides.
  'signin-ConsoleLogin-assumed-role-global.json': 'MfaGuard',
  'signin-ConsoleLogin-no-MFA-iam-user.json': 'MfaGuard',
  'signin-ConsoleLogin-no-MFA-root-global.json': 'MfaGuard',
  'signin-ConsoleLogin-no-MFA-root.json': 'MfaGuard',
  'signin-ConsoleLogin-with-MFA.json': 'MfaGuard',
};

// --- The template against them ---

describe('the packaged template', () => {
  it('holds exactly these resources', () => {
    // Lambda versions are named by a hash of their code: left out.
    const ids = Object.entries(resources)
      .filter(([, resource]) => resource.Type !== 'AWS::Lambda::Version')
      .map(([id, resource]) => `${id} ${resource.Type}`)
      .sort();
    expect(ids).toEqual([
      'ActivityDeliveryRole AWS::IAM::Role',
      'ActivityGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'ActivityGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'ActivityGuardEventBridgeLambdaPermission2 AWS::Lambda::Permission',
      'ActivityGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'ActivityGuardLambdaFunction AWS::Lambda::Function',
      'ActivityGuardLogGroup AWS::Logs::LogGroup',
      'ActivityGuardRole AWS::IAM::Role',
      'ActivityLogGroup AWS::Logs::LogGroup',
      'AlarmNoticeErrorsAlarm AWS::CloudWatch::Alarm',
      'AlarmNoticeEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'AlarmNoticeLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'AlarmNoticeLambdaFunction AWS::Lambda::Function',
      'AlarmNoticeLogGroup AWS::Logs::LogGroup',
      'AlarmNoticeRole AWS::IAM::Role',
      'BackupBucket AWS::S3::Bucket',
      'BackupBucketPolicy AWS::S3::BucketPolicy',
      'BackupErrorsAlarm AWS::CloudWatch::Alarm',
      'BackupEventsRuleSchedule1 AWS::Events::Rule',
      'BackupEventsRuleSchedule2 AWS::Events::Rule',
      'BackupLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'BackupLambdaFunction AWS::Lambda::Function',
      'BackupLambdaPermissionEventsRuleSchedule1 AWS::Lambda::Permission',
      'BackupLambdaPermissionEventsRuleSchedule2 AWS::Lambda::Permission',
      'BackupLogGroup AWS::Logs::LogGroup',
      'BackupRole AWS::IAM::Role',
      'ConfigBaselineCapture Custom::ConfigBaselineCapture',
      'ConfigGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'ConfigGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'ConfigGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'ConfigGuardLambdaFunction AWS::Lambda::Function',
      'ConfigGuardLogGroup AWS::Logs::LogGroup',
      'ConfigGuardRole AWS::IAM::Role',
      'DeadLetterQueue AWS::SQS::Queue',
      'DeadLetterQueueAlarm AWS::CloudWatch::Alarm',
      'DeadLetterQueuePolicy AWS::SQS::QueuePolicy',
      'DriftguarddevactivityGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevactivityGuardrule2EventBridgeRule AWS::Events::Rule',
      'DriftguarddevalarmNoticerule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevconfigGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevguarddutyGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevkmsGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevlogGroupGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevmfaGuardrule1EventBridgeRule AWS::Events::Rule',
      'DriftguarddevmfaGuardrule2EventBridgeRule AWS::Events::Rule',
      'DriftguarddevtrailGuardrule1EventBridgeRule AWS::Events::Rule',
      'ForwardRole AWS::IAM::Role',
      'GuardDutyBaselineCapture Custom::GuardDutyBaselineCapture',
      'GuarddutyGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'GuarddutyGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'GuarddutyGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'GuarddutyGuardLambdaFunction AWS::Lambda::Function',
      'GuarddutyGuardLogGroup AWS::Logs::LogGroup',
      'GuarddutyGuardRole AWS::IAM::Role',
      'KmsGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'KmsGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'KmsGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'KmsGuardLambdaFunction AWS::Lambda::Function',
      'KmsGuardLogGroup AWS::Logs::LogGroup',
      'KmsGuardRole AWS::IAM::Role',
      'LogGroupGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'LogGroupGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'LogGroupGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'LogGroupGuardLambdaFunction AWS::Lambda::Function',
      'LogGroupGuardLogGroup AWS::Logs::LogGroup',
      'LogGroupGuardRole AWS::IAM::Role',
      'LogKey AWS::KMS::Key',
      'LogKeyAlias AWS::KMS::Alias',
      'MfaGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'MfaGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'MfaGuardEventBridgeLambdaPermission2 AWS::Lambda::Permission',
      'MfaGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'MfaGuardLambdaFunction AWS::Lambda::Function',
      'MfaGuardLogGroup AWS::Logs::LogGroup',
      'MfaGuardRole AWS::IAM::Role',
      'MfaQuarantinePolicy AWS::IAM::ManagedPolicy',
      'NoticeEmailSubscription AWS::SNS::Subscription',
      'NoticeTopic AWS::SNS::Topic',
      'NoticeTopicPolicy AWS::SNS::TopicPolicy',
      'RegionForwarders Custom::RegionForwarders',
      'ServerlessDeploymentBucket AWS::S3::Bucket',
      'ServerlessDeploymentBucketPolicy AWS::S3::BucketPolicy',
      'StateTable AWS::DynamoDB::Table',
      'SweepErrorsAlarm AWS::CloudWatch::Alarm',
      'SweepEventsRuleSchedule1 AWS::Events::Rule',
      'SweepEventsRuleSchedule2 AWS::Events::Rule',
      'SweepLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'SweepLambdaFunction AWS::Lambda::Function',
      'SweepLambdaPermissionEventsRuleSchedule1 AWS::Lambda::Permission',
      'SweepLambdaPermissionEventsRuleSchedule2 AWS::Lambda::Permission',
      'SweepLogGroup AWS::Logs::LogGroup',
      'SweepRole AWS::IAM::Role',
      'TrailBaselineCapture Custom::TrailBaselineCapture',
      'TrailGuardErrorsAlarm AWS::CloudWatch::Alarm',
      'TrailGuardEventBridgeLambdaPermission1 AWS::Lambda::Permission',
      'TrailGuardLambdaEvConf AWS::Lambda::EventInvokeConfig',
      'TrailGuardLambdaFunction AWS::Lambda::Function',
      'TrailGuardLogGroup AWS::Logs::LogGroup',
      'TrailGuardRole AWS::IAM::Role',
    ]);
  });
});

describe.each(GUARDS)('the packaged $id', (guard) => {
  it('runs nodejs22.x on arm64 from its own artifact, with its settings and retries into the dead-letter queue', () => {
    const fn = resources[`${guard.id}LambdaFunction`]?.Properties;
    expect(fn?.FunctionName).toBe(guard.functionName);
    expect(fn?.Handler).toBe('index.handler');
    expect(fn?.Runtime).toBe('nodejs22.x');
    expect(fn?.Architectures).toEqual(['arm64']);
    expect(fn?.Timeout).toBe(60);
    // A sweep page the guard runs ends (cold start included) within one attempt of the sweep's; two fit its margin.
    expect(fn?.Timeout * 1000 + 10_000).toBeLessThanOrEqual(INVOKE_TIMEOUT_MS);
    expect(INVOKE_ATTEMPTS * INVOKE_TIMEOUT_MS).toBeLessThan(SWEEP_MARGIN_MS);
    expect(fn?.MemorySize).toBe(256);
    expect(fn?.Code.S3Key.split('/').pop()).toBe(guard.artifact);
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': [`${guard.id}Role`, 'Arn'] });
    expect(fn?.Environment).toEqual({ Variables: guard.environment });
    const invoke = resources[`${guard.id}LambdaEvConf`]?.Properties;
    expect(invoke?.MaximumRetryAttempts).toBe(2);
    expect(invoke?.MaximumEventAgeInSeconds).toBe(3600);
    expect(invoke?.DestinationConfig.OnFailure.Destination).toEqual(DEAD_LETTER_QUEUE);
  });

  it('is sent its calls by these EventBridge patterns, with dead letters to the queue', () => {
    const rules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule)
      .filter((rule) => targetsOf(rule).includes(`${guard.id}LambdaFunction`));
    expect(rules.map((rule) => rule.Properties.EventPattern)).toEqual(guard.patterns);
    expect(rules.map((rule) => rule.Properties.Name)).toEqual(guard.ruleNames);
    for (const rule of rules) {
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toEqual(DEAD_LETTER_QUEUE);
      expect(rule.Properties.Targets[0].RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 3600,
        MaximumRetryAttempts: 5,
      });
    }
  });

  it('has a role allowing exactly these statements, to its own function only', () => {
    const role = resources[`${guard.id}Role`]?.Properties;
    expect(role?.RoleName).toBe(guard.roleName);
    expect(role?.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role?.Policies).toHaveLength(1);
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      DENY_OTHER_FUNCTIONS(guard.functionName),
      ...guard.statements,
    ]);
  });

  it('has reserved concurrency and an errors alarm that tells the notice topic', () => {
    expect(resources[`${guard.id}LambdaFunction`]?.Properties.ReservedConcurrentExecutions).toBe(10);
    const alarm = resources[`${guard.id}ErrorsAlarm`]?.Properties;
    expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0 });
    expect(alarm?.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: `${guard.id}LambdaFunction` } }]);
    expect(alarm?.AlarmActions).toEqual([{ Ref: 'NoticeTopic' }]);
  });

  it('logs to its own log group, with retention and the stack’s key', () => {
    const group = resources[`${guard.id}LogGroup`]?.Properties;
    expect(group?.LogGroupName).toBe(`/aws/lambda/${guard.functionName}`);
    expect(group?.RetentionInDays).toBe(365);
    expect(group?.KmsKeyId).toEqual(LOG_KEY);
  });
});

describe('every custom resource', () => {
  it("is served by a function that knows the stack's ARN (it answers only its own stack's requests)", () => {
    const custom = Object.entries(resources).filter(([, resource]) => resource.Type.startsWith('Custom::'));
    expect(custom.map(([id]) => id).sort()).toEqual(
      ['ConfigBaselineCapture', 'GuardDutyBaselineCapture', 'RegionForwarders', 'TrailBaselineCapture'].sort(),
    );
    for (const [, resource] of custom) {
      const [functionId] = resource.Properties.ServiceToken['Fn::GetAtt'];
      expect(resources[functionId]?.Properties.Environment.Variables.DRIFTGUARD_STACK_ID).toEqual({
        Ref: 'AWS::StackId',
      });
    }
  });
});

describe('the sweep function', () => {
  it('runs daily and every 15 minutes, for up to 15 minutes, one at a time', () => {
    const fn = resources.SweepLambdaFunction?.Properties;
    expect(fn?.FunctionName).toBe('driftguard-dev-sweep');
    expect(fn?.Code.S3Key.split('/').pop()).toBe('sweep.zip');
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': ['SweepRole', 'Arn'] });
    expect(fn?.Timeout).toBe(900);
    expect(fn?.MemorySize).toBe(512);
    expect(fn?.ReservedConcurrentExecutions).toBe(1);
    // The guards run their own rules' pages: the sweep needs none of their settings, only which function is whose;
    // it answers for the stack (the forwarders' custom resource) like the trail guard.
    expect(fn?.Environment).toEqual({
      Variables: {
        ...SETTINGS_ENVIRONMENT,
        DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' },
        DRIFTGUARD_GUARD_FUNCTIONS: [
          'logGroupGuard=driftguard-dev-logGroupGuard',
          'trailGuard=driftguard-dev-trailGuard',
          'kmsGuard=driftguard-dev-kmsGuard',
          'mfaGuard=driftguard-dev-mfaGuard',
          'configGuard=driftguard-dev-configGuard',
          'activityGuard=driftguard-dev-activityGuard',
          'guarddutyGuard=driftguard-dev-guarddutyGuard',
        ].join(','),
        ...FORWARDER_ENVIRONMENT,
      },
    });
    expect(resources.SweepLambdaEvConf?.Properties.MaximumRetryAttempts).toBe(0);
    const schedules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule)
      .filter((rule) => targetsOf(rule).includes('SweepLambdaFunction'));
    expect(
      schedules.map((rule) => [rule.Properties.ScheduleExpression, rule.Properties.Targets[0].Input]).sort(),
    ).toEqual([
      ['rate(1 day)', '{"continue":false}'],
      ['rate(15 minutes)', '{"continue":true}'],
    ]);
  });

  it('has a role keeping the forwarders, listing regions, invoking each guard by exact ARN and keeping its cursor, to the sweep only', () => {
    const role = resources.SweepRole?.Properties;
    expect(role?.RoleName).toBe('driftguard-dev-sweep');
    expect(role?.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role?.Policies).toHaveLength(1);
    // No guard's powers: each page's fixes are made by the guard's own role.
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      DENY_OTHER_FUNCTIONS('driftguard-dev-sweep'),
      ...FORWARDER_RULE,
      allow(['account:ListRegions'], sub('arn:${AWS::Partition}:account::${AWS::AccountId}:account')),
      allow(
        ['lambda:InvokeFunction'],
        ['logGroupGuard', 'trailGuard', 'kmsGuard', 'mfaGuard', 'configGuard', 'activityGuard', 'guarddutyGuard'].map(
          (key) =>
            sub(`arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:driftguard-dev-${key}`),
        ),
      ),
      ...ownNeeds('driftguard-dev-sweep', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']),
    ]);
  });
});

/** The stage's 14 activity alarms (CloudWatch.1-14), by exact name (lib/activity-controls.ts). */
const ACTIVITY_ALARM_NAMES = Array.from({ length: 14 }, (_, index) => `driftguard-dev-CloudWatch.${index + 1}`);

describe('the alarm-notice function', () => {
  it('is invoked by the stage’s 14 activity alarms entering ALARM, with dead letters to the queue', () => {
    const fn = resources.AlarmNoticeLambdaFunction?.Properties;
    expect(fn?.FunctionName).toBe('driftguard-dev-alarmNotice');
    expect(fn?.Code.S3Key.split('/').pop()).toBe('alarm-notice.zip');
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': ['AlarmNoticeRole', 'Arn'] });
    expect(fn?.ReservedConcurrentExecutions).toBe(2);
    expect(fn?.Environment).toEqual({
      Variables: {
        ...SETTINGS_ENVIRONMENT,
        DRIFTGUARD_ACTIVITY_LOG_GROUP: '/driftguard/dev/activity',
      },
    });
    const invoke = resources.AlarmNoticeLambdaEvConf?.Properties;
    expect(invoke?.MaximumRetryAttempts).toBe(2);
    expect(invoke?.DestinationConfig.OnFailure.Destination).toEqual(DEAD_LETTER_QUEUE);
    const rules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule)
      .filter((rule) => targetsOf(rule).includes('AlarmNoticeLambdaFunction'));
    expect(rules.map((rule) => rule.Properties.Name)).toEqual(['driftguard-dev-alarmNotice-rule-1']);
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ACTIVITY_ALARM_NAMES, state: { value: ['ALARM'] } },
    });
    expect(rules[0]?.Properties.Targets[0].DeadLetterConfig.Arn).toEqual(DEAD_LETTER_QUEUE);
  });

  it('has a role that finds the trail and reads log groups of the home region, publishes, and updates its own outbox items alone', () => {
    const role = resources.AlarmNoticeRole?.Properties;
    expect(role?.RoleName).toBe('driftguard-dev-alarm-notice');
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      DENY_OTHER_FUNCTIONS('driftguard-dev-alarmNotice'),
      allow(['cloudtrail:DescribeTrails'], ['*']),
      allow(['logs:FilterLogEvents'], [sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*')]),
      ...ownNeeds('driftguard-dev-alarmNotice', []).slice(0, 4),
      allow(['dynamodb:UpdateItem'], STATE_TABLE, {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notice#alarm#*'] },
      }),
    ]);
  });

  it.each([
    ['driftguard-dev-CloudWatch.1', 'ALARM', true],
    ['driftguard-dev-CloudWatch.14', 'ALARM', true],
    ['driftguard-dev-CloudWatch.1', 'OK', false],
    ['driftguard-dev-CloudWatch.1', 'INSUFFICIENT_DATA', false],
    ['driftguard-prod-CloudWatch.1', 'ALARM', false],
    ['driftguard-CloudWatch.1', 'ALARM', false],
    ['ServerCpuTooHigh', 'ALARM', false],
  ] as const)('routes %s entering %s to it: %s (EventBridge TestEventPattern)', async (name, state, reaches) => {
    const rule = ofType('AWS::Events::Rule')
      .map(([, candidate]) => candidate)
      .find((candidate) => targetsOf(candidate).includes('AlarmNoticeLambdaFunction'));
    const eventBridge = new EventBridgeClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    const { Result } = await eventBridge.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify(rule?.Properties.EventPattern),
        Event: JSON.stringify(alarmStateChange(name, state, Date.UTC(2026, 11, 1, 10), 'routed')),
      }),
    );
    expect(Result).toBe(reaches);
  });

  it('has an errors alarm and its own encrypted log group', () => {
    expect(resources.AlarmNoticeErrorsAlarm?.Properties.AlarmActions).toEqual([{ Ref: 'NoticeTopic' }]);
    expect(resources.AlarmNoticeLogGroup?.Properties.KmsKeyId).toEqual(LOG_KEY);
  });
});

describe('the backup function', () => {
  it('runs on backupSchedule and every 15 minutes (continuing an open run), for up to 15 minutes, one at a time', () => {
    const fn = resources.BackupLambdaFunction?.Properties;
    expect(fn?.FunctionName).toBe('driftguard-dev-backup');
    expect(fn?.Code.S3Key.split('/').pop()).toBe('backup.zip');
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': ['BackupRole', 'Arn'] });
    expect(fn?.Timeout).toBe(900);
    expect(fn?.ReservedConcurrentExecutions).toBe(1);
    expect(fn?.Environment).toEqual({
      Variables: {
        ...SETTINGS_ENVIRONMENT,
        DRIFTGUARD_BACKUP_BUCKET: { Ref: 'BackupBucket' },
        DRIFTGUARD_BACKUP_BUCKETS: '',
        DRIFTGUARD_BACKUP_LOG_GROUPS: '',
        DRIFTGUARD_BACKUP_SINCE_DAYS: '1',
        DRIFTGUARD_BACKUP_SETTLE_HOURS: '24',
      },
    });
    expect(resources.BackupLambdaEvConf?.Properties.MaximumRetryAttempts).toBe(0);
    const schedules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule)
      .filter((rule) => targetsOf(rule).includes('BackupLambdaFunction'));
    expect(
      schedules.map((rule) => [rule.Properties.ScheduleExpression, rule.Properties.Targets[0].Input]).sort(),
    ).toEqual([
      ['cron(15 0 * * ? *)', '{"continue":false}'],
      ['rate(15 minutes)', '{"continue":true}'],
    ]);
    expect(resources.BackupLogGroup?.Properties.KmsKeyId).toEqual(LOG_KEY);
  });

  it('has a role that exports log groups, follows export tasks, and touches only its own state records', () => {
    const role = resources.BackupRole?.Properties;
    expect(role?.RoleName).toBe('driftguard-dev-backup');
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      DENY_OTHER_FUNCTIONS('driftguard-dev-backup'),
      allow(
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        sub(
          'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/driftguard-dev-backup:*',
        ),
      ),
      allow(
        ['logs:DescribeLogGroups'],
        [sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*')],
      ),
      allow(
        ['logs:CreateExportTask'],
        [sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*')],
      ),
      allow(['logs:DescribeExportTasks'], ANY),
      allow(['s3:PutObject'], [sub('arn:${AWS::Partition}:s3:::${BackupBucket}/exported-logs/*')], {
        StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } },
      }),
      allow(['s3:ListBucket'], [sub('arn:${AWS::Partition}:s3:::${BackupBucket}')], {
        StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } },
      }),
      allow(['sns:Publish'], { Ref: 'NoticeTopic' }),
      allow(['kms:Decrypt', 'kms:GenerateDataKey'], LOG_KEY),
      allow(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], STATE_TABLE, {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['backup#*'] },
      }),
    ]);
  });

  it('exports to a bucket in the home region: SSE-KMS with the stack’s key, versioned, private, retained, colder after 30 days', () => {
    expect(resources.BackupBucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(resources.BackupBucket?.Properties).toEqual({
      BucketName: sub('driftguard-dev-backup-${AWS::AccountId}-${AWS::Region}'),
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: LOG_KEY },
            BucketKeyEnabled: true,
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'colder-after-days',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 30 }],
            NoncurrentVersionTransitions: [{ StorageClass: 'GLACIER', TransitionInDays: 30 }],
          },
        ],
      },
    });
  });

  it('lets CloudWatch Logs of its region check the bucket and write exports for this account only, over TLS', () => {
    const bucket = sub('arn:${AWS::Partition}:s3:::${BackupBucket}');
    const logs = { Service: sub('logs.${AWS::Region}.amazonaws.com') };
    const account = sub('${AWS::AccountId}');
    expect(resources.BackupBucketPolicy?.Properties).toEqual({
      Bucket: { Ref: 'BackupBucket' },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          DENY_INSECURE('s3:*', [bucket, sub('arn:${AWS::Partition}:s3:::${BackupBucket}/*')]),
          {
            Sid: 'CloudWatchLogsChecksBucketAcl',
            Effect: 'Allow',
            Principal: logs,
            Action: 's3:GetBucketAcl',
            Resource: bucket,
            Condition: { StringEquals: { 'aws:SourceAccount': account } },
          },
          {
            Sid: 'CloudWatchLogsWritesExports',
            Effect: 'Allow',
            Principal: logs,
            Action: 's3:PutObject',
            Resource: sub('arn:${AWS::Partition}:s3:::${BackupBucket}/exported-logs/*'),
            Condition: {
              StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': account },
            },
          },
        ],
      },
    });
  });
});

const ACCOUNT_ROOT = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
const DENY_INSECURE = (Action: string | string[], Resource: unknown) => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action,
  Resource,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('the shared resources', () => {
  it('have a rotating log key, retained on stack removal and replacement, with its alias', () => {
    expect(resources.LogKey).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(resources.LogKey?.Properties.EnableKeyRotation).toBe(true);
    expect(resources.LogKeyAlias).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(resources.LogKeyAlias?.Properties).toEqual({
      AliasName: 'alias/driftguard-dev-logs',
      TargetKeyId: { Ref: 'LogKey' },
    });
  });

  it('let the account, CloudWatch Logs (its log groups), the alarms and the guards’ rules (dead letters) use the key', () => {
    expect(resources.LogKey?.Properties.KeyPolicy.Statement).toEqual([
      {
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: ACCOUNT_ROOT },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'CloudWatchLogsUsesKeyForThisAccountsLogGroups',
        Effect: 'Allow',
        Principal: { Service: sub('logs.${AWS::Region}.amazonaws.com') },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': sub(
              'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*',
            ),
          },
        },
      },
      {
        Sid: 'CloudWatchLogsExportsToBackupBucket',
        Effect: 'Allow',
        Principal: { Service: sub('logs.${AWS::Region}.amazonaws.com') },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com'),
          },
          ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*') },
          // Review #16: the backup bucket only (no param bucket in dev: its ARNs name no bucket).
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [
              sub('arn:${AWS::Partition}:s3:::driftguard-dev-backup-${AWS::AccountId}-${AWS::Region}'),
              sub('arn:${AWS::Partition}:s3:::driftguard-dev-backup-${AWS::AccountId}-${AWS::Region}/exported-logs/*'),
              sub('arn:${AWS::Partition}:s3:::'),
              sub('arn:${AWS::Partition}:s3:::/exported-logs/*'),
            ],
          },
        },
      },
      {
        Sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
      {
        Sid: 'GuardRulesDeadLetterToEncryptedQueue',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { ArnEquals: { 'aws:SourceArn': GUARD_RULE_ARNS } },
      },
    ]);
  });

  it('encrypt the notice topic and the dead-letter queue with the stack’s key', () => {
    expect(resources.NoticeTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'LogKey' });
    expect(resources.DeadLetterQueue?.Properties).toEqual({
      QueueName: 'driftguard-dev-dead-letters',
      KmsMasterKeyId: { Ref: 'LogKey' },
      MessageRetentionPeriod: 1209600,
    });
  });

  it('let only the engine’s roles and the alarms publish notices (TLS only); the account subscribes', () => {
    const topic = { Ref: 'NoticeTopic' };
    expect(resources.NoticeTopicPolicy?.Properties).toEqual({
      Topics: [topic],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          DENY_INSECURE(['sns:Publish', 'sns:Subscribe', 'sns:GetTopicAttributes'], topic),
          {
            Sid: 'DenyPublishButEngineAndAlarms',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: topic,
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': ENGINE_ROLE_ARNS.map(sub) },
              StringNotEquals: { 'aws:PrincipalServiceName': 'cloudwatch.amazonaws.com' },
            },
          },
          {
            Sid: 'EngineRolesPublish',
            Effect: 'Allow',
            Principal: { AWS: ACCOUNT_ROOT },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { ArnEquals: { 'aws:PrincipalArn': ENGINE_ROLE_ARNS.map(sub) } },
          },
          {
            Sid: 'AccountSubscribes',
            Effect: 'Allow',
            Principal: { AWS: ACCOUNT_ROOT },
            Action: ['sns:Subscribe', 'sns:GetTopicAttributes'],
            Resource: topic,
          },
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });

  it('let only the guards’ rules, by exact ARN, send dead letters (TLS only)', () => {
    const queue = DEAD_LETTER_QUEUE;
    expect(resources.DeadLetterQueuePolicy?.Properties).toEqual({
      Queues: [{ Ref: 'DeadLetterQueue' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          DENY_INSECURE('sqs:*', queue),
          {
            Sid: 'EventBridgeDeadLetters',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queue,
            Condition: { ArnEquals: { 'aws:SourceArn': GUARD_RULE_ARNS } },
          },
        ],
      },
    });
  });

  it('keep the state table encrypted, recoverable, retained, protected from deletion and written by the engine alone', () => {
    expect(resources.StateTable).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const table = resources.StateTable?.Properties;
    expect(table?.TableName).toBe('driftguard-dev-state');
    expect(table?.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { Ref: 'LogKey' } });
    expect(table?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table?.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table?.DeletionProtectionEnabled).toBe(true);
    expect(table?.ResourcePolicy).toEqual({
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyWritesButEngine',
            Effect: 'Deny',
            Principal: '*',
            Action: [
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:BatchWriteItem',
              'dynamodb:PartiQLInsert',
              'dynamodb:PartiQLUpdate',
              'dynamodb:PartiQLDelete',
              'dynamodb:DeleteTable',
            ],
            Resource: sub('arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/driftguard-dev-state'),
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': ENGINE_ROLE_ARNS.map(sub) } },
          },
        ],
      },
    });
  });

  it('alarm on dead letters to the notice topic', () => {
    expect(resources.DeadLetterQueueAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmActions: [{ Ref: 'NoticeTopic' }],
    });
  });

  it('subscribe the notice email only when the noticeEmail param is given', () => {
    expect(resources.NoticeEmailSubscription?.Condition).toBe('HasNoticeEmail');
  });

  it('capture the trail baselines at deploy through the trail guard', () => {
    expect(resources.TrailBaselineCapture?.Properties.ServiceToken).toEqual({
      'Fn::GetAtt': ['TrailGuardLambdaFunction', 'Arn'],
    });
  });
});

describe('the stack in another region (eu-west-1)', () => {
  it('holds the same resources, every guard and the MFA quarantine policy included', () => {
    const ids = (of: Record<string, Resource>) =>
      Object.entries(of)
        .filter(([, resource]) => resource.Type !== 'AWS::Lambda::Version')
        .map(([id, resource]) => `${id} ${resource.Type}`)
        .sort();
    expect(ids(elsewhere.Resources)).toEqual(ids(resources));
    expect(elsewhere.Resources.MfaGuardLambdaFunction?.Properties.FunctionName).toBe('driftguard-dev-mfaGuard');
    expect(elsewhere.Resources.MfaQuarantinePolicy?.Type).toBe('AWS::IAM::ManagedPolicy');
  });

  it('lets each engine role act only from its function in that region', () => {
    const deployed = resolveSubs(elsewhere.Resources.SweepRole?.Properties.Policies[0].PolicyDocument.Statement[0], {
      account: '123456789012',
      region: 'eu-west-1',
    });
    expect(deployed).toMatchObject({
      Condition: {
        ArnNotEquals: {
          'lambda:SourceFunctionArn': 'arn:aws:lambda:eu-west-1:123456789012:function:driftguard-dev-sweep',
        },
      },
    });
  });

  it('differs only in what names its region', () => {
    // Every regional value goes through ${AWS::Region}: the two templates are the same but for artifact paths (a
    // timestamp) and the versions named by them; compared as data, whatever the order the framework wrote them in.
    const comparable = (of: Record<string, Resource>) =>
      JSON.parse(
        JSON.stringify(
          Object.fromEntries(Object.entries(of).filter(([, resource]) => resource.Type !== 'AWS::Lambda::Version')),
        ).replace(/"S3Key":"[^"]+"/g, '"S3Key":""'),
      );
    expect(comparable(elsewhere.Resources)).toEqual(comparable(resources));
  });
});

describe('each sample routed by the packaged patterns (EventBridge TestEventPattern)', () => {
  const samples = readdirSync('events').filter((name) => name.endsWith('.json'));

  it('has a route written down for every sample in events/', () => {
    expect(samples.sort()).toEqual(Object.keys(SAMPLE_ROUTES).sort());
  });

  it.each(samples)('%s reaches its owner only (none if failed or the engine’s own)', async (name) => {
    const text = readFileSync(join('events', name), 'utf8');
    const eventBridge = new EventBridgeClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    const rules = ofType('AWS::Events::Rule')
      .map(([, rule]) => rule)
      .filter((rule) => rule.Properties.EventPattern !== undefined);
    expect(rules).toHaveLength(10);
    const reached: string[] = [];
    for (const rule of rules) {
      // As CloudFormation would deploy it in the samples' account.
      const deployed = resolveSubs(rule.Properties.EventPattern, { account: '123456789012', region: 'us-east-1' });
      const { Result } = await eventBridge.send(
        new TestEventPatternCommand({ EventPattern: JSON.stringify(deployed), Event: text }),
      );
      if (Result) reached.push(...targetsOf(rule));
    }
    const owner = SAMPLE_ROUTES[name];
    expect(reached).toEqual(owner ? [`${owner}LambdaFunction`] : []);
  });
});

// --- The forwarders of the other regions (lib/rules/region-forwarders.ts) ---

describe('the forwarders of the other regions', () => {
  it('have a role EventBridge of this account may use only to put events on this region’s default bus', () => {
    const role = resources.ForwardRole?.Properties;
    expect(role?.RoleName).toBe('driftguard-dev-forward');
    expect(role?.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role?.Policies).toHaveLength(1);
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      allow(
        ['events:PutEvents'],
        sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'),
      ),
    ]);
  });

  it('are put in place at deploy by a custom resource the sweep function serves', () => {
    const forwarders = resources.RegionForwarders?.Properties;
    expect(forwarders?.ServiceToken).toEqual({ 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] });
    expect(forwarders?.Regions).toBe('');
    expect(forwarders?.Triggers).toMatch(/^[0-9a-f]{16}$/);
  });
});
