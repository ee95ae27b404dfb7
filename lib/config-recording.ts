/**
 * AWS Config's customer-managed recorder and delivery channel of a region: how they are read, and the pure comparisons
 * the config-recorder-on rule decides with (what a change narrowed, and the recorder and channel that undo only that).
 */
import {
  ConfigServiceClient,
  type ConfigurationRecorder,
  type DeliveryChannel,
  DescribeConfigurationRecorderStatusCommand,
  DescribeConfigurationRecordersCommand,
  DescribeDeliveryChannelStatusCommand,
  DescribeDeliveryChannelsCommand,
  type PutConfigurationRecorderCommandInput,
  type PutDeliveryChannelCommandInput,
  type RecordingGroup,
  type ResourceType,
} from '@aws-sdk/client-config-service';
import type { AwsClients } from './aws.js';
import type { Finding } from './rule.js';

/** AWS's reserved prefix of service-linked recorders (set by their owning service, not by the account). */
export const SERVICE_LINKED_PREFIX = 'AWSConfigurationRecorderFor';

export const isServiceLinkedRecorder = (name: string) => name.startsWith(SERVICE_LINKED_PREFIX);

export type Frequency = 'CONTINUOUS' | 'DAILY';

export interface ModeOverride {
  description?: string;
  resourceTypes: string[];
  recordingFrequency: Frequency;
}

/** A customer-managed recorder: what it records, how often, and the role Config records with. */
export interface RecorderConfig {
  name: string;
  roleArn: string;
  allSupported: boolean;
  includeGlobalResourceTypes: boolean;
  /** Recorded types when the recorder lists them (INCLUSION_BY_RESOURCE_TYPES). */
  resourceTypes: string[];
  /** Types left out when the recorder excludes some (EXCLUSION_BY_RESOURCE_TYPES). */
  excludedResourceTypes: string[];
  recordingFrequency: Frequency;
  overrides: ModeOverride[];
}

/** Config's snapshot delivery frequencies, shortest first. */
export const DELIVERY_FREQUENCIES = [
  'One_Hour',
  'Three_Hours',
  'Six_Hours',
  'Twelve_Hours',
  'TwentyFour_Hours',
] as const;
export type DeliveryFrequency = (typeof DELIVERY_FREQUENCIES)[number];

export interface ChannelConfig {
  name: string;
  s3BucketName: string;
  s3KeyPrefix?: string;
  s3KmsKeyArn?: string;
  snsTopicArn?: string;
  deliveryFrequency?: DeliveryFrequency;
}

/** A region's recording as Config reports it: the customer-managed recorder, its channel, whether it records. */
export interface RegionRecording {
  recorder?: RecorderConfig;
  channel?: ChannelConfig;
  recording: boolean;
  /** The channel's last history delivery failed (DescribeDeliveryChannelStatus): its error, for a human. */
  deliveryError?: string;
  /** The recorder's last recording failed (DescribeConfigurationRecorderStatus lastStatus Failure): its error. */
  recorderError?: string;
}

function recorderConfig(recorder: ConfigurationRecorder): RecorderConfig | undefined {
  if (!recorder.name || isServiceLinkedRecorder(recorder.name)) return undefined;
  const group = recorder.recordingGroup;
  const strategy = group?.recordingStrategy?.useOnly;
  const excluded = group?.exclusionByResourceTypes?.resourceTypes ?? [];
  return {
    name: recorder.name,
    roleArn: recorder.roleARN ?? '',
    // No recording group: Config records every supported type (but not the global IAM types).
    allSupported: group === undefined ? true : group.allSupported === true,
    includeGlobalResourceTypes: group?.includeGlobalResourceTypes === true,
    resourceTypes: [...(group?.resourceTypes ?? [])].sort(),
    excludedResourceTypes:
      strategy === 'EXCLUSION_BY_RESOURCE_TYPES' || excluded.length > 0 ? [...excluded].sort() : [],
    recordingFrequency: recorder.recordingMode?.recordingFrequency === 'DAILY' ? 'DAILY' : 'CONTINUOUS',
    overrides: (recorder.recordingMode?.recordingModeOverrides ?? []).map((o) => ({
      ...(o.description ? { description: o.description } : {}),
      resourceTypes: [...(o.resourceTypes ?? [])].sort(),
      recordingFrequency: o.recordingFrequency === 'DAILY' ? 'DAILY' : 'CONTINUOUS',
    })),
  };
}

function channelConfig(channel: DeliveryChannel): ChannelConfig | undefined {
  if (!channel.name || !channel.s3BucketName) return undefined;
  const frequency = channel.configSnapshotDeliveryProperties?.deliveryFrequency;
  return {
    name: channel.name,
    s3BucketName: channel.s3BucketName,
    ...(channel.s3KeyPrefix ? { s3KeyPrefix: channel.s3KeyPrefix } : {}),
    ...(channel.s3KmsKeyArn ? { s3KmsKeyArn: channel.s3KmsKeyArn } : {}),
    ...(channel.snsTopicARN ? { snsTopicArn: channel.snsTopicARN } : {}),
    ...(frequency ? { deliveryFrequency: frequency } : {}),
  };
}

