import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { MalformedEventError } from '../../lib/envelope.js';
import type { Decision, EngineRecord, Severity } from '../../lib/rule.js';
import {
  type Dependencies,
  decideTrailFixes,
  type TrailState,
  type TrailSweepTarget,
  trailIntegrity,
} from '../../lib/rules/trail-integrity.js';
import type { TrailBaseline } from '../../lib/trail-baselines.js';
import { explainTrailFailure, type TrailAction } from '../../lib/trail-restore.js';
import { unrestoredAttributes } from '../../lib/trail-weakenings.js';
import { createTrailInput, type TrailConfig } from '../../lib/trails.js';
import { ACCOUNT, params, sample, sampleWith, settingsOf } from './fixtures.js';
import {
  BUCKET,
  KEY,
  LOG_GROUP,
  LOG_ROLE,
  management,
  NAME,
  OTHER_BUCKET,
  REGION,
  TRAIL_ARN,
  trail,
} from './trail-fixtures.js';

const EVENT_ID = 'f1e2d3c4-0105-4a5b-9c8d-000000000105';
const EVENT_TIME = '2025-03-03T12:00:00Z';
const NOW = '2025-03-03T12:05:00Z';
const CAPTURED_AT = '2025-03-01T08:00:00Z';

function baselineOf(config: TrailConfig = trail()): TrailBaseline {
  return { config, capturedAt: CAPTURED_AT, capturedFrom: 'deploy' };
}

interface StateInput {
  eventName: string;
  /** undefined: the trail is gone. */
  current: TrailConfig | undefined;
  /** undefined: no baseline was ever captured. */
  baseline: TrailBaseline | undefined;
  dependencies?: Dependencies;
  eventTime?: string;
  now?: string;
}

function state({
  eventName,
  current,
  baseline,
  dependencies = {},
  eventTime = EVENT_TIME,
  now = NOW,
}: StateInput): TrailState {
  return {
    target: { name: NAME, region: REGION, account: ACCOUNT, eventName, eventId: EVENT_ID, eventTime },
    current,
    baseline,
    dependencies,
    now,
  };
}

/** The baseline follows an accepted change (it replaces the one kept). */
const capture: EngineRecord = {
  kind: 'trail-baseline',
  trail: NAME,
  region: REGION,
  from: EVENT_ID,
  mode: 'follow',
  summary: 'the baseline follows',
};

/** A trail's first baseline (kept only where it has none). */
const firstCapture: EngineRecord = { ...capture, mode: 'first', summary: 'baseline captured' };

const FOREIGN_BUCKET: Dependencies = { bucket: { name: BUCKET, ownedByAccount: false } };
const FOREIGN_KEY = 'arn:aws:kms:eu-west-1:999999999999:key/33333333-3333-4333-8333-333333333333';

const PENDING_DELETION: Dependencies = { key: { id: KEY, state: 'PendingDeletion' } };
const DELETED = { current: undefined, baseline: baselineOf() };

interface Case {
  label: string;
  input: StateInput;
  status: Decision['status'];
  apis: string[];
  needsHuman?: number;
  severity?: Severity;
  bookkeeping: EngineRecord[];
}

