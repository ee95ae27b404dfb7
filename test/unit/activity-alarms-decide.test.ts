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
import {
  activityTrailOf,
  chooseActivityTrail,
  logGroupOfArn,
  logsAllManagementEvents,
  pickActivityTrail,
} from '../../lib/activity-log-group.js';
import { parseCloudTrailEvent } from '../../lib/envelope.js';
import {
  type ActivityState,
  activityAlarms,
  activityAlarmsCloudwatch,
  alarmDrift,
  decideActivity,
  deliveryProblem,
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
    [
      'a dimension added (the metric is then published only with it: the alarm sees nothing)',
      {
        ...goodFilter(),
        metricTransformations: [
          {
            metricName: root.metricName,
            metricNamespace: ACTIVITY_METRIC_NAMESPACE,
            metricValue: '1',
            dimensions: { eventID: '$.eventID' },
          },
        ],
      },
      'dimensions',
    ],
    [
      'a unit on the transformation',
      {
        ...goodFilter(),
        metricTransformations: [
          {
            metricName: root.metricName,
            metricNamespace: ACTIVITY_METRIC_NAMESPACE,
            metricValue: '1',
            unit: 'Seconds',
          },
        ],
      },
      'unit Seconds',
    ],
    [
      'unit None as AWS may describe it',
      {
        ...goodFilter(),
        metricTransformations: [
          { metricName: root.metricName, metricNamespace: ACTIVITY_METRIC_NAMESPACE, metricValue: '1', unit: 'None' },
        ],
      },
      undefined,
    ],
    [
      'a default value',
      {
        ...goodFilter(),
        metricTransformations: [
          {
            metricName: root.metricName,
            metricNamespace: ACTIVITY_METRIC_NAMESPACE,
            metricValue: '1',
            defaultValue: -1,
          },
        ],
      },
      'defaultValue -1',
    ],
    ['system field dimensions emitted', { ...goodFilter(), emitSystemFieldDimensions: ['@aws.region'] }, 'emitSystem'],
    ['applied to transformed logs', { ...goodFilter(), applyOnTransformedLogs: true }, 'applyOnTransformedLogs'],
    ['a field selection', { ...goodFilter(), fieldSelectionCriteria: '$.x = 1' }, 'fieldSelectionCriteria'],
    ['metadata only (creation time)', { ...goodFilter(), creationTime: 1_700_000_000_000 }, undefined],
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
    ['a unit (the filter publishes none: the alarm sees no data)', { Unit: 'Seconds' }, 'unit Seconds'],
    ["an attacker's OK action", { OKActions: ['arn:aws:sns:us-east-1:444455556666:sink'] }, 'OK actions'],
    [
      "an attacker's insufficient-data action",
      { InsufficientDataActions: ['arn:aws:sns:us-east-1:444455556666:sink'] },
      'insufficient-data actions',
    ],
    ['Sum, which negative PutMetricData can hold below 1', { Statistic: 'Sum' }, 'statistic Sum'],
    ['a field not compared one by one', { EvaluationInterval: 3600 }, 'EvaluationInterval 3600'],
    [
      'state and bookkeeping only',
      { StateValue: 'ALARM', StateReason: 'x', AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a' },
      undefined,
    ],
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
    ['everything in place, one confirmed subscriber', { subscribers: 1 }, {}, 'compliant', []],
    ['the topic has no confirmed subscriber: nobody hears the alarms', { subscribers: 0 }, {}, 'drifted', []],
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

  it('with a rival trail: keeps the alarms on the chosen group, asks a human to pin the trail, ignores no group', () => {
    const rivalled = { ...activityTrailOf(trail()), rivals: ['aaa'] };
    const sweep = decideActivity(state({ trail: rivalled }), settings);
    expect(sweep.status).toBe('drifted');
    expect(sweep.needsHuman).toEqual([expect.stringContaining('DRIFTGUARD_ACTIVITY_TRAIL')]);
    const onOther = decideActivity(
      state({
        trail: rivalled,
        filters: ACTIVITY_CONTROLS.slice(1).map((c) => goodFilter(c)),
        target: { region: 'us-east-1', account: '123456789012', eventName: 'DeleteMetricFilter', logGroupName: '/aaa' },
      }),
      settings,
    );
    expect(onOther.status).toBe('drifted');
    expect(onOther.actions.map((a) => a.api)).toEqual(['logs:PutMetricFilter']);
  });

  it.each<[string, ActivityState['delivery'], string | undefined]>([
    ['not read', undefined, undefined],
    [
      'delivered 5 minutes ago',
      { lastAt: '2026-12-01T09:55:00.000Z', checkedAt: '2026-12-01T10:00:00.000Z' },
      undefined,
    ],
    ['never delivered, no error (just linked)', { checkedAt: '2026-12-01T10:00:00.000Z' }, undefined],
    [
      'never delivered, with an error',
      { error: 'AccessDenied', checkedAt: '2026-12-01T10:00:00.000Z' },
      'never delivered to the group (CloudWatch Logs error: AccessDenied)',
    ],
    [
      'the delivery role made unusable 3 hours ago',
      { error: 'AccessDenied', lastAt: '2026-12-01T07:00:00.000Z', checkedAt: '2026-12-01T10:00:00.000Z' },
      'since 2026-12-01T07:00:00.000Z, 180 minutes (CloudWatch Logs error: AccessDenied)',
    ],
    [
      'an old error, delivering again',
      { error: 'AccessDenied', lastAt: '2026-12-01T09:58:00.000Z', checkedAt: '2026-12-01T10:00:00.000Z' },
      undefined,
    ],
  ])('delivery: %s', (_, delivery, problem) => {
    const found = deliveryProblem(delivery);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('stopped delivery with the filters and alarms in place: drifted, a human to fix the delivery role', () => {
    const decision = decideActivity(
      state({
        trail: activityTrailOf(trail({ cloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/delivery' })),
        delivery: { error: 'AccessDenied', lastAt: '2026-12-01T07:00:00.000Z', checkedAt: '2026-12-01T10:00:00.000Z' },
      }),
      settings,
    );
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toEqual([]);
    expect(decision.needsHuman).toEqual([expect.stringContaining('role/delivery')]);
    // A trail stopped is the trail rule's to restart: no second notice for the silence it causes.
    const stopped = state({
      trail: activityTrailOf(trail({ isLogging: false })),
      delivery: { lastAt: '2026-12-01T07:00:00.000Z', checkedAt: '2026-12-01T10:00:00.000Z' },
    });
    expect(decideActivity(stopped, settings).status).toBe('compliant');
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

  const decoyArn = 'arn:aws:logs:us-east-1:123456789012:log-group:decoy:*';
  const named = (name: string, over: Partial<TrailConfig> = {}) =>
    trail({ name, trailArn: `arn:aws:cloudtrail:us-east-1:123456789012:trail/${name}`, ...over });
  const allManagement = { eventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' as const }] };
  it.each<[string, TrailConfig[], string | undefined, string[] | undefined]>([
    [
      'not a decoy that sorts first but is not logging',
      [named('aaa', { isLogging: false, cloudWatchLogsLogGroupArn: decoyArn }), named('org-trail', allManagement)],
      'org-trail',
      undefined,
    ],
    [
      'not a decoy that sorts first but records no management events',
      [
        named('aaa', { cloudWatchLogsLogGroupArn: decoyArn, eventSelectors: [{ IncludeManagementEvents: false }] }),
        named('org-trail', allManagement),
      ],
      'org-trail',
      undefined,
    ],
    [
      'not a decoy recording only read-only calls (advanced selectors)',
      [
        named('aaa', {
          cloudWatchLogsLogGroupArn: decoyArn,
          advancedEventSelectors: [
            {
              FieldSelectors: [
                { Field: 'eventCategory', Equals: ['Management'] },
                { Field: 'readOnly', Equals: ['true'] },
              ],
            },
          ],
        }),
        named('org-trail', allManagement),
      ],
      'org-trail',
      undefined,
    ],
    [
      'a second qualifying trail: reported as a rival, not silently taken',
      [named('aaa', { ...allManagement, cloudWatchLogsLogGroupArn: decoyArn }), named('org-trail', allManagement)],
      'aaa',
      ['org-trail'],
    ],
    [
      'none qualifying: the order of pickActivityTrail',
      [named('b', { isLogging: false }), named('a', { isLogging: false })],
      'a',
      undefined,
    ],
  ])('chooses %s', (_, configs, name, rivals) => {
    const chosen = chooseActivityTrail(configs, 'us-east-1');
    expect(chosen?.trail.name).toBe(name);
    expect(chosen?.rivals).toEqual(rivals);
  });

  it.each<[string, Partial<TrailConfig>, boolean]>([
    ['the default selector', { eventSelectors: [{}] }, true],
    ['read and write', { eventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }] }, true],
    ['write only', { eventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'WriteOnly' }] }, false],
    ['KMS events excluded', { eventSelectors: [{ ExcludeManagementEventSources: ['kms.amazonaws.com'] }] }, false],
    ['no selector', { eventSelectors: [] }, false],
    [
      'advanced: management only',
      { advancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }] },
      true,
    ],
    [
      'advanced: one event source left out',
      {
        advancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
            ],
          },
        ],
      },
      false,
    ],
  ])('management events: %s', (_, selectors, expected) => {
    expect(logsAllManagementEvents(selectors)).toBe(expected);
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