/** Reads the region's customer-managed recorder (service-linked ones are their owning service's), channel and status. */
export async function readRegionRecording(aws: AwsClients, region: string): Promise<RegionRecording> {
  const config = aws.client(ConfigServiceClient, region);
  const { ConfigurationRecorders = [] } = await config.send(new DescribeConfigurationRecordersCommand({}));
  const recorder = ConfigurationRecorders.map(recorderConfig).find((r) => r !== undefined);
  const { DeliveryChannels = [] } = await config.send(new DescribeDeliveryChannelsCommand({}));
  const channel = DeliveryChannels.map(channelConfig).find((c) => c !== undefined);
  let recording = false;
  let recorderError: string | undefined;
  if (recorder) {
    const { ConfigurationRecordersStatus = [] } = await config.send(
      new DescribeConfigurationRecorderStatusCommand({ ConfigurationRecorderNames: [recorder.name] }),
    );
    recording = ConfigurationRecordersStatus.some((status) => status.recording === true);
    // Config may be "recording" and record nothing: a broken role shows only as lastStatus Failure.
    const failed = ConfigurationRecordersStatus.find((status) => status.lastStatus === 'Failure');
    if (failed) recorderError = failed.lastErrorCode ?? 'recording failed';
  }
  let deliveryError: string | undefined;
  if (channel) {
    const { DeliveryChannelsStatus = [] } = await config.send(
      new DescribeDeliveryChannelStatusCommand({ DeliveryChannelNames: [channel.name] }),
    );
    const history = DeliveryChannelsStatus[0]?.configHistoryDeliveryInfo;
    if (history?.lastStatus === 'Failure') deliveryError = history.lastErrorCode ?? 'delivery failed';
  }
  return {
    recorder,
    channel,
    recording,
    ...(deliveryError ? { deliveryError } : {}),
    ...(recorderError ? { recorderError } : {}),
  };
}

/** What a recorder covers: every supported type, all but some, or only some. */
type Coverage = { kind: 'all' } | { kind: 'include'; types: string[] } | { kind: 'exclude'; types: string[] };

function coverageOf(recorder: RecorderConfig): Coverage {
  if (recorder.allSupported) return { kind: 'all' };
  if (recorder.excludedResourceTypes.length > 0) return { kind: 'exclude', types: recorder.excludedResourceTypes };
  return { kind: 'include', types: recorder.resourceTypes };
}

const sorted = (types: Iterable<string>) => [...new Set(types)].sort();

/** The coverage that records everything either records. */
function unionCoverage(a: Coverage, b: Coverage): Coverage {
  if (a.kind === 'all' || b.kind === 'all') return { kind: 'all' };
  if (a.kind === 'include' && b.kind === 'include') return { kind: 'include', types: sorted([...a.types, ...b.types]) };
  const left = a.kind === 'exclude' && b.kind === 'exclude' ? a.types.filter((t) => b.types.includes(t)) : undefined;
  const excluded =
    left ??
    (a.kind === 'exclude' ? a.types.filter((t) => !b.types.includes(t)) : b.types.filter((t) => !a.types.includes(t)));
  return excluded.length === 0 ? { kind: 'all' } : { kind: 'exclude', types: sorted(excluded) };
}

const sameCoverage = (a: Coverage, b: Coverage) =>
  a.kind === b.kind &&
  (a.kind === 'all' || JSON.stringify(a.types) === JSON.stringify((b as { types: string[] }).types));

function coverageText(coverage: Coverage): string {
  const list = (types: string[]) =>
    types.length > 3 ? `${types.slice(0, 3).join(', ')} and ${types.length - 3} more` : types.join(', ');
  switch (coverage.kind) {
    case 'all':
      return 'all supported resource types';
    case 'exclude':
      return `all supported resource types but ${list(coverage.types)}`;
    case 'include':
      return coverage.types.length === 0 ? 'no resource type' : `only ${list(coverage.types)}`;
  }
}

/** The frequency a type is recorded at: its override's, else the recorder's. */
function frequencyOf(recorder: RecorderConfig, type: string): Frequency {
  return (
    recorder.overrides.find((o) => o.resourceTypes.includes(type))?.recordingFrequency ?? recorder.recordingFrequency
  );
}