const CASES: Case[] = [
  {
    label: 'CreateTrail: compliant, the new trail’s baseline captured',
    input: { eventName: 'CreateTrail', current: trail(), baseline: undefined },
    status: 'compliant',
    apis: [],
    bookkeeping: [firstCapture],
  },
  {
    label: 'CreateTrail re-creating a trail weaker than its baseline: restored, high, the baseline follows',
    input: {
      eventName: 'CreateTrail',
      current: trail({ isMultiRegionTrail: false, kmsKeyId: undefined, isLogging: false, tags: [] }),
      baseline: baselineOf(),
    },
    status: 'drifted',
    apis: ['cloudtrail:UpdateTrail', 'cloudtrail:StartLogging'],
    severity: 'critical',
    bookkeeping: [capture],
  },
  {
    label: 'CreateTrail re-creating a trail stronger than its baseline: accepted, the baseline follows',
    input: {
      eventName: 'CreateTrail',
      current: trail({ insightSelectors: [{ InsightType: 'ApiCallRateInsight' }], s3KeyPrefix: 'v2' }),
      baseline: baselineOf(trail({ isMultiRegionTrail: false })),
    },
    status: 'compliant',
    apis: [],
    bookkeeping: [capture],
  },
  {
    label: 'CreateTrail re-creating a trail with another account’s bucket in its baseline: a human, no write',
    input: {
      eventName: 'CreateTrail',
      current: trail({ s3BucketName: OTHER_BUCKET }),
      baseline: baselineOf(),
      dependencies: FOREIGN_BUCKET,
    },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'high',
    bookkeeping: [],
  },
  {
    label: 'deleted, the baseline’s bucket not the account’s: a human, no actions',
    input: { eventName: 'DeleteTrail', ...DELETED, dependencies: FOREIGN_BUCKET },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted, the baseline’s key of another account: a human, no actions',
    input: {
      eventName: 'DeleteTrail',
      current: undefined,
      baseline: baselineOf(trail({ kmsKeyId: FOREIGN_KEY })),
      dependencies: { key: { id: FOREIGN_KEY, state: undefined } },
    },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'bucket changed and the baseline’s bucket not the account’s: the other fixes only, no baseline change',
    input: {
      eventName: 'UpdateTrail',
      current: trail({ s3BucketName: OTHER_BUCKET, logFileValidationEnabled: false }),
      baseline: baselineOf(),
      dependencies: FOREIGN_BUCKET,
    },
    status: 'drifted',
    apis: ['cloudtrail:UpdateTrail'],
    needsHuman: 2,
    severity: 'high',
    bookkeeping: [],
  },
  {
    label: 'CreateTrail of a trail that is gone again: ignored',
    input: { eventName: 'CreateTrail', current: undefined, baseline: undefined },
    status: 'ignored',
    apis: [],
    bookkeeping: [],
  },
  ...(['DeleteTrail', 'StopLogging'] as const).map(
    (eventName): Case => ({
      label: `${eventName} without a baseline: a human, critical`,
      input: {
        eventName,
        current: eventName === 'DeleteTrail' ? undefined : trail({ isLogging: false }),
        baseline: undefined,
      },
      status: 'drifted',
      apis: [],
      needsHuman: 1,
      severity: 'critical',
      bookkeeping: [],
    }),
  ),
  ...(['UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'] as const).map(
    (eventName): Case => ({
      label: `${eventName} without a baseline: a human, high`,
      input: { eventName, current: trail({ isMultiRegionTrail: false }), baseline: undefined },
      status: 'drifted',
      apis: [],
      needsHuman: 1,
      severity: 'high',
      bookkeeping: [],
    }),
  ),
  {
    label: 'deleted: re-created, selectors put back, logging started',
    input: { eventName: 'DeleteTrail', ...DELETED },
    status: 'drifted',
    apis: ['cloudtrail:CreateTrail', 'cloudtrail:PutEventSelectors', 'cloudtrail:StartLogging'],
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted, with insights: insight selectors put back too',
    input: {
      eventName: 'DeleteTrail',
      current: undefined,
      baseline: baselineOf(trail({ insightSelectors: [{ InsightType: 'ApiCallRateInsight' }] })),
    },
    status: 'drifted',
    apis: [
      'cloudtrail:CreateTrail',
      'cloudtrail:PutEventSelectors',
      'cloudtrail:PutInsightSelectors',
      'cloudtrail:StartLogging',
    ],
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted while it was not logging: re-created, not started',
    input: { eventName: 'DeleteTrail', current: undefined, baseline: baselineOf(trail({ isLogging: false })) },
    status: 'drifted',
    apis: ['cloudtrail:CreateTrail', 'cloudtrail:PutEventSelectors'],
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted, its key enabled: re-created',
    input: { eventName: 'DeleteTrail', ...DELETED, dependencies: { key: { id: KEY, state: 'Enabled' } } },
    status: 'drifted',
    apis: ['cloudtrail:CreateTrail', 'cloudtrail:PutEventSelectors', 'cloudtrail:StartLogging'],
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted organization trail: a human, no actions',
    input: { eventName: 'DeleteTrail', current: undefined, baseline: baselineOf(trail({ isOrganizationTrail: true })) },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted, its key pending deletion: a human, no actions',
    input: { eventName: 'DeleteTrail', ...DELETED, dependencies: PENDING_DELETION },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'deleted, its key disabled: a human, no actions',
    input: { eventName: 'DeleteTrail', ...DELETED, dependencies: { key: { id: KEY, state: 'Disabled' } } },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'stopped: logging started, critical, the baseline kept as it was',
    input: { eventName: 'StopLogging', current: trail({ isLogging: false }), baseline: baselineOf() },
    status: 'drifted',
    apis: ['cloudtrail:StartLogging'],
    severity: 'critical',
    bookkeeping: [],
  },
  {
    label: 'weakened by UpdateTrail: one UpdateTrail, high',
    input: {
      eventName: 'UpdateTrail',
      current: trail({ isMultiRegionTrail: false, logFileValidationEnabled: false }),
      baseline: baselineOf(),
    },
    status: 'drifted',
    apis: ['cloudtrail:UpdateTrail'],
    severity: 'high',
    bookkeeping: [capture],
  },
  {
    label: 'management events narrowed by PutEventSelectors: selectors put back',
    input: {
      eventName: 'PutEventSelectors',
      current: trail({ eventSelectors: [management({ ReadWriteType: 'WriteOnly' })] }),
      baseline: baselineOf(),
    },
    status: 'drifted',
    apis: ['cloudtrail:PutEventSelectors'],
    severity: 'high',
    bookkeeping: [capture],
  },
  {
    label: 'KMS key removed, the key pending deletion: a human, no actions',
    input: {
      eventName: 'UpdateTrail',
      current: trail({ kmsKeyId: undefined }),
      baseline: baselineOf(),
      dependencies: PENDING_DELETION,
    },
    status: 'drifted',
    apis: [],
    needsHuman: 1,
    severity: 'high',
    bookkeeping: [],
  },
  {
    label: 'S3 bucket changed: UpdateTrail and a human to find out why',
    input: { eventName: 'UpdateTrail', current: trail({ s3BucketName: OTHER_BUCKET }), baseline: baselineOf() },
    status: 'drifted',
    apis: ['cloudtrail:UpdateTrail'],
    needsHuman: 1,
    severity: 'high',
    bookkeeping: [capture],
  },
  {
    label: 'harmless UpdateTrail (S3 prefix): accepted, the baseline follows',
    input: { eventName: 'UpdateTrail', current: trail({ s3KeyPrefix: 'audit/v2' }), baseline: baselineOf() },
    status: 'compliant',
    apis: [],
    bookkeeping: [capture],
  },
  {
    label: 'harmless PutEventSelectors (data resources): accepted, the baseline follows',
    input: {
      eventName: 'PutEventSelectors',
      current: trail({
        eventSelectors: [management({ DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::d/'] }] })],
      }),
      baseline: baselineOf(),
    },
    status: 'compliant',
    apis: [],
    bookkeeping: [capture],
  },
  {
    label: 'harmless PutInsightSelectors: accepted, the baseline follows',
    input: {
      eventName: 'PutInsightSelectors',
      current: trail({ insightSelectors: [{ InsightType: 'ApiErrorRateInsight' }] }),
      baseline: baselineOf(),
    },
    status: 'compliant',
    apis: [],
    bookkeeping: [capture],
  },
  {
    label: 'DeleteTrail delivered again, the trail already restored: compliant, no bookkeeping',
    input: { eventName: 'DeleteTrail', current: trail(), baseline: baselineOf() },
    status: 'compliant',
    apis: [],
    bookkeeping: [],
  },
  {
    label: 'StopLogging delivered again, the trail logging again: compliant, no bookkeeping',
    input: { eventName: 'StopLogging', current: trail(), baseline: baselineOf() },
    status: 'compliant',
    apis: [],
    bookkeeping: [],
  },
];

const DECLARED_COMMANDS = Object.keys(trailIntegrity.commands);

describe('decideTrailFixes', () => {
  it.each(CASES)('$label', ({ input, status, apis, needsHuman, severity, bookkeeping }) => {
    // Act
    const decision = decideTrailFixes(state(input));

    // Assess
    expect(decision.status).toBe(status);
    expect(decision.actions.map((a) => a.api)).toEqual(apis);
    expect(decision.needsHuman).toHaveLength(needsHuman ?? 0);
    expect(decision.severity).toBe(severity);
    expect(decision.bookkeeping ?? []).toEqual(bookkeeping);
    if (status !== 'drifted') expect(decision.findings).toEqual([]);
  });

  it.each(CASES)('only plans commands the rule declares: $label', ({ input }) => {
    // Act
    const decision = decideTrailFixes(state(input));

    // Assess
    expect(DECLARED_COMMANDS).toEqual(expect.arrayContaining(decision.actions.map((a) => a.api)));
  });

  it('tells the human to check the trail by hand and capture its baseline when there is none', () => {
    // Act
    const decision = decideTrailFixes(state({ eventName: 'UpdateTrail', current: trail(), baseline: undefined }));

    // Assess
    expect(decision.reason).toBe(`no baseline for trail ${NAME}: the engine cannot tell what it should be`);
    expect(decision.needsHuman).toEqual([
      expect.stringContaining(`Check trail ${NAME} in ${REGION} by hand (UpdateTrail`),
    ]);
  });

  describe('a deleted trail', () => {
    it('is re-created exactly from its baseline', () => {
      // Prepare
      const config = trail({
        snsTopicName: 'trail-deliveries',
        insightSelectors: [{ InsightType: 'ApiCallRateInsight' }, { InsightType: 'ApiErrorRateInsight' }],
      });

      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'DeleteTrail', current: undefined, baseline: baselineOf(config) }),
      );

      // Assess
      expect(decision.actions.map(({ api, params }) => ({ api, params }))).toStrictEqual([
        { api: 'cloudtrail:CreateTrail', params: createTrailInput(config) },
        { api: 'cloudtrail:PutEventSelectors', params: { TrailName: NAME, EventSelectors: [management()] } },
        {
          api: 'cloudtrail:PutInsightSelectors',
          params: {
            TrailName: NAME,
            InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }, { InsightType: 'ApiErrorRateInsight' }],
          },
        },
        { api: 'cloudtrail:StartLogging', params: { Name: NAME } },
      ]);
      expect(decision.actions[0]?.summary).toBe(
        `trail ${NAME} re-created (bucket ${BUCKET}, multi-region on, validation on, 1 tags)`,
      );
      expect(decision.reason).toBe(`trail ${NAME} was deleted`);
      expect(decision.needsHuman).toEqual([]);
    });

    it('gets its advanced event selectors back', () => {
      // Prepare
      const advanced = [{ Name: 'Management', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }];
      const config = trail({ eventSelectors: undefined, advancedEventSelectors: advanced });

      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'DeleteTrail', current: undefined, baseline: baselineOf(config) }),
      );

      // Assess
      expect(decision.actions[1]?.params).toStrictEqual({ TrailName: NAME, AdvancedEventSelectors: advanced });
    });

    it('says how long it has not been logging and which baseline re-creates it', () => {
      // Act
      const decision = decideTrailFixes(state({ eventName: 'DeleteTrail', ...DELETED }));

      // Assess
      expect(decision.findings).toEqual([
        {
          attribute: 'trail',
          before: 'deleted (not logging for 5m00s)',
          after: `re-created from the baseline of ${CAPTURED_AT}`,
        },
      ]);
    });

    it('is left to the management account when it is an organization trail', () => {
      // Act
      const decision = decideTrailFixes(
        state({
          eventName: 'DeleteTrail',
          current: undefined,
          baseline: baselineOf(trail({ isOrganizationTrail: true })),
        }),
      );

      // Assess
      expect(decision.reason).toBe(`trail ${NAME} was deleted and cannot be re-created`);
      expect(decision.needsHuman).toEqual([
        `${NAME} is an organization trail: re-create it from the organization's management account.`,
      ]);
    });

    it('waits for a human to cancel the deletion of its KMS key', () => {
      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'DeleteTrail', ...DELETED, dependencies: PENDING_DELETION }),
      );

      // Assess
      expect(decision.needsHuman).toEqual([
        `The trail's KMS key ${KEY} is pending deletion: cancel it (aws kms cancel-key-deletion --key-id ${KEY}, then aws kms enable-key --key-id ${KEY}) before the trail can be restored.`,
      ]);
    });

    it.each([
      ['Disabled', 'Disabled'],
      ['gone (DescribeKey: NotFound)', undefined],
    ])('waits for a human to enable its KMS key when it is %s', (_label, keyState) => {
      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'DeleteTrail', ...DELETED, dependencies: { key: { id: KEY, state: keyState } } }),
      );

      // Assess
      expect(decision.actions).toEqual([]);
      expect(decision.needsHuman).toEqual([
        `The trail's KMS key ${KEY} is ${keyState ?? 'gone'}: enable it (or restore it) before the trail can be restored.`,
      ]);
    });
  });

  describe('a stopped trail', () => {
    it.each([
      ['since it stopped', '2025-03-03T09:59:00Z', '2h06m'],
      ['since the event when AWS does not say', undefined, '5m00s'],
    ])('is started, saying how long it was not logging %s', (_label, stoppedLoggingAt, duration) => {
      // Prepare
      const current = trail({ isLogging: false, ...(stoppedLoggingAt ? { stoppedLoggingAt } : {}) });

      // Act
      const decision = decideTrailFixes(state({ eventName: 'StopLogging', current, baseline: baselineOf() }));

      // Assess
      expect(decision.findings).toEqual([
        { attribute: 'logging', before: `on (stopped; not logging for ${duration})`, after: 'off -> on' },
      ]);
      expect(decision.actions).toEqual([
        {
          api: 'cloudtrail:StartLogging',
          params: { Name: TRAIL_ARN },
          summary: 'logging started',
          brief: 'logging started',
        },
      ]);
      expect(decision.reason).toBe('weakened: logging');
    });

    it.each([
      ['2025-03-03T12:04:15Z', '45s'],
      ['2025-03-03T12:05:30Z', '0s'],
    ])('counts seconds under a minute, never below zero (stopped at %s: %s)', (stoppedLoggingAt, duration) => {
      // Act
      const decision = decideTrailFixes(
        state({
          eventName: 'StopLogging',
          current: trail({ isLogging: false, stoppedLoggingAt }),
          baseline: baselineOf(),
        }),
      );

      // Assess
      expect(decision.findings[0]?.before).toBe(`on (stopped; not logging for ${duration})`);
    });
  });

  describe('a weakened trail', () => {
    it.each<[string, Partial<TrailConfig>, Record<string, unknown>, TrailConfig?]>([
      ['isMultiRegionTrail', { isMultiRegionTrail: false }, { IsMultiRegionTrail: true }],
      ['logFileValidationEnabled', { logFileValidationEnabled: false }, { EnableLogFileValidation: true }],
      ['includeGlobalServiceEvents', { includeGlobalServiceEvents: false }, { IncludeGlobalServiceEvents: true }],
      [
        'cloudWatchLogs',
        { cloudWatchLogsLogGroupArn: undefined, cloudWatchLogsRoleArn: undefined },
        { CloudWatchLogsLogGroupArn: LOG_GROUP, CloudWatchLogsRoleArn: LOG_ROLE },
      ],
      ['kmsKeyId', { kmsKeyId: undefined }, { KmsKeyId: KEY }],
      ['s3BucketName', { s3BucketName: OTHER_BUCKET }, { S3BucketName: BUCKET }],
      ['snsTopicName', { snsTopicName: undefined }, { SnsTopicName: 'trail-deliveries' }],
      ['kmsKeyId', { kmsKeyId: FOREIGN_KEY }, { KmsKeyId: '' }, trail({ kmsKeyId: undefined })],
    ])(
      'gets %s back, and nothing else',
      (attribute, weakened, restored, baseline = trail({
        snsTopicName: 'trail-deliveries',
      })) => {
        // Act
        const decision = decideTrailFixes(
          state({ eventName: 'UpdateTrail', current: { ...baseline, ...weakened }, baseline: baselineOf(baseline) }),
        );

        // Assess
        expect(decision.actions).toHaveLength(1);
        expect(decision.actions[0]?.params).toStrictEqual({ Name: TRAIL_ARN, ...restored });
        expect(decision.actions[0]?.summary).toBe(`${attribute} back to the baseline`);
      },
    );

    it('puts the baseline’s selectors back whole when data events were removed, and its lost insight types', () => {
      // Prepare
      const data = { Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::payments-data/'] };
      const baseline = trail({
        eventSelectors: [management({ DataResources: [data] })],
        insightSelectors: [{ InsightType: 'ApiCallRateInsight' }],
      });
      const current = trail({ insightSelectors: [{ InsightType: 'ApiErrorRateInsight' }] });

      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'PutEventSelectors', current, baseline: baselineOf(baseline) }),
      );

      // Assess
      expect(decision.actions.map(({ api, params }) => ({ api, params }))).toStrictEqual([
        {
          api: 'cloudtrail:PutEventSelectors',
          params: { TrailName: TRAIL_ARN, EventSelectors: [management({ DataResources: [data] })] },
        },
        {
          api: 'cloudtrail:PutInsightSelectors',
          params: {
            TrailName: TRAIL_ARN,
            InsightSelectors: [{ InsightType: 'ApiErrorRateInsight' }, { InsightType: 'ApiCallRateInsight' }],
          },
        },
      ]);
    });

    it('does not send the trail back to a baseline bucket the account does not own', () => {
      // Act
      const decision = decideTrailFixes(
        state({
          eventName: 'UpdateTrail',
          current: trail({ s3BucketName: OTHER_BUCKET, logFileValidationEnabled: false }),
          baseline: baselineOf(),
          dependencies: FOREIGN_BUCKET,
        }),
      );

      // Assess
      expect(decision.actions.map(({ api, params }) => ({ api, params }))).toStrictEqual([
        { api: 'cloudtrail:UpdateTrail', params: { Name: TRAIL_ARN, EnableLogFileValidation: true } },
      ]);
      expect(decision.needsHuman).toContainEqual(
        expect.stringContaining(`The baseline's S3 bucket ${BUCKET} is not a bucket of account ${ACCOUNT}`),
      );
    });

    it('restores only the weakened attributes in one UpdateTrail', () => {
      // Prepare
      const current = trail({
        isMultiRegionTrail: false,
        logFileValidationEnabled: false,
        cloudWatchLogsLogGroupArn: undefined,
        cloudWatchLogsRoleArn: undefined,
        s3KeyPrefix: 'audit/v2',
        snsTopicName: 'new-topic',
      });

      // Act
      const decision = decideTrailFixes(state({ eventName: 'UpdateTrail', current, baseline: baselineOf() }));

      // Assess
      expect(decision.actions).toStrictEqual([
        {
          api: 'cloudtrail:UpdateTrail',
          params: {
            Name: TRAIL_ARN,
            IsMultiRegionTrail: true,
            EnableLogFileValidation: true,
            CloudWatchLogsLogGroupArn: LOG_GROUP,
            CloudWatchLogsRoleArn: LOG_ROLE,
          },
          summary: 'isMultiRegionTrail, logFileValidationEnabled, cloudWatchLogs back to the baseline',
          brief: 'isMultiRegionTrail, logFileValidationEnabled, cloudWatchLogs restored',
        },
      ]);
      expect(decision.reason).toBe('weakened: isMultiRegionTrail, logFileValidationEnabled, cloudWatchLogs');
      expect(decision.needsHuman).toEqual([]);
      expect(decision.findings.map((f) => f.attribute)).toEqual([
        'isMultiRegionTrail',
        'logFileValidationEnabled',
        'cloudWatchLogs',
      ]);
    });

    it('orders UpdateTrail, PutEventSelectors, StartLogging when all three are needed', () => {
      // Prepare
      const current = trail({
        isLogging: false,
        includeGlobalServiceEvents: false,
        eventSelectors: [management({ IncludeManagementEvents: false })],
      });

      // Act
      const decision = decideTrailFixes(state({ eventName: 'StopLogging', current, baseline: baselineOf() }));

      // Assess
      expect(decision.actions.map(({ api, params }) => ({ api, params }))).toStrictEqual([
        { api: 'cloudtrail:UpdateTrail', params: { Name: TRAIL_ARN, IncludeGlobalServiceEvents: true } },
        { api: 'cloudtrail:PutEventSelectors', params: { TrailName: TRAIL_ARN, EventSelectors: [management()] } },
        { api: 'cloudtrail:StartLogging', params: { Name: TRAIL_ARN } },
      ]);
      expect(decision.severity).toBe('critical');
    });

    it('flags a bucket change as suspicious and asks a human why', () => {
      // Act
      const decision = decideTrailFixes(
        state({ eventName: 'UpdateTrail', current: trail({ s3BucketName: OTHER_BUCKET }), baseline: baselineOf() }),
      );

      // Assess
      expect(decision.reason).toBe(`weakened: s3BucketName (suspicious: s3BucketName changed to ${OTHER_BUCKET})`);
      expect(decision.needsHuman).toEqual([
        `Find out why ${NAME}'s s3BucketName changed to ${OTHER_BUCKET}: changing where a trail writes is how logs get diverted.`,
      ]);
      expect(decision.findings).toEqual([
        { attribute: 's3BucketName', before: BUCKET, after: OTHER_BUCKET, suspicious: true },
      ]);
    });

    it('names the key and the cancel command when the removed key is pending deletion', () => {
      // Act
      const decision = decideTrailFixes(
        state({
          eventName: 'UpdateTrail',
          current: trail({ kmsKeyId: undefined }),
          baseline: baselineOf(),
          dependencies: PENDING_DELETION,
        }),
      );

      // Assess
      expect(decision.reason).toBe(`trail ${NAME} was weakened but cannot be restored`);
      expect(decision.needsHuman).toEqual([expect.stringContaining(`aws kms cancel-key-deletion --key-id ${KEY}`)]);
      expect(decision.findings).toEqual([{ attribute: 'kmsKeyId', before: KEY, after: 'removed (no encryption)' }]);
    });
  });
});

