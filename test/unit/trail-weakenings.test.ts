/** What counts as weakening a trail, attribute by attribute, and how management-event selectors are put back. */
import type { AdvancedEventSelector, AdvancedFieldSelector } from '@aws-sdk/client-cloudtrail';
import { describe, expect, it } from 'vitest';
import { restoredSelectors } from '../../lib/trail-restore.js';
import {
  coverageNarrowed,
  type ManagementCoverage,
  managementCoverage,
  trailWeakenings,
  type Weakening,
} from '../../lib/trail-weakenings.js';
import { createTrailInput, type TrailConfig, trailReference } from '../../lib/trails.js';
import { ACCOUNT } from './fixtures.js';
import {
  BUCKET,
  KEY,
  LOG_GROUP,
  LOG_ROLE,
  management,
  NAME,
  OTHER_BUCKET,
  OTHER_KEY,
  REGION,
  TRAIL_ARN,
  trail,
} from './trail-fixtures.js';

const FOREIGN_KEY = 'arn:aws:kms:eu-west-1:999999999999:key/33333333-3333-4333-8333-333333333333';
const FOREIGN_ROLE = 'arn:aws:iam::999999999999:role/quiet-logs';
const S3_DATA = { Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::payments-data/'] };
const LAMBDA_DATA = { Type: 'AWS::Lambda::Function', Values: ['arn:aws:lambda'] };

function advancedManagement(...extra: AdvancedFieldSelector[]): AdvancedEventSelector {
  return { Name: 'Management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }, ...extra] };
}

function advancedData(type: string): AdvancedEventSelector {
  return {
    Name: `${type} data events`,
    FieldSelectors: [
      { Field: 'eventCategory', Equals: ['Data'] },
      { Field: 'resources.type', Equals: [type] },
    ],
  };
}

/** The same trail, described by advanced event selectors instead of basic ones. */
function advancedTrail(...selectors: AdvancedEventSelector[]): TrailConfig {
  return trail({ eventSelectors: undefined, advancedEventSelectors: selectors });
}

const READ_ONLY: AdvancedFieldSelector = { Field: 'readOnly', Equals: ['true'] };
const WITHOUT_KMS_AND_RDS: AdvancedFieldSelector = {
  Field: 'eventSource',
  NotEquals: ['rdsdata.amazonaws.com', 'kms.amazonaws.com'],
};

interface WeakeningCase {
  label: string;
  baseline?: TrailConfig;
  current: TrailConfig;
  expected: Weakening[];
}

const WEAKENED: WeakeningCase[] = [
  {
    label: 'logging stopped',
    current: trail({ isLogging: false }),
    expected: [{ attribute: 'logging', before: 'on', after: 'off' }],
  },
  {
    label: 'isMultiRegionTrail turned off',
    current: trail({ isMultiRegionTrail: false }),
    expected: [{ attribute: 'isMultiRegionTrail', before: 'on', after: 'off' }],
  },
  {
    label: 'logFileValidationEnabled turned off',
    current: trail({ logFileValidationEnabled: false }),
    expected: [{ attribute: 'logFileValidationEnabled', before: 'on', after: 'off' }],
  },
  {
    label: 'includeGlobalServiceEvents turned off',
    current: trail({ includeGlobalServiceEvents: false }),
    expected: [{ attribute: 'includeGlobalServiceEvents', before: 'on', after: 'off' }],
  },
  {
    label: 'CloudWatch Logs group and role removed',
    current: trail({ cloudWatchLogsLogGroupArn: undefined, cloudWatchLogsRoleArn: undefined }),
    expected: [{ attribute: 'cloudWatchLogs', before: `${LOG_GROUP} via ${LOG_ROLE}`, after: 'removed' }],
  },
  {
    label: 'CloudWatch Logs role removed, group kept',
    current: trail({ cloudWatchLogsRoleArn: undefined }),
    expected: [{ attribute: 'cloudWatchLogs', before: `${LOG_GROUP} via ${LOG_ROLE}`, after: 'no role' }],
  },
  {
    label: 'KMS key removed (not suspicious: nothing is diverted)',
    current: trail({ kmsKeyId: undefined }),
    expected: [{ attribute: 'kmsKeyId', before: KEY, after: 'removed (no encryption)' }],
  },
  {
    label: 'KMS key changed to another key (suspicious)',
    current: trail({ kmsKeyId: OTHER_KEY }),
    expected: [{ attribute: 'kmsKeyId', before: KEY, after: OTHER_KEY, suspicious: true }],
  },
  {
    label: 'S3 bucket changed (suspicious)',
    current: trail({ s3BucketName: OTHER_BUCKET }),
    expected: [{ attribute: 's3BucketName', before: BUCKET, after: OTHER_BUCKET, suspicious: true }],
  },
  {
    label: 'management events excluded (IncludeManagementEvents false)',
    current: trail({ eventSelectors: [management({ IncludeManagementEvents: false, DataResources: [S3_DATA] })] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'None' }],
  },
  {
    label: 'no event selectors at all',
    current: trail({ eventSelectors: [] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'None' }],
  },
  {
    label: 'readWriteType narrowed All -> WriteOnly',
    current: trail({ eventSelectors: [management({ ReadWriteType: 'WriteOnly' })] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'WriteOnly' }],
  },
  {
    label: 'readWriteType narrowed All -> ReadOnly',
    current: trail({ eventSelectors: [management({ ReadWriteType: 'ReadOnly' })] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'ReadOnly' }],
  },
  {
    label: 'readWriteType changed WriteOnly -> ReadOnly',
    baseline: trail({ eventSelectors: [management({ ReadWriteType: 'WriteOnly' })] }),
    current: trail({ eventSelectors: [management({ ReadWriteType: 'ReadOnly' })] }),
    expected: [{ attribute: 'managementEvents', before: 'WriteOnly', after: 'ReadOnly' }],
  },
  {
    label: 'one of two selectors that together recorded All removed',
    baseline: trail({
      eventSelectors: [management({ ReadWriteType: 'ReadOnly' }), management({ ReadWriteType: 'WriteOnly' })],
    }),
    current: trail({ eventSelectors: [management({ ReadWriteType: 'ReadOnly' })] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'ReadOnly' }],
  },
  {
    label: 'excludeManagementEventSources added',
    current: trail({ eventSelectors: [management({ ExcludeManagementEventSources: ['kms.amazonaws.com'] })] }),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'All excluding kms.amazonaws.com' }],
  },
  {
    label: 'a second excluded source added to one already excluded',
    baseline: trail({ eventSelectors: [management({ ExcludeManagementEventSources: ['kms.amazonaws.com'] })] }),
    current: trail({
      eventSelectors: [management({ ExcludeManagementEventSources: ['rdsdata.amazonaws.com', 'kms.amazonaws.com'] })],
    }),
    expected: [
      {
        attribute: 'managementEvents',
        before: 'All excluding kms.amazonaws.com',
        after: 'All excluding kms.amazonaws.com, rdsdata.amazonaws.com',
      },
    ],
  },
  {
    label: 'advanced selectors: the management selector removed',
    baseline: advancedTrail(advancedManagement(), advancedData('AWS::S3::Object')),
    current: advancedTrail(advancedData('AWS::S3::Object')),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'None' }],
  },
  {
    label: 'advanced selectors: readOnly=true added',
    baseline: advancedTrail(advancedManagement()),
    current: advancedTrail(advancedManagement(READ_ONLY)),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'ReadOnly' }],
  },
  {
    label: 'advanced selectors: readOnly=false added',
    baseline: advancedTrail(advancedManagement()),
    current: advancedTrail(advancedManagement({ Field: 'readOnly', Equals: ['false'] })),
    expected: [{ attribute: 'managementEvents', before: 'All', after: 'WriteOnly' }],
  },
  {
    label: 'advanced selectors: eventSource NotEquals exclusions added',
    baseline: advancedTrail(advancedManagement()),
    current: advancedTrail(advancedManagement(WITHOUT_KMS_AND_RDS)),
    expected: [
      {
        attribute: 'managementEvents',
        before: 'All',
        after: 'All excluding kms.amazonaws.com, rdsdata.amazonaws.com',
      },
    ],
  },
  {
    label: 'SNS topic removed',
    baseline: trail({ snsTopicName: 'trail-deliveries' }),
    current: trail({ snsTopicName: undefined }),
    expected: [{ attribute: 'snsTopicName', before: 'trail-deliveries', after: 'removed' }],
  },
  {
    label: 'CloudWatch Logs delivery role changed, group kept (suspicious)',
    current: trail({ cloudWatchLogsRoleArn: FOREIGN_ROLE }),
    expected: [
      {
        attribute: 'cloudWatchLogs',
        before: `${LOG_GROUP} via ${LOG_ROLE}`,
        after: `${LOG_GROUP} via ${FOREIGN_ROLE}`,
        suspicious: true,
      },
    ],
  },
  {
    label: 'a KMS key of another account added where there was none (suspicious)',
    baseline: trail({ kmsKeyId: undefined }),
    current: trail({ kmsKeyId: FOREIGN_KEY }),
    expected: [
      {
        attribute: 'kmsKeyId',
        before: 'none',
        after: `${FOREIGN_KEY} (a key of account 999999999999)`,
        suspicious: true,
      },
    ],
  },
  {
    label: 'basic data resources removed',
    baseline: trail({ eventSelectors: [management({ DataResources: [S3_DATA, LAMBDA_DATA] })] }),
    current: trail({ eventSelectors: [management({ DataResources: [LAMBDA_DATA] })] }),
    expected: [
      {
        attribute: 'dataEvents',
        before: 'AWS::S3::Object arn:aws:s3:::payments-data/ (All)',
        after: 'no longer recorded',
      },
    ],
  },
  {
    label: 'basic data resources narrowed to writes',
    baseline: trail({ eventSelectors: [management({ DataResources: [S3_DATA] })] }),
    current: trail({
      eventSelectors: [management(), management({ ReadWriteType: 'WriteOnly', DataResources: [S3_DATA] })],
    }),
    expected: [
      {
        attribute: 'dataEvents',
        before: 'AWS::S3::Object arn:aws:s3:::payments-data/ (All)',
        after: 'no longer recorded',
      },
    ],
  },
  {
    label: 'advanced data selector removed',
    baseline: advancedTrail(
      advancedManagement(),
      advancedData('AWS::S3::Object'),
      advancedData('AWS::Lambda::Function'),
    ),
    current: advancedTrail(advancedManagement(), advancedData('AWS::Lambda::Function')),
    expected: [
      {
        attribute: 'dataEvents',
        before: JSON.stringify([
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        ]),
        after: 'no longer recorded',
      },
    ],
  },
  {
    label: 'insight selectors removed',
    baseline: trail({
      insightSelectors: [{ InsightType: 'ApiCallRateInsight' }, { InsightType: 'ApiErrorRateInsight' }],
    }),
    current: trail({ insightSelectors: [{ InsightType: 'ApiErrorRateInsight' }] }),
    expected: [{ attribute: 'insightSelectors', before: 'ApiCallRateInsight', after: 'removed' }],
  },
  {
    label: 'several attributes at once, in table order',
    current: trail({
      isLogging: false,
      isMultiRegionTrail: false,
      logFileValidationEnabled: false,
      s3BucketName: OTHER_BUCKET,
    }),
    expected: [
      { attribute: 'logging', before: 'on', after: 'off' },
      { attribute: 'isMultiRegionTrail', before: 'on', after: 'off' },
      { attribute: 'logFileValidationEnabled', before: 'on', after: 'off' },
      { attribute: 's3BucketName', before: BUCKET, after: OTHER_BUCKET, suspicious: true },
    ],
  },
];