/** Whether `current` records some type less often than `baseline` did (the default, or a type either names). */
function modeNarrowed(baseline: RecorderConfig, current: RecorderConfig): boolean {
  if (baseline.recordingFrequency === 'CONTINUOUS' && current.recordingFrequency === 'DAILY') return true;
  const named = [...baseline.overrides, ...current.overrides].flatMap((o) => o.resourceTypes);
  return named.some((type) => frequencyOf(baseline, type) === 'CONTINUOUS' && frequencyOf(current, type) === 'DAILY');
}

const modeText = (recorder: RecorderConfig) =>
  `${recorder.recordingFrequency}${recorder.overrides.length ? ` with ${recorder.overrides.length} override(s)` : ''}`;

/** One attribute of the recorder or channel that a change weakened (suspicious: where Config writes was changed). */
export interface Narrowing extends Finding {
  suspicious?: boolean;
}

/** What `current` records less of than `baseline`: coverage, global types, frequency, role. */
export function recorderNarrowings(baseline: RecorderConfig, current: RecorderConfig): Narrowing[] {
  const found: Narrowing[] = [];
  const was = coverageOf(baseline);
  const now = coverageOf(current);
  if (!sameCoverage(unionCoverage(was, now), now)) {
    found.push({ attribute: 'recordingGroup', before: coverageText(was), after: coverageText(now) });
  }
  if (baseline.includeGlobalResourceTypes && !current.includeGlobalResourceTypes) {
    found.push({ attribute: 'includeGlobalResourceTypes', before: 'on', after: 'off' });
  }
  if (modeNarrowed(baseline, current)) {
    found.push({ attribute: 'recordingMode', before: modeText(baseline), after: modeText(current) });
  }
  if (baseline.roleArn !== current.roleArn) {
    found.push({ attribute: 'roleARN', before: baseline.roleArn, after: current.roleArn || 'none', suspicious: true });
  }
  return found;
}

/**
 * The recorder that undoes what `current` narrowed and keeps what it widened: the union of both coverages, global
 * types if either had them, the baseline's recording mode when the current one records less often, the baseline's role.
 */
export function restoredRecorder(baseline: RecorderConfig, current: RecorderConfig | undefined): RecorderConfig {
  if (!current) return baseline;
  const coverage = unionCoverage(coverageOf(baseline), coverageOf(current));
  const mode = modeNarrowed(baseline, current) ? baseline : current;
  return {
    name: current.name,
    roleArn: baseline.roleArn,
    allSupported: coverage.kind === 'all',
    // Config takes global types only with allSupported.
    includeGlobalResourceTypes:
      coverage.kind === 'all' && (baseline.includeGlobalResourceTypes || current.includeGlobalResourceTypes),
    resourceTypes: coverage.kind === 'include' ? coverage.types : [],
    excludedResourceTypes: coverage.kind === 'exclude' ? coverage.types : [],
    recordingFrequency: mode.recordingFrequency,
    overrides: mode.overrides,
  };
}

/** PutConfigurationRecorder's input for a recorder, in the form Config accepts for its coverage. */
export function putRecorderInput(recorder: RecorderConfig): PutConfigurationRecorderCommandInput {
  // Config's enum of resource types grows with Config: the names it reported are passed back as they are.
  const types = (list: string[]) => list as ResourceType[];
  const recordingGroup: RecordingGroup = recorder.allSupported
    ? { allSupported: true, includeGlobalResourceTypes: recorder.includeGlobalResourceTypes }
    : recorder.excludedResourceTypes.length > 0
      ? {
          allSupported: false,
          includeGlobalResourceTypes: false,
          exclusionByResourceTypes: { resourceTypes: types(recorder.excludedResourceTypes) },
          recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' as const },
        }
      : {
          allSupported: false,
          includeGlobalResourceTypes: false,
          resourceTypes: types(recorder.resourceTypes),
          recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' as const },
        };
  return {
    ConfigurationRecorder: {
      name: recorder.name,
      roleARN: recorder.roleArn,
      recordingGroup,
      recordingMode: {
        recordingFrequency: recorder.recordingFrequency,
        recordingModeOverrides: recorder.overrides.map((o) => ({ ...o, resourceTypes: types(o.resourceTypes) })),
      },
    },
  };
}

/** Config's default snapshot frequency when a channel names none. */
const frequencyRank = (frequency: DeliveryFrequency | undefined) =>
  DELIVERY_FREQUENCIES.indexOf(frequency ?? 'TwentyFour_Hours');

const DESTINATIONS = [
  ['s3BucketName', 'bucket'],
  ['s3KeyPrefix', 'prefix'],
  ['s3KmsKeyArn', 'KMS key'],
  ['snsTopicArn', 'SNS topic'],
] as const;