describe('a trail found by the sweep', () => {
  const SWEEP_ID = 'sweep-2025-03-03T12:05:00.000Z';

  function swept(firstSeen = false): TrailSweepTarget {
    return { name: NAME, region: REGION, account: ACCOUNT, sweepId: SWEEP_ID, firstSeen };
  }

  function sweptState(current: TrailConfig | undefined, baseline: TrailBaseline | undefined): TrailState {
    return { target: swept(), current, baseline, dependencies: {}, now: NOW };
  }

  function firstSeen(current: TrailConfig): Decision {
    return decideTrailFixes({ target: swept(true), current, baseline: undefined, dependencies: {}, now: NOW });
  }

  it('has its baseline captured, from the sweep, when it is seen for the first time as the policy expects', () => {
    // Act
    const decision = firstSeen(trail());

    // Assess
    expect(decision).toEqual({
      status: 'compliant',
      reason: `first seen by the sweep: ${NAME}`,
      findings: [],
      actions: [],
      needsHuman: [],
      bookkeeping: [{ ...firstCapture, from: SWEEP_ID }],
    });
  });

  it('is started, critical, when first seen not logging; its baseline captured after', () => {
    // Act
    const decision = firstSeen(trail({ isLogging: false }));

    // Assess
    expect(decision).toMatchObject({
      status: 'drifted',
      reason: 'first seen by the sweep: logging short of the policy',
      findings: [{ attribute: 'logging', before: 'off (first seen by the sweep)', after: 'on' }],
      needsHuman: [],
      severity: 'critical',
      bookkeeping: [{ ...firstCapture, from: SWEEP_ID }],
    });
    expect(decision.actions.map(({ api, params }) => ({ api, params }))).toEqual([
      { api: 'cloudtrail:StartLogging', params: { Name: TRAIL_ARN } },
    ]);
  });

  it('is notified, never captured silently, when first seen short of the rule’s controls', () => {
    // Act
    const decision = firstSeen(
      trail({
        isMultiRegionTrail: false,
        logFileValidationEnabled: false,
        kmsKeyId: FOREIGN_KEY,
        cloudWatchLogsLogGroupArn: undefined,
        cloudWatchLogsRoleArn: undefined,
        eventSelectors: [management({ ReadWriteType: 'WriteOnly' })],
      }),
    );

    // Assess
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toEqual([]);
    expect(decision.severity).toBe('high');
    expect(decision.findings.map((f) => f.attribute)).toEqual([
      'isMultiRegionTrail',
      'kmsKeyId',
      'logFileValidationEnabled',
      'cloudWatchLogs',
      'managementEvents',
    ]);
    expect(decision.needsHuman).toEqual([
      `Trail ${NAME} was first seen by the sweep with isMultiRegionTrail off, kmsKeyId ${FOREIGN_KEY} (a key of account 999999999999), logFileValidationEnabled off, cloudWatchLogs none, managementEvents WriteOnly: its baseline records it as it is; strengthen it if that is not intended (the baseline follows).`,
    ]);
    expect(decision.bookkeeping).toEqual([{ ...firstCapture, from: SWEEP_ID }]);
  });

  it('is re-created when deleted, saying the time it was deleted is unknown', () => {
    // Act
    const decision = decideTrailFixes(sweptState(undefined, baselineOf()));

    // Assess
    expect(decision.actions.map((a) => a.api)).toEqual([
      'cloudtrail:CreateTrail',
      'cloudtrail:PutEventSelectors',
      'cloudtrail:StartLogging',
    ]);
    expect(decision.findings).toEqual([
      {
        attribute: 'trail',
        before: 'deleted (not logging for an unknown time)',
        after: `re-created from the baseline of ${CAPTURED_AT}`,
      },
    ]);
    expect(decision.severity).toBe('critical');
    expect(decision.bookkeeping).toBeUndefined();
  });

  it.each([
    ['AWS says when it stopped', '2025-03-03T11:05:00Z', '1h00m'],
    ['AWS does not say when it stopped', undefined, 'an unknown time'],
  ])('is started when stopped: %s', (_label, stoppedLoggingAt, duration) => {
    // Prepare
    const current = trail({ isLogging: false, ...(stoppedLoggingAt ? { stoppedLoggingAt } : {}) });

    // Act
    const decision = decideTrailFixes(sweptState(current, baselineOf()));

    // Assess
    expect(decision.actions.map(({ api, params }) => ({ api, params }))).toEqual([
      { api: 'cloudtrail:StartLogging', params: { Name: TRAIL_ARN } },
    ]);
    expect(decision.findings[0]?.before).toBe(`on (stopped; not logging for ${duration})`);
    expect(decision.bookkeeping).toEqual([]);
  });

  it('keeps the baseline as it is when the trail equals it', () => {
    // Act
    const decision = decideTrailFixes(sweptState(trail({ s3KeyPrefix: 'audit/v2' }), baselineOf()));

    // Assess
    expect(decision).toMatchObject({ status: 'compliant', reason: 'the trail is as its baseline says' });
    expect(decision.bookkeeping).toBeUndefined();
  });

  it('asks a human, saying the sweep found it, when its baseline vanished meanwhile', () => {
    // Act
    const decision = decideTrailFixes(sweptState(trail(), undefined));

    // Assess
    expect(decision.severity).toBe('high');
    expect(decision.needsHuman).toEqual([
      `Check trail ${NAME} in ${REGION} by hand (found by the sweep), restore what it should be, then capture its baseline (npm run replay of a CreateTrail event, or the sweep).`,
    ]);
  });
});