const NOT_WEAKENED: { label: string; baseline: TrailConfig; current: TrailConfig }[] = [
  { label: 'nothing changed', baseline: trail(), current: trail() },
  { label: 'logging started', baseline: trail({ isLogging: false }), current: trail() },
  { label: 'isMultiRegionTrail turned on', baseline: trail({ isMultiRegionTrail: false }), current: trail() },
  {
    label: 'logFileValidationEnabled turned on',
    baseline: trail({ logFileValidationEnabled: false }),
    current: trail(),
  },
  {
    label: 'includeGlobalServiceEvents turned on',
    baseline: trail({ includeGlobalServiceEvents: false }),
    current: trail(),
  },
  {
    label: 'CloudWatch Logs added where there was none',
    baseline: trail({ cloudWatchLogsLogGroupArn: undefined, cloudWatchLogsRoleArn: undefined }),
    current: trail(),
  },
  { label: 'a KMS key added where there was none', baseline: trail({ kmsKeyId: undefined }), current: trail() },
  { label: 'S3 key prefix changed', baseline: trail(), current: trail({ s3KeyPrefix: 'audit/v2' }) },
  { label: 'S3 key prefix removed', baseline: trail(), current: trail({ s3KeyPrefix: undefined }) },
  { label: 'SNS topic added', baseline: trail(), current: trail({ snsTopicName: 'trail-deliveries' }) },
  {
    label: 'data resources added to the management selector',
    baseline: trail(),
    current: trail({ eventSelectors: [management({ DataResources: [S3_DATA, LAMBDA_DATA] })] }),
  },
  {
    label: 'data resources recorded for all calls where they were recorded for writes',
    baseline: trail({
      eventSelectors: [management(), management({ ReadWriteType: 'WriteOnly', DataResources: [S3_DATA] })],
    }),
    current: trail({ eventSelectors: [management({ DataResources: [S3_DATA] })] }),
  },
  {
    label: 'a KMS key of the trail’s own account added where there was none',
    baseline: trail({ kmsKeyId: undefined }),
    current: trail({ kmsKeyId: OTHER_KEY }),
  },
  {
    label: 'insight selectors added',
    baseline: trail(),
    current: trail({ insightSelectors: [{ InsightType: 'ApiErrorRateInsight' }] }),
  },
  {
    label: 'one insight type replaced by both',
    baseline: trail({ insightSelectors: [{ InsightType: 'ApiCallRateInsight' }] }),
    current: trail({
      insightSelectors: [{ InsightType: 'ApiErrorRateInsight' }, { InsightType: 'ApiCallRateInsight' }],
    }),
  },
  { label: 'tags changed', baseline: trail(), current: trail({ tags: [] }) },
  {
    label: 'management events turned on',
    baseline: trail({ eventSelectors: [management({ IncludeManagementEvents: false, DataResources: [S3_DATA] })] }),
    current: trail({ eventSelectors: [management({ DataResources: [S3_DATA] })] }),
  },
  {
    label: 'readWriteType widened WriteOnly -> All',
    baseline: trail({ eventSelectors: [management({ ReadWriteType: 'WriteOnly' })] }),
    current: trail(),
  },
  {
    label: 'readWriteType widened ReadOnly -> All',
    baseline: trail({ eventSelectors: [management({ ReadWriteType: 'ReadOnly' })] }),
    current: trail(),
  },
  {
    label: 'an excluded source no longer excluded',
    baseline: trail({ eventSelectors: [management({ ExcludeManagementEventSources: ['kms.amazonaws.com'] })] }),
    current: trail(),
  },
  {
    label: 'management split into a ReadOnly and a WriteOnly selector',
    baseline: trail(),
    current: trail({
      eventSelectors: [management({ ReadWriteType: 'ReadOnly' }), management({ ReadWriteType: 'WriteOnly' })],
    }),
  },
  {
    label: 'advanced selectors: readOnly=true removed',
    baseline: advancedTrail(advancedManagement(READ_ONLY)),
    current: advancedTrail(advancedManagement()),
  },
  {
    label: 'advanced selectors: eventSource exclusions removed',
    baseline: advancedTrail(advancedManagement(WITHOUT_KMS_AND_RDS)),
    current: advancedTrail(advancedManagement()),
  },
  {
    label: 'advanced selectors: a data selector added',
    baseline: advancedTrail(advancedManagement()),
    current: advancedTrail(advancedManagement(), advancedData('AWS::S3::Object')),
  },
  {
    label: 'advanced selectors: a management selector added where there was none',
    baseline: advancedTrail(advancedData('AWS::S3::Object')),
    current: advancedTrail(advancedManagement(), advancedData('AWS::S3::Object')),
  },
  {
    label: 'basic selectors replaced by equivalent advanced ones',
    baseline: trail(),
    current: advancedTrail(advancedManagement()),
  },
];