/** What `current` changed of where the baseline's channel delivers (suspicious but the prefix), or delivers less often. */
export function channelNarrowings(baseline: ChannelConfig, current: ChannelConfig): Narrowing[] {
  const found: Narrowing[] = [];
  for (const [field, what] of DESTINATIONS) {
    if (baseline[field] !== current[field]) {
      found.push({
        attribute: `channel ${what}`,
        before: baseline[field] ?? 'none',
        after: current[field] ?? 'none',
        ...(field === 's3KeyPrefix' ? {} : { suspicious: true }),
      });
    }
  }
  if (frequencyRank(current.deliveryFrequency) > frequencyRank(baseline.deliveryFrequency)) {
    found.push({
      attribute: 'channel deliveryFrequency',
      before: baseline.deliveryFrequency ?? 'TwentyFour_Hours',
      after: current.deliveryFrequency ?? 'TwentyFour_Hours',
    });
  }
  return found;
}

/** The baseline's destinations, under the present channel's name, at the more frequent of the two deliveries. */
export function restoredChannel(baseline: ChannelConfig, current: ChannelConfig | undefined): ChannelConfig {
  if (!current) return baseline;
  const frequency =
    frequencyRank(current.deliveryFrequency) < frequencyRank(baseline.deliveryFrequency)
      ? current.deliveryFrequency
      : baseline.deliveryFrequency;
  const { deliveryFrequency: _dropped, ...destinations } = baseline;
  return { ...destinations, name: current.name, ...(frequency ? { deliveryFrequency: frequency } : {}) };
}

export function putChannelInput(channel: ChannelConfig): PutDeliveryChannelCommandInput {
  return {
    DeliveryChannel: {
      name: channel.name,
      s3BucketName: channel.s3BucketName,
      ...(channel.s3KeyPrefix ? { s3KeyPrefix: channel.s3KeyPrefix } : {}),
      ...(channel.s3KmsKeyArn ? { s3KmsKeyArn: channel.s3KmsKeyArn } : {}),
      ...(channel.snsTopicArn ? { snsTopicARN: channel.snsTopicArn } : {}),
      ...(channel.deliveryFrequency
        ? { configSnapshotDeliveryProperties: { deliveryFrequency: channel.deliveryFrequency } }
        : {}),
    },
  };
}

/** The account's service-linked role for Config, the one Security Hub's Config.1 asks for. */
export const serviceLinkedRoleArn = (account: string, partition = 'aws') =>
  `arn:${partition}:iam::${account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`;

const accountOfArn = (arn: string) => arn.split(':')[4];

/**
 * What a region lacks of the policy (everything recorded, continuous, global types on, the service-linked role, a
 * channel whose key and topic are the account's, recording and delivering without failure): the gaps a first capture
 * notes, and an event's first capture refuses (none: as the controls want). Recording off is the caller's (it may be
 * started); a bucket's owner cannot be told from its name and is not checked here.
 */
export function recordingGaps(recording: RegionRecording, account: string): Finding[] {
  const { recorder, channel } = recording;
  if (!recorder) return [{ attribute: 'recorder', before: 'none', after: 'a recorder recording everything' }];
  const gaps: Finding[] = [];
  const coverage = coverageOf(recorder);
  if (coverage.kind !== 'all') {
    gaps.push({ attribute: 'recordingGroup', before: coverageText(coverage), after: coverageText({ kind: 'all' }) });
  } else if (!recorder.includeGlobalResourceTypes) {
    gaps.push({ attribute: 'includeGlobalResourceTypes', before: 'off', after: 'on' });
  }
  if (recorder.recordingFrequency === 'DAILY' || recorder.overrides.some((o) => o.recordingFrequency === 'DAILY')) {
    gaps.push({ attribute: 'recordingMode', before: modeText(recorder), after: 'CONTINUOUS' });
  }
  const partition = recorder.roleArn.split(':')[1] || 'aws';
  if (recorder.roleArn !== serviceLinkedRoleArn(account, partition)) {
    gaps.push({
      attribute: 'roleARN',
      before: recorder.roleArn || 'none',
      after: serviceLinkedRoleArn(account, partition),
    });
  }
  if (recording.recorderError) {
    gaps.push({ attribute: 'recorder status', before: `Failure (${recording.recorderError})`, after: 'Success' });
  }
  if (!channel) {
    gaps.push({ attribute: 'delivery channel', before: 'none', after: 'a channel to an S3 bucket' });
    return gaps;
  }
  for (const [field, what] of [
    ['s3KmsKeyArn', 'KMS key'],
    ['snsTopicArn', 'SNS topic'],
  ] as const) {
    const arn = channel[field];
    if (arn && accountOfArn(arn) !== account) {
      gaps.push({
        attribute: `channel ${what}`,
        before: `${arn} (another account)`,
        after: `one of account ${account}`,
      });
    }
  }
  if (recording.deliveryError) {
    gaps.push({ attribute: 'channel delivery', before: `Failure (${recording.deliveryError})`, after: 'Success' });
  }
  return gaps;
}
