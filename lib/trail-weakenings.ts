/**
 * A trail's configuration compared with its baseline: which attributes it lost (weakenings; strengthenings are not),
 * how much of the management events it records, and what a read-back after a restore still lacks.
 */
import type { InsightType } from '@aws-sdk/client-cloudtrail';
import type { Finding } from './rule.js';
import type { TrailConfig } from './trails.js';

/** Whether the trail records management events, which calls, and which sources it leaves out. */
export interface ManagementCoverage {
  readWrite: 'All' | 'ReadOnly' | 'WriteOnly' | 'None';
  excludedSources: string[];
}

function union(
  a: ManagementCoverage['readWrite'],
  b: ManagementCoverage['readWrite'],
): ManagementCoverage['readWrite'] {
  if (a === b) return a;
  if (a === 'None') return b;
  if (b === 'None') return a;
  return 'All';
}

export function managementCoverage(
  config: Pick<TrailConfig, 'eventSelectors' | 'advancedEventSelectors'>,
): ManagementCoverage {
  let readWrite: ManagementCoverage['readWrite'] = 'None';
  const excluded = new Set<string>();
  if (config.advancedEventSelectors?.length) {
    for (const selector of config.advancedEventSelectors) {
      const fields = selector.FieldSelectors ?? [];
      const category = fields.find((f) => f.Field === 'eventCategory');
      if (!category?.Equals?.includes('Management')) continue;
      const readOnly = fields.find((f) => f.Field === 'readOnly')?.Equals?.[0];
      readWrite = union(readWrite, readOnly === 'true' ? 'ReadOnly' : readOnly === 'false' ? 'WriteOnly' : 'All');
      for (const source of fields.find((f) => f.Field === 'eventSource')?.NotEquals ?? []) excluded.add(source);
    }
  } else {
    for (const selector of config.eventSelectors ?? []) {
      if (selector.IncludeManagementEvents === false) continue;
      readWrite = union(readWrite, selector.ReadWriteType ?? 'All');
      for (const source of selector.ExcludeManagementEventSources ?? []) excluded.add(source);
    }
  }
  return { readWrite, excludedSources: [...excluded].sort() };
}

/** Whether coverage `now` records less than `before`: a narrower readWriteType, or sources newly left out. */
export function coverageNarrowed(before: ManagementCoverage, now: ManagementCoverage): boolean {
  if (before.readWrite === 'None') return false;
  const covers = now.readWrite === 'All' || now.readWrite === before.readWrite;
  return !covers || now.excludedSources.some((source) => !before.excludedSources.includes(source));
}

export interface Weakening extends Finding {
  /** A change to another bucket or key: restored and flagged as suspicious. */
  suspicious?: boolean;
}

export const onOff = (value: boolean) => (value ? 'on' : 'off');