describe('trailWeakenings', () => {
  it.each(WEAKENED)('reports $label', ({ baseline, current, expected }) => {
    // Act
    const weakenings = trailWeakenings(baseline ?? trail(), current);

    // Assess
    expect(weakenings).toStrictEqual(expected);
  });

  it.each(NOT_WEAKENED)('reports nothing when $label', ({ baseline, current }) => {
    // Act
    const weakenings = trailWeakenings(baseline, current);

    // Assess
    expect(weakenings).toEqual([]);
  });
});

describe('managementCoverage', () => {
  it.each<{
    label: string;
    config: Pick<TrailConfig, 'eventSelectors' | 'advancedEventSelectors'>;
    expected: ManagementCoverage;
  }>([
    { label: 'no selectors', config: {}, expected: { readWrite: 'None', excludedSources: [] } },
    {
      label: 'a basic selector without ReadWriteType (AWS default: All)',
      config: { eventSelectors: [{ DataResources: [] }] },
      expected: { readWrite: 'All', excludedSources: [] },
    },
    {
      label: 'basic selectors: a union of ReadOnly and WriteOnly, exclusions sorted and deduplicated',
      config: {
        eventSelectors: [
          management({ ReadWriteType: 'ReadOnly', ExcludeManagementEventSources: ['rdsdata.amazonaws.com'] }),
          management({
            ReadWriteType: 'WriteOnly',
            ExcludeManagementEventSources: ['rdsdata.amazonaws.com', 'kms.amazonaws.com'],
          }),
        ],
      },
      expected: { readWrite: 'All', excludedSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] },
    },
    {
      label: 'a basic data-only selector',
      config: { eventSelectors: [management({ IncludeManagementEvents: false, ReadWriteType: 'ReadOnly' })] },
      expected: { readWrite: 'None', excludedSources: [] },
    },
    {
      label: 'advanced selectors take precedence over basic ones',
      config: {
        eventSelectors: [management()],
        advancedEventSelectors: [advancedManagement(READ_ONLY, WITHOUT_KMS_AND_RDS), advancedData('AWS::S3::Object')],
      },
      expected: { readWrite: 'ReadOnly', excludedSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] },
    },
    {
      label: 'advanced data selectors only',
      config: { advancedEventSelectors: [advancedData('AWS::S3::Object')] },
      expected: { readWrite: 'None', excludedSources: [] },
    },
  ])('reads $label', ({ config, expected }) => {
    // Act
    const coverage = managementCoverage(config);

    // Assess
    expect(coverage).toEqual(expected);
  });
});

