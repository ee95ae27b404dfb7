/**
 * A trail's configuration compared with its baseline: which attributes it lost (weakenings; strengthenings are not),
 * how much of the management events it records, and what a read-back after a restore still lacks.
 */
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
    baseline.cloudWatchLogsLogGroupArn !== current.cloudWatchLogsLogGroupArn
  ) {
    // Like a bucket or key change: a redirected log stream is how alarms on trail events go quiet.
    found.push({
      attribute: 'cloudWatchLogs',
      before: baseline.cloudWatchLogsLogGroupArn,
      after: current.cloudWatchLogsLogGroupArn ?? 'removed',
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
  return found;
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