/** Attribute by attribute: what `current` lost compared with `baseline`. Strengthenings are not weakenings. */
export function trailWeakenings(baseline: TrailConfig, current: TrailConfig): Weakening[] {
  const found: Weakening[] = [];
  const lost = (attribute: string, was: boolean, now: boolean) => {
    if (was && !now) found.push({ attribute, before: onOff(was), after: onOff(now) });
  };
  lost('logging', baseline.isLogging, current.isLogging);
  lost('isMultiRegionTrail', baseline.isMultiRegionTrail, current.isMultiRegionTrail);
  lost('logFileValidationEnabled', baseline.logFileValidationEnabled, current.logFileValidationEnabled);
  lost('includeGlobalServiceEvents', baseline.includeGlobalServiceEvents, current.includeGlobalServiceEvents);
  if (baseline.cloudWatchLogsLogGroupArn && (!current.cloudWatchLogsLogGroupArn || !current.cloudWatchLogsRoleArn)) {
    found.push({
      attribute: 'cloudWatchLogs',
      before: `${baseline.cloudWatchLogsLogGroupArn} via ${baseline.cloudWatchLogsRoleArn}`,
      after: current.cloudWatchLogsLogGroupArn ? 'no role' : 'removed',
    });
  } else if (
    baseline.cloudWatchLogsLogGroupArn &&
    (baseline.cloudWatchLogsLogGroupArn !== current.cloudWatchLogsLogGroupArn ||
      baseline.cloudWatchLogsRoleArn !== current.cloudWatchLogsRoleArn)
  ) {
    // Like a bucket or key change: a redirected log stream (or a role that cannot deliver) is how alarms go quiet.
    found.push({
      attribute: 'cloudWatchLogs',
      before: `${baseline.cloudWatchLogsLogGroupArn} via ${baseline.cloudWatchLogsRoleArn}`,
      after: `${current.cloudWatchLogsLogGroupArn} via ${current.cloudWatchLogsRoleArn}`,
      suspicious: true,
    });
  }
  if (baseline.kmsKeyId && baseline.kmsKeyId !== current.kmsKeyId) {
    found.push({
      attribute: 'kmsKeyId',
      before: baseline.kmsKeyId,
      after: current.kmsKeyId ?? 'removed (no encryption)',
      ...(current.kmsKeyId ? { suspicious: true } : {}),
    });
  } else if (!baseline.kmsKeyId && current.kmsKeyId && !sameAccount(current.kmsKeyId, current.trailArn)) {
    // Another account's key: that account can disable it and stop the trail's deliveries, or read them.
    found.push({
      attribute: 'kmsKeyId',
      before: 'none',
      after: `${current.kmsKeyId} (a key of account ${arnAccount(current.kmsKeyId)})`,
      suspicious: true,
    });
  }
  if (baseline.snsTopicName && !current.snsTopicName) {
    found.push({ attribute: 'snsTopicName', before: baseline.snsTopicName, after: 'removed' });
  }
  if (baseline.s3BucketName !== current.s3BucketName) {
    found.push({
      attribute: 's3BucketName',
      before: baseline.s3BucketName,
      after: current.s3BucketName,
      suspicious: true,
    });
  }
  const was = managementCoverage(baseline);
  const now = managementCoverage(current);
  if (coverageNarrowed(was, now)) {
    const text = (c: typeof was) =>
      `${c.readWrite}${c.excludedSources.length ? ` excluding ${c.excludedSources.join(', ')}` : ''}`;
    found.push({ attribute: 'managementEvents', before: text(was), after: text(now) });
  }
  const recorded = dataCoverage(current);
  // A resource recorded for All calls covers the same resource recorded for reads or writes only.
  const lostData = dataCoverage(baseline).filter(
    (entry) => !recorded.includes(entry) && !recorded.includes(entry.replace(/\((ReadOnly|WriteOnly)\)$/, '(All)')),
  );
  if (lostData.length > 0) {
    found.push({ attribute: 'dataEvents', before: lostData.join('; '), after: 'no longer recorded' });
  }
  const lostInsights = insightTypes(baseline).filter((type) => !insightTypes(current).includes(type));
  if (lostInsights.length > 0) {
    found.push({ attribute: 'insightSelectors', before: lostInsights.join(', '), after: 'removed' });
  }
  return found;
}

const ARN_ACCOUNT = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/;

/** The account an ARN names; undefined for a bare id. */
export const arnAccount = (arn: string): string | undefined => ARN_ACCOUNT.exec(arn)?.[1];

const sameAccount = (arn: string, other: string) =>
  arnAccount(arn) === undefined || arnAccount(arn) === arnAccount(other);

export const insightTypes = (config: Pick<TrailConfig, 'insightSelectors'>): InsightType[] =>
  config.insightSelectors.flatMap((selector) => (selector.InsightType ? [selector.InsightType] : []));

/**
 * The data events a trail records, one entry per resource (basic selectors) or per data selector (advanced ones), in a
 * form two configurations can be compared by.
 */