describe('coverageNarrowed', () => {
  const all: ManagementCoverage = { readWrite: 'All', excludedSources: [] };

  it.each<[string, ManagementCoverage, ManagementCoverage, boolean]>([
    ['All -> None', all, { readWrite: 'None', excludedSources: [] }, true],
    ['All -> ReadOnly', all, { readWrite: 'ReadOnly', excludedSources: [] }, true],
    [
      'ReadOnly -> WriteOnly',
      { readWrite: 'ReadOnly', excludedSources: [] },
      { readWrite: 'WriteOnly', excludedSources: [] },
      true,
    ],
    ['a source newly excluded', all, { readWrite: 'All', excludedSources: ['kms.amazonaws.com'] }, true],
    ['unchanged', all, all, false],
    ['ReadOnly -> All', { readWrite: 'ReadOnly', excludedSources: [] }, all, false],
    [
      'None -> WriteOnly',
      { readWrite: 'None', excludedSources: [] },
      { readWrite: 'WriteOnly', excludedSources: [] },
      false,
    ],
    ['an exclusion lifted', { readWrite: 'All', excludedSources: ['kms.amazonaws.com'] }, all, false],
  ])('%s', (_label, before, now, expected) => {
    // Act
    const narrowed = coverageNarrowed(before, now);

    // Assess
    expect(narrowed).toBe(expected);
  });
});

