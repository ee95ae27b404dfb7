/** activity-alarms: the controls as data, and the rule's pure decisions, as tables. */
import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { MetricFilter } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_CONTROLS,
  ACTIVITY_METRIC_NAMESPACE,
  activityResourceName,
  controlByResourceName,
  desiredAlarm,
  desiredMetricFilter,
} from '../../lib/activity-controls.js';
import { activityTrailOf, logGroupOfArn, pickActivityTrail } from '../../lib/activity-log-group.js';
import { parseCloudTrailEvent } from '../../lib/envelope.js';
import {
  type ActivityState,
  activityAlarms,
  activityAlarmsCloudwatch,
  alarmDrift,
  decideActivity,
  filterDrift,
} from '../../lib/rules/activity-alarms.js';
import { loadSettings } from '../../lib/settings.js';
import type { TrailConfig } from '../../lib/trails.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:driftguard-local-notices';
const GROUP = '/aws/cloudtrail/activity';
const GROUP_ARN = `arn:aws:logs:us-east-1:123456789012:log-group:${GROUP}:*`;
const settings = loadSettings({ DRIFTGUARD_NOTICE_TOPIC_ARN: TOPIC });
const [root, unauthorized] = ACTIVITY_CONTROLS as [
  (typeof ACTIVITY_CONTROLS)[number],
  (typeof ACTIVITY_CONTROLS)[number],
];

describe('the CloudWatch.1-14 controls', () => {
  it('are the 14 controls, with the metric names of the issue, in one namespace', () => {
    expect(ACTIVITY_CONTROLS.map((c) => c.id)).toEqual(Array.from({ length: 14 }, (_, i) => `CloudWatch.${i + 1}`));
    expect(ACTIVITY_CONTROLS.map((c) => c.metricName)).toEqual([
      'RootAccountUsage',
      'UnauthorizedAPICalls',
      'ConsoleSigninWithoutMFA',
      'IAMPolicyChanges',
      'CloudTrailChanges',
      'ConsoleAuthenticationFailure',
      'DisableOrDeleteCMK',
      'S3BucketPolicyChanges',
      'AWSConfigChanges',
      'SecurityGroupChanges',
      'NetworkACLChanges',
      'NetworkGatewayChanges',
      'RouteTableChanges',
      'VPCChanges',
    ]);
    for (const control of ACTIVITY_CONTROLS) {
      // PutMetricFilter takes up to 1,024 characters; every pattern is one JSON pattern.
      expect(control.pattern.length).toBeLessThanOrEqual(1024);
      expect(control.pattern).toMatch(/^\{.*\}$/);
    }
    expect(ACTIVITY_CONTROLS[2]?.pattern).toContain('$.userIdentity.type = "IAMUser"');
    expect(ACTIVITY_CONTROLS[2]?.pattern).toContain('$.responseElements.ConsoleLogin = "Success"');
  });

  it.each([
    [undefined, 'driftguard-CloudWatch.1'],
    ['prod', 'driftguard-prod-CloudWatch.1'],
  ])('names the filter and alarm of stage %s %s', (stage, name) => {
    expect(activityResourceName(root, stage)).toBe(name);
    expect(controlByResourceName(name, stage)?.id).toBe('CloudWatch.1');
    expect(desiredMetricFilter(root, stage, GROUP).filterName).toBe(name);
    expect(desiredAlarm(root, stage, TOPIC).AlarmName).toBe(name);
  });

  it.each([
    ['driftguard-CloudWatch.1', 'prod'],
    ['driftguard-prod-CloudWatch.15', 'prod'],
    ['RootAccountUsage', undefined],
  ])('owns no resource named %s (stage %s)', (name, stage) => {
    expect(controlByResourceName(name, stage)).toBeUndefined();
  });
});

const goodFilter = (control = root): MetricFilter => ({
  ...desiredMetricFilter(control, undefined, GROUP),
});
const goodAlarm = (control = root): MetricAlarm => ({ ...desiredAlarm(control, undefined, TOPIC) }) as MetricAlarm;