export function dataCoverage(config: Pick<TrailConfig, 'eventSelectors' | 'advancedEventSelectors'>): string[] {
  if (config.advancedEventSelectors?.length) {
    return config.advancedEventSelectors
      .filter((selector) =>
        (selector.FieldSelectors ?? []).some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Data')),
      )
      .map((selector) =>
        JSON.stringify(
          [...(selector.FieldSelectors ?? [])]
            .sort((a, b) => String(a.Field).localeCompare(String(b.Field)))
            .map(({ Field, Equals, NotEquals, StartsWith, NotStartsWith, EndsWith, NotEndsWith }) => ({
              Field,
              Equals,
              NotEquals,
              StartsWith,
              NotStartsWith,
              EndsWith,
              NotEndsWith,
            })),
        ),
      );
  }
  return (config.eventSelectors ?? []).flatMap((selector) =>
    (selector.DataResources ?? []).flatMap((resource) =>
      (resource.Values ?? []).map((value) => `${resource.Type} ${value} (${selector.ReadWriteType ?? 'All'})`),
    ),
  );
}

/** What a read-back compares with the baseline: the configuration, not its history (when logging stopped). */
const RESTORED_ATTRIBUTES: (keyof TrailConfig)[] = [
  's3BucketName',
  's3KeyPrefix',
  'snsTopicName',
  'includeGlobalServiceEvents',
  'isMultiRegionTrail',
  'logFileValidationEnabled',
  'cloudWatchLogsLogGroupArn',
  'cloudWatchLogsRoleArn',
  'kmsKeyId',
  'isOrganizationTrail',
  'eventSelectors',
  'advancedEventSelectors',
  'insightSelectors',
  'tags',
  'isLogging',
];

/** The attributes the read-back differs on, as a human's to-do list (empty when the trail equals its baseline). */
export function unrestoredAttributes(baseline: TrailConfig, now: TrailConfig | undefined): string[] {
  if (!now)
    return [`Trail ${baseline.name} is still missing after the restore: re-create it from the baseline by hand.`];
  const canonical = (value: unknown) => JSON.stringify(value ?? null);
  return RESTORED_ATTRIBUTES.filter((key) => canonical(baseline[key]) !== canonical(now[key])).map(
    (key) => `${key} could not be restored: baseline ${canonical(baseline[key])}, now ${canonical(now[key])}.`,
  );
}

/**
 * What a trail seen for the first time (no baseline to compare with) lacks of the rule's controls: multi-region
 * (CloudTrail.1), encrypted with a key of its own account (CloudTrail.2), validated (CloudTrail.4), delivered to
 * CloudWatch Logs (CloudTrail.5), recording all management events.
 */
export function firstSeenGaps(current: TrailConfig): Weakening[] {
  const gaps: Weakening[] = [];
  const lacks = (attribute: string, missing: boolean, before: string, after: string) => {
    if (missing) gaps.push({ attribute, before, after });
  };
  lacks('isMultiRegionTrail', !current.isMultiRegionTrail, 'off', 'on (CloudTrail.1)');
  lacks('kmsKeyId', !current.kmsKeyId, 'none', 'a KMS key of the account (CloudTrail.2)');
  if (current.kmsKeyId && !sameAccount(current.kmsKeyId, current.trailArn)) {
    gaps.push({
      attribute: 'kmsKeyId',
      before: `${current.kmsKeyId} (a key of account ${arnAccount(current.kmsKeyId)})`,
      after: 'a KMS key of the account (CloudTrail.2)',
      suspicious: true,
    });
  }
  lacks('logFileValidationEnabled', !current.logFileValidationEnabled, 'off', 'on (CloudTrail.4)');
  lacks('cloudWatchLogs', !current.cloudWatchLogsLogGroupArn, 'none', 'a log group (CloudTrail.5)');
  const coverage = managementCoverage(current);
  lacks(
    'managementEvents',
    coverage.readWrite !== 'All' || coverage.excludedSources.length > 0,
    `${coverage.readWrite}${coverage.excludedSources.length ? ` excluding ${coverage.excludedSources.join(', ')}` : ''}`,
    'All',
  );
  return gaps;
}