describe('restoredSelectors', () => {
  it('puts the management fields back on the author’s selector and keeps its data resources', () => {
    // Prepare
    const current = trail({
      eventSelectors: [
        management({
          ReadWriteType: 'WriteOnly',
          DataResources: [S3_DATA],
          ExcludeManagementEventSources: ['kms.amazonaws.com'],
        }),
      ],
    });

    // Act
    const input = restoredSelectors(trail(), current);

    // Assess
    expect(input).toStrictEqual({
      TrailName: TRAIL_ARN,
      EventSelectors: [
        {
          ReadWriteType: 'All',
          IncludeManagementEvents: true,
          DataResources: [S3_DATA],
          ExcludeManagementEventSources: [],
        },
      ],
    });
  });

  it('keeps only the exclusions the baseline had, and the baseline’s readWriteType', () => {
    // Prepare
    const baseline = trail({
      eventSelectors: [
        management({ ReadWriteType: 'WriteOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] }),
      ],
    });
    const current = trail({
      eventSelectors: [
        management({
          ReadWriteType: 'ReadOnly',
          ExcludeManagementEventSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'],
        }),
      ],
    });

    // Act
    const input = restoredSelectors(baseline, current);

    // Assess
    expect(input.EventSelectors).toStrictEqual([
      management({ ReadWriteType: 'WriteOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] }),
    ]);
  });

  it('turns management events back on in the first selector when no selector has them', () => {
    // Prepare
    const current = trail({
      eventSelectors: [
        { IncludeManagementEvents: false, ReadWriteType: 'All', DataResources: [S3_DATA] },
        { IncludeManagementEvents: false, ReadWriteType: 'WriteOnly', DataResources: [LAMBDA_DATA] },
      ],
    });

    // Act
    const input = restoredSelectors(trail(), current);

    // Assess
    expect(input).toStrictEqual({
      TrailName: TRAIL_ARN,
      EventSelectors: [
        {
          IncludeManagementEvents: true,
          ReadWriteType: 'All',
          DataResources: [S3_DATA],
          ExcludeManagementEventSources: [],
        },
        { IncludeManagementEvents: false, ReadWriteType: 'WriteOnly', DataResources: [LAMBDA_DATA] },
      ],
    });
  });

  it('adds a management selector when the trail has no selectors at all', () => {
    // Act
    const input = restoredSelectors(trail(), trail({ eventSelectors: [] }));

    // Assess
    expect(input).toStrictEqual({
      TrailName: TRAIL_ARN,
      EventSelectors: [
        { DataResources: [], IncludeManagementEvents: true, ReadWriteType: 'All', ExcludeManagementEventSources: [] },
      ],
    });
  });

  it('leaves the current configuration untouched', () => {
    // Prepare
    const current = trail({
      eventSelectors: [management({ ReadWriteType: 'ReadOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] })],
    });
    const before = structuredClone(current);

    // Act
    restoredSelectors(trail(), current);

    // Assess
    expect(current).toEqual(before);
  });

  it('takes the management selectors from the baseline and keeps the author’s advanced data selectors', () => {
    // Prepare
    const baselineManagement = advancedManagement();
    const baseline = advancedTrail(baselineManagement, advancedData('AWS::S3::Object'));
    const current = advancedTrail(
      advancedManagement(READ_ONLY, WITHOUT_KMS_AND_RDS),
      advancedData('AWS::Lambda::Function'),
    );

    // Act
    const input = restoredSelectors(baseline, current);

    // Assess
    expect(input).toStrictEqual({
      TrailName: TRAIL_ARN,
      AdvancedEventSelectors: [baselineManagement, advancedData('AWS::Lambda::Function')],
    });
  });

  it('puts the baseline’s advanced management selector back when the author removed it', () => {
    // Prepare
    const baseline = advancedTrail(advancedManagement());
    const current = advancedTrail(advancedData('AWS::S3::Object'));

    // Act
    const input = restoredSelectors(baseline, current);

    // Assess
    expect(input.AdvancedEventSelectors).toStrictEqual([advancedManagement(), advancedData('AWS::S3::Object')]);
    expect(input.EventSelectors).toBeUndefined();
  });
});

describe('trailReference', () => {
  it.each([
    ['a name', NAME, { name: NAME, region: REGION }],
    [
      'an ARN of another region',
      `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${NAME}`,
      { name: NAME, region: 'us-east-1' },
    ],
    [
      'an ARN of another partition',
      `arn:aws-us-gov:cloudtrail:us-gov-west-1:${ACCOUNT}:trail/${NAME}`,
      { name: NAME, region: 'us-gov-west-1' },
    ],
    [
      'an ARN of another service (taken as a name)',
      'arn:aws:s3:::bucket',
      { name: 'arn:aws:s3:::bucket', region: REGION },
    ],
  ])('resolves %s', (_label, nameOrArn, expected) => {
    // Act
    const reference = trailReference(nameOrArn, REGION);

    // Assess
    expect(reference).toEqual(expected);
  });
});

describe('createTrailInput', () => {
  it('re-creates every attribute of the trail, tags included', () => {
    // Act
    const input = createTrailInput(trail({ snsTopicName: 'trail-deliveries' }));

    // Assess
    expect(input).toStrictEqual({
      Name: NAME,
      S3BucketName: BUCKET,
      S3KeyPrefix: 'audit',
      SnsTopicName: 'trail-deliveries',
      IncludeGlobalServiceEvents: true,
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
      CloudWatchLogsLogGroupArn: LOG_GROUP,
      CloudWatchLogsRoleArn: LOG_ROLE,
      KmsKeyId: KEY,
      IsOrganizationTrail: false,
      TagsList: [{ Key: 'team', Value: 'security' }],
    });
  });

  it('leaves out what the trail does not have', () => {
    // Prepare
    const config = trail({
      s3KeyPrefix: undefined,
      cloudWatchLogsLogGroupArn: undefined,
      cloudWatchLogsRoleArn: undefined,
      kmsKeyId: undefined,
      isMultiRegionTrail: false,
      tags: [],
    });

    // Act
    const input = createTrailInput(config);

    // Assess
    expect(input).toStrictEqual({
      Name: NAME,
      S3BucketName: BUCKET,
      IncludeGlobalServiceEvents: true,
      IsMultiRegionTrail: false,
      EnableLogFileValidation: true,
      IsOrganizationTrail: false,
    });
  });
});

describe('fixes found by review', () => {
  it('does not count turning management events on, with an exclusion, as a weakening', () => {
    const baseline = trail({ eventSelectors: [{ IncludeManagementEvents: false, DataResources: [] }] });
    const current = trail({
      eventSelectors: [
        { IncludeManagementEvents: true, ReadWriteType: 'All', ExcludeManagementEventSources: ['kms.amazonaws.com'] },
      ],
    });
    expect(trailWeakenings(baseline, current)).toEqual([]);
  });

  it('flags a CloudWatch Logs group redirected elsewhere as suspicious', () => {
    const group = 'arn:aws:logs:eu-west-1:123456789012:log-group:audit:*';
    const baseline = trail({
      cloudWatchLogsLogGroupArn: group,
      cloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/r',
    });
    const current = { ...baseline, cloudWatchLogsLogGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:quiet:*' };
    expect(trailWeakenings(baseline, current)).toEqual([
      {
        attribute: 'cloudWatchLogs',
        before: `${group} via arn:aws:iam::123456789012:role/r`,
        after: `${current.cloudWatchLogsLogGroupArn} via arn:aws:iam::123456789012:role/r`,
        suspicious: true,
      },
    ]);
  });

  it('keeps the author’s advanced data selectors when the baseline used basic selectors', () => {
    const data = { Name: 'S3 data', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] };
    const restored = restoredSelectors(trail({}), trail({ eventSelectors: undefined, advancedEventSelectors: [data] }));
    expect(restored.AdvancedEventSelectors).toEqual([
      {
        Name: 'Management events (restored by driftguard)',
        FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }],
      },
      data,
    ]);
  });
});