describe('filterDrift', () => {
  it.each<[string, MetricFilter | undefined, string | undefined]>([
    ['exact', goodFilter(), undefined],
    ['missing', undefined, 'missing'],
    [
      'an extra term',
      { ...goodFilter(), filterPattern: root.pattern.replace('}', ' && $.sourceIPAddress != "1.2.3.4"}') },
      'pattern',
    ],
    ['spacing changed', { ...goodFilter(), filterPattern: root.pattern.replaceAll('&&', ' && ') }, 'pattern'],
    [
      'another metric',
      {
        ...goodFilter(),
        metricTransformations: [{ metricName: 'X', metricNamespace: ACTIVITY_METRIC_NAMESPACE, metricValue: '1' }],
      },
      'metric',
    ],
    [
      'value 0',
      {
        ...goodFilter(),
        metricTransformations: [
          { metricName: root.metricName, metricNamespace: ACTIVITY_METRIC_NAMESPACE, metricValue: '0' },
        ],
      },
      'metric',
    ],
  ])('%s', (_, filter, drift) => {
    const found = filterDrift(root, filter);
    if (drift === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(drift);
  });
});

describe('alarmDrift', () => {
  it.each<[string, Partial<MetricAlarm> | undefined, string | undefined]>([
    ['exact', {}, undefined],
    ['missing', undefined, 'missing'],
    ['actions disabled', { ActionsEnabled: false }, 'actions disabled'],
    ['actions removed', { AlarmActions: [] }, 'actions []'],
    ["an attacker's topic added", { AlarmActions: [TOPIC, 'arn:aws:sns:us-east-1:444455556666:sink'] }, 'actions'],
    ['threshold raised', { Threshold: 100 }, 'threshold 100'],
    ['period lengthened', { Period: 86400 }, 'period 86400'],
    ['statistic changed', { Statistic: 'Minimum' }, 'statistic Minimum'],
    ['another metric', { MetricName: 'Other' }, 'metric'],
    ['missing data breaching turned to missing', { TreatMissingData: 'missing' }, 'missing data missing'],
    ['datapoints to alarm 3', { DatapointsToAlarm: 3 }, 'datapoints to alarm 3'],
    ['a dimension added', { Dimensions: [{ Name: 'x', Value: 'y' }] }, 'dimensions'],
  ])('%s', (_, change, drift) => {
    const found = alarmDrift(root, change === undefined ? undefined : { ...goodAlarm(), ...change }, TOPIC);
    if (drift === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(drift);
  });
});

const trail = (over: Partial<TrailConfig> = {}): TrailConfig => ({
  name: 'activity-trail',
  trailArn: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/activity-trail',
  homeRegion: 'us-east-1',
  s3BucketName: 'bucket',
  includeGlobalServiceEvents: true,
  isMultiRegionTrail: true,
  logFileValidationEnabled: true,
  cloudWatchLogsLogGroupArn: GROUP_ARN,
  isOrganizationTrail: false,
  insightSelectors: [],
  tags: [],
  isLogging: true,
  ...over,
});

function state(over: Partial<ActivityState> = {}): ActivityState {
  return {
    target: { region: 'us-east-1', account: '123456789012', eventName: 'sweep' },
    trail: activityTrailOf(trail()),
    group: { name: GROUP, region: 'us-east-1', exists: true, linked: true },
    filters: ACTIVITY_CONTROLS.map((c) => goodFilter(c)),
    alarms: ACTIVITY_CONTROLS.map((c) => goodAlarm(c)),
    ...over,
  };
}

describe('decideActivity', () => {
  it.each<[string, Partial<ActivityState>, Record<string, string | undefined>, string, string[]]>([
    ['everything in place', {}, {}, 'compliant', []],
    [
      'nothing yet',
      { filters: [], alarms: [] },
      {},
      'drifted',
      [...Array(14).fill('logs:PutMetricFilter'), ...Array(14).fill('cloudwatch:PutMetricAlarm')],
    ],
    [
      'one filter narrowed',
      {
        filters: [
          { ...goodFilter(), filterPattern: `${root.pattern} x` },
          ...ACTIVITY_CONTROLS.slice(1).map((c) => goodFilter(c)),
        ],
      },
      {},
      'drifted',
      ['logs:PutMetricFilter'],
    ],
    [
      'one alarm disabled',
      {
        alarms: [
          { ...goodAlarm(unauthorized), ActionsEnabled: false },
          goodAlarm(root),
          ...ACTIVITY_CONTROLS.slice(2).map((c) => goodAlarm(c)),
        ],
      },
      {},
      'drifted',
      ['cloudwatch:PutMetricAlarm'],
    ],
    [
      'the group deleted',
      { group: { name: GROUP, region: 'us-east-1', exists: false, linked: true }, filters: [] },
      {},
      'drifted',
      ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', ...Array(14).fill('logs:PutMetricFilter')],
    ],
    ['no trail, none named', { trail: undefined, group: undefined }, {}, 'ignored', []],
    [
      'the named trail gone',
      { trail: undefined, group: undefined },
      { DRIFTGUARD_ACTIVITY_TRAIL: 'audit' },
      'drifted',
      [],
    ],
    [
      'a trail with no group and no stack group',
      { trail: activityTrailOf(trail({ cloudWatchLogsLogGroupArn: undefined })), group: undefined },
      {},
      'drifted',
      [],
    ],
    [
      'a trail with no group, the stack group there',
      {
        trail: activityTrailOf(trail({ cloudWatchLogsLogGroupArn: undefined })),
        group: { name: '/driftguard/prod/activity', region: 'us-east-1', exists: true, linked: false },
        filters: [],
      },
      {
        DRIFTGUARD_ACTIVITY_LOG_GROUP: '/driftguard/prod/activity',
        DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: 'arn:aws:iam::123456789012:role/driftguard-prod-activity-delivery',
      },
      'drifted',
      ['cloudtrail:UpdateTrail', ...Array(14).fill('logs:PutMetricFilter')],
    ],
    [
      'an event on another group',
      { target: { region: 'us-east-1', account: '123456789012', eventName: 'DeleteLogGroup', logGroupName: '/other' } },
      {},
      'ignored',
      [],
    ],
  ])('%s', (_, over, env, status, apis) => {
    const decision = decideActivity(state(over), loadSettings({ DRIFTGUARD_NOTICE_TOPIC_ARN: TOPIC, ...env }));
    expect(decision.status).toBe(status);
    expect(decision.actions.map((a) => a.api)).toEqual(apis);
    if (status === 'drifted' && apis.length === 0) expect(decision.needsHuman.length).toBeGreaterThan(0);
  });

  it('records the link in the trail baseline (follow), so that the trail rule keeps it', () => {
    const decision = decideActivity(
      state({
        trail: activityTrailOf(trail({ cloudWatchLogsLogGroupArn: undefined })),
        group: { name: '/driftguard/activity', region: 'us-east-1', exists: true, linked: false },
      }),
      loadSettings({
        DRIFTGUARD_NOTICE_TOPIC_ARN: TOPIC,
        DRIFTGUARD_ACTIVITY_LOG_GROUP: '/driftguard/activity',
        DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: 'arn:aws:iam::123456789012:role/driftguard-activity-delivery',
      }),
    );
    expect(decision.actions[0]?.params).toEqual({
      Name: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/activity-trail',
      CloudWatchLogsLogGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/driftguard/activity:*',
      CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/driftguard-activity-delivery',
    });
    expect(decision.bookkeeping).toEqual([
      expect.objectContaining({ kind: 'trail-baseline', mode: 'follow', trail: 'activity-trail' }),
    ]);
  });

  it('without a notice topic puts the filters back and asks a human for the topic', () => {
    const decision = decideActivity(state({ filters: [] }), loadSettings({}));
    expect(decision.actions.every((a) => a.api === 'logs:PutMetricFilter')).toBe(true);
    expect(decision.needsHuman).toEqual([expect.stringContaining('DRIFTGUARD_NOTICE_TOPIC_ARN')]);
  });
});

describe('the activity trail', () => {
  it.each([
    ['the multi-region trail homed here', [{ Name: 'b', IsMultiRegionTrail: true, HomeRegion: 'us-east-1' }], 'b'],
    [
      'one delivering to a group first',
      [
        { Name: 'a', IsMultiRegionTrail: true },
        { Name: 'b', IsMultiRegionTrail: true, CloudWatchLogsLogGroupArn: GROUP_ARN },
      ],
      'b',
    ],
    [
      'by name',
      [
        { Name: 'b', IsMultiRegionTrail: true },
        { Name: 'a', IsMultiRegionTrail: true },
      ],
      'a',
    ],
    ['not a single-region trail', [{ Name: 'a', IsMultiRegionTrail: false }], undefined],
    ["not another region's trail", [{ Name: 'a', IsMultiRegionTrail: true, HomeRegion: 'eu-west-1' }], undefined],
  ])('picks %s', (_, trails, name) => {
    expect(pickActivityTrail(trails, 'us-east-1')?.Name).toBe(name);
  });

  it.each([
    [GROUP_ARN, { name: GROUP, region: 'us-east-1', account: '123456789012' }],
    ['arn:aws:logs:eu-west-1:123456789012:log-group:g', { name: 'g', region: 'eu-west-1', account: '123456789012' }],
    ['arn:aws:s3:::bucket', undefined],
  ])('reads the log group of %s', (arn, expected) => {
    expect(logGroupOfArn(arn)).toEqual(expected);
  });
});

describe('targets and screening', () => {
  const event = (source: string, eventName: string, requestParameters: Record<string, unknown>) =>
    parseCloudTrailEvent({
      version: '0',
      id: 'x',
      'detail-type': 'AWS API Call via CloudTrail',
      source,
      account: '123456789012',
      time: '2026-11-30T09:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        eventVersion: '1.11',
        userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice', userName: 'alice' },
        eventTime: '2026-11-30T09:00:00Z',
        eventSource: source === 'aws.logs' ? 'logs.amazonaws.com' : 'monitoring.amazonaws.com',
        eventName,
        awsRegion: 'us-east-1',
        requestParameters,
        eventID: 'e',
        recipientAccountId: '123456789012',
      },
    });

  it.each([
    ['aws.cloudwatch', 'DeleteAlarms', { alarmNames: ['someone-elses'] }, 'ignored'],
    ['aws.cloudwatch', 'DeleteAlarms', { alarmNames: ['someone-elses', 'driftguard-CloudWatch.3'] }, undefined],
    ['aws.cloudwatch', 'PutMetricAlarm', { alarmName: 'driftguard-CloudWatch.3' }, undefined],
    ['aws.logs', 'DeleteMetricFilter', { logGroupName: GROUP, filterName: 'app-errors' }, 'ignored'],
    ['aws.logs', 'DeleteLogGroup', { logGroupName: GROUP }, undefined],
  ])('%s %s %j: pre-screened %s', (source, name, params, status) => {
    const rule = source === 'aws.logs' ? activityAlarms : activityAlarmsCloudwatch;
    const target = rule.target(event(source, name, params));
    if ('skip' in target) throw new Error('skipped');
    expect(rule.preScreen?.(target, settings)?.status).toBe(status);
  });

  it.each([
    ['aws.logs', 'DeleteMetricFilter', { logGroupName: GROUP }],
    ['aws.logs', 'DeleteLogGroup', {}],
    ['aws.cloudwatch', 'DisableAlarmActions', {}],
  ])('%s %s without what it needs is malformed', (source, name, params) => {
    const rule = source === 'aws.logs' ? activityAlarms : activityAlarmsCloudwatch;
    expect(() => rule.target(event(source, name, params))).toThrow(/requestParameters has no/);
  });
});

describe('settings', () => {
  it.each([
    ['DRIFTGUARD_ACTIVITY_TRAIL', 'a'],
    ['DRIFTGUARD_ACTIVITY_TRAIL', 'arn:aws:s3:::bucket'],
    ['DRIFTGUARD_STAGE', 'has space'],
    ['DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN', 'role/x'],
  ])('%s=%s is refused with a clear error', (name, value) => {
    expect(() => loadSettings({ [name]: value })).toThrow(new RegExp(`${name}=.* is invalid`));
  });

  it('reads the activity trail by name or ARN', () => {
    expect(loadSettings({ DRIFTGUARD_ACTIVITY_TRAIL: 'org-trail' }).activityTrail).toBe('org-trail');
    const arn = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail';
    expect(loadSettings({ DRIFTGUARD_ACTIVITY_TRAIL: arn }).activityTrail).toBe(arn);
  });
});