describe('unrestoredAttributes', () => {
  it('is empty when the trail equals its baseline', () => {
    // Act
    const steps = unrestoredAttributes(trail(), trail({ stoppedLoggingAt: '2025-03-03T12:00:00Z' }));

    // Assess
    expect(steps).toEqual([]);
  });

  it('lists each attribute that differs, with both values', () => {
    // Prepare
    const now = trail({ s3BucketName: OTHER_BUCKET, kmsKeyId: undefined, tags: [] });

    // Act
    const steps = unrestoredAttributes(trail(), now);

    // Assess
    expect(steps).toEqual([
      `s3BucketName could not be restored: baseline "${BUCKET}", now "${OTHER_BUCKET}".`,
      `kmsKeyId could not be restored: baseline "${KEY}", now null.`,
      'tags could not be restored: baseline [{"Key":"team","Value":"security"}], now [].',
    ]);
  });

  it('gives one step when the trail is still missing', () => {
    // Act
    const steps = unrestoredAttributes(trail(), undefined);

    // Assess
    expect(steps).toEqual([
      `Trail ${NAME} is still missing after the restore: re-create it from the baseline by hand.`,
    ]);
  });
});

describe('explainTrailFailure', () => {
  const create: TrailAction = {
    api: 'cloudtrail:CreateTrail',
    params: createTrailInput(trail()),
    summary: 're-created',
    brief: 're-created',
  };
  const startLogging: TrailAction = { api: 'cloudtrail:StartLogging', params: { Name: NAME }, summary: '', brief: '' };

  function awsError(name: string) {
    return Object.assign(new Error(`${name} happened`), { name });
  }

  it.each([
    ['S3BucketDoesNotExistException', `The trail's S3 bucket ${BUCKET} is gone`],
    ['InsufficientS3BucketPolicyException', `The S3 bucket ${BUCKET} refuses CloudTrail`],
  ])('tells the human what to do about %s, naming the bucket', (name, start) => {
    // Act
    const step = explainTrailFailure(create, awsError(name));

    // Assess
    expect(step).toContain(start);
    expect(step).toMatch(/then restore the trail\.$/);
  });

  it('speaks of the trail’s bucket when the action does not name one', () => {
    // Act
    const step = explainTrailFailure(startLogging, awsError('S3BucketDoesNotExistException'));

    // Assess
    expect(step).toMatch(/is gone: create it with CloudTrail's bucket policy/);
    expect(step).not.toContain('undefined');
  });

  it.each(['InsufficientEncryptionPolicyException', 'KmsKeyNotFoundException', 'KmsKeyDisabledException'])(
    'tells the human to fix the KMS key for %s',
    (name) => {
      // Act
      const step = explainTrailFailure(create, awsError(name));

      // Assess
      expect(step).toBe(
        `CloudTrail cannot use the trail's KMS key ${KEY} (${name}): enable the key and allow cloudtrail.amazonaws.com in its policy, then restore the trail.`,
      );
    },
  );

  it('tells the human to fix the SNS topic policy', () => {
    // Act
    const step = explainTrailFailure(create, awsError('InsufficientSnsTopicPolicyException'));

    // Assess
    expect(step).toMatch(/SNS topic refuses CloudTrail/);
  });

  it.each([
    ['a throttling error', awsError('ThrottlingException')],
    ['access denied', awsError('AccessDeniedException')],
    ['a trail that already exists', awsError('TrailAlreadyExistsException')],
    ['a value that is not an Error', 'S3BucketDoesNotExistException'],
  ])('leaves %s as a plain failure', (_label, error) => {
    // Act
    const step = explainTrailFailure(create, error);

    // Assess
    expect(step).toBeUndefined();
  });
});

describe('trailIntegrity.classifyFailure', () => {
  const ctx = { settings: settingsOf(), aws: createAwsClients() };
  const create: TrailAction = {
    api: 'cloudtrail:CreateTrail',
    params: createTrailInput(trail()),
    summary: 're-created',
    brief: 're-created',
  };

  it('hands a refusal a human must resolve over as the step to take', async () => {
    // Act
    const verdict = await trailIntegrity.classifyFailure?.(
      create,
      Object.assign(new Error('no bucket'), { name: 'S3BucketDoesNotExistException' }),
      ctx,
      REGION,
    );

    // Assess
    expect(verdict).toEqual({
      kind: 'refused',
      step: expect.stringMatching(new RegExp(`^The trail's S3 bucket ${BUCKET} is gone: `)),
    });
  });

  it('leaves any other error a plain failure', async () => {
    // Act
    const verdict = await trailIntegrity.classifyFailure?.(
      create,
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
      ctx,
      REGION,
    );

    // Assess
    expect(verdict).toBeUndefined();
  });
});

describe('trailIntegrity.target', () => {
  const base = { account: ACCOUNT, region: REGION };

  it.each([
    [
      'DeleteTrail by name',
      'cloudtrail-DeleteTrail-by-name',
      'DeleteTrail',
      'f1e2d3c4-0101-4a5b-9c8d-000000000101',
      EVENT_TIME,
    ],
    [
      'DeleteTrail by ARN',
      'cloudtrail-DeleteTrail-by-arn',
      'DeleteTrail',
      'f1e2d3c4-0102-4a5b-9c8d-000000000102',
      EVENT_TIME,
    ],
    [
      'StopLogging by ARN',
      'cloudtrail-StopLogging',
      'StopLogging',
      'f1e2d3c4-0103-4a5b-9c8d-000000000103',
      '2025-03-03T12:02:00Z',
    ],
    [
      'UpdateTrail',
      'cloudtrail-UpdateTrail-change-bucket',
      'UpdateTrail',
      'f1e2d3c4-0109-4a5b-9c8d-000000000109',
      '2025-03-03T12:03:00Z',
    ],
    [
      'PutEventSelectors (trailName)',
      'cloudtrail-PutEventSelectors-write-only',
      'PutEventSelectors',
      'f1e2d3c4-0110-4a5b-9c8d-000000000110',
      '2025-03-03T12:02:00Z',
    ],
    [
      'PutInsightSelectors (trailName)',
      'cloudtrail-PutInsightSelectors',
      'PutInsightSelectors',
      'f1e2d3c4-0111-4a5b-9c8d-000000000111',
      '2025-03-03T12:02:00Z',
    ],
    [
      'CreateTrail',
      'cloudtrail-CreateTrail',
      'CreateTrail',
      'f1e2d3c4-0112-4a5b-9c8d-000000000112',
      '2025-03-03T12:00:00Z',
    ],
  ])('reads %s', (_label, file, eventName, eventId, eventTime) => {
    // Prepare
    const event = sample(file);

    // Act
    const target = trailIntegrity.target(event);

    // Assess
    const name = file === 'cloudtrail-CreateTrail' ? 'team-trail' : NAME;
    expect(target).toEqual({ ...base, name, eventName, eventId, eventTime });
  });

  it('takes the region from a trail ARN, not from the event', () => {
    // Prepare
    const event = sampleWith('cloudtrail-DeleteTrail-by-arn', (raw) => {
      params(raw).name = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${NAME}`;
    });

    // Act
    const target = trailIntegrity.target(event);

    // Assess
    expect(target).toMatchObject({ name: NAME, region: 'us-east-1' });
  });

  it('takes the trail ARN given as trailName to PutEventSelectors', () => {
    // Prepare
    const event = sampleWith('cloudtrail-PutEventSelectors-write-only', (raw) => {
      params(raw).trailName = `arn:aws:cloudtrail:ap-south-1:${ACCOUNT}:trail/${NAME}`;
    });

    // Act
    const target = trailIntegrity.target(event);

    // Assess
    expect(target).toMatchObject({ name: NAME, region: 'ap-south-1' });
  });

  it.each([
    ['DeleteTrail without name', 'cloudtrail-DeleteTrail-by-name', {}, 'name'],
    ['StopLogging with an empty name', 'cloudtrail-StopLogging', { name: '' }, 'name'],
    ['UpdateTrail with a name that is not a string', 'cloudtrail-UpdateTrail-s3-prefix-only', { name: 42 }, 'name'],
    [
      'PutEventSelectors with name but no trailName',
      'cloudtrail-PutEventSelectors-write-only',
      { name: NAME },
      'trailName',
    ],
    ['PutInsightSelectors without trailName', 'cloudtrail-PutInsightSelectors', {}, 'trailName'],
  ])('throws MalformedEventError: %s', (_label, file, requestParameters, field) => {
    // Prepare
    const event = sampleWith(file, (raw) => {
      raw.detail.requestParameters = requestParameters;
    });

    // Act
    const act = () => trailIntegrity.target(event);

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow(`detail.requestParameters.${field} must be a non-empty string`);
  });
});

describe('trailIntegrity.describe', () => {
  it('gives the trail ARN and its console link', () => {
    // Act
    const resource = trailIntegrity.describe({
      name: NAME,
      region: REGION,
      account: ACCOUNT,
      eventName: 'DeleteTrail',
      eventId: EVENT_ID,
      eventTime: EVENT_TIME,
    });

    // Assess
    expect(resource).toEqual({
      type: 'trail',
      id: NAME,
      arn: TRAIL_ARN,
      region: REGION,
      consoleUrl: `https://${REGION}.console.aws.amazon.com/cloudtrailv2/home?region=${REGION}#/trails/${TRAIL_ARN}`,
    });
  });
});
