/** A CloudTrail trail's whole configuration: read in one place, and the input that re-creates it. */
import {
  type AdvancedEventSelector,
  CloudTrailClient,
  type CreateTrailCommandInput,
  DescribeTrailsCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailStatusCommand,
  type InsightSelector,
  ListTagsCommand,
} from '@aws-sdk/client-cloudtrail';
import { type AwsClients, arnRegion, awsErrorName } from './aws.js';
import type { PermissionDeclaration } from './rule.js';

/** Every trail of the account, in any region (IAM's resource for the trail calls). */
export const TRAIL_ARNS = 'arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*';

/** The reads `readTrail` makes: a rule that reads trails declares these. */
export const TRAIL_READS: PermissionDeclaration = {
  actions: [
    'cloudtrail:DescribeTrails',
    'cloudtrail:GetTrailStatus',
    'cloudtrail:GetEventSelectors',
    'cloudtrail:GetInsightSelectors',
    'cloudtrail:ListTags',
  ],
  resource: TRAIL_ARNS,
};

export interface TrailConfig {
  name: string;
  trailArn: string;
  homeRegion: string;
  s3BucketName: string;
  s3KeyPrefix?: string;
  snsTopicName?: string;
  includeGlobalServiceEvents: boolean;
  isMultiRegionTrail: boolean;
  logFileValidationEnabled: boolean;
  cloudWatchLogsLogGroupArn?: string;
  cloudWatchLogsRoleArn?: string;
  kmsKeyId?: string;
  isOrganizationTrail: boolean;
  eventSelectors?: EventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
  insightSelectors: InsightSelector[];
  tags: { Key: string; Value: string }[];
  isLogging: boolean;
  /** When logging last stopped (ISO-8601), if it did. */
  stoppedLoggingAt?: string;
}

const TRAIL_ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):trail\/(.+)$/;

/** A trail named by name or ARN: its name and home region (an ARN says where; a name lives where it was called). */
export function trailReference(nameOrArn: string, eventRegion: string): { name: string; region: string } {
  const match = TRAIL_ARN.exec(nameOrArn);
  return match?.[1] && match[3] ? { name: match[3], region: match[1] } : { name: nameOrArn, region: eventRegion };
}

const blankToUndefined = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** The trail's present configuration, or undefined when it does not exist. Six read calls. */
export async function readTrail(aws: AwsClients, name: string, region: string): Promise<TrailConfig | undefined> {
  const cloudtrail = aws.client(CloudTrailClient, region);
  const { trailList } = await cloudtrail.send(
    new DescribeTrailsCommand({ trailNameList: [name], includeShadowTrails: false }),
  );
  const trail = trailList?.find((t) => t.Name === name || t.TrailARN === name);
  if (!trail?.TrailARN || !trail.Name || !trail.S3BucketName) return undefined;
  const arn = trail.TrailARN;
  try {
    const [status, selectors, insights, tags] = await Promise.all([
      cloudtrail.send(new GetTrailStatusCommand({ Name: arn })),
      cloudtrail.send(new GetEventSelectorsCommand({ TrailName: arn })),
      readInsightSelectors(cloudtrail, arn),
      cloudtrail.send(new ListTagsCommand({ ResourceIdList: [arn] })),
    ]);
    const stopped = status.TimeLoggingStopped || status.StopLoggingTime?.toISOString();
    return {
      name: trail.Name,
      trailArn: arn,
      homeRegion: trail.HomeRegion ?? arnRegion(arn) ?? region,
      s3BucketName: trail.S3BucketName,
      ...optional('s3KeyPrefix', blankToUndefined(trail.S3KeyPrefix)),
      ...optional('snsTopicName', blankToUndefined(trail.SnsTopicName)),
      includeGlobalServiceEvents: trail.IncludeGlobalServiceEvents ?? false,
      isMultiRegionTrail: trail.IsMultiRegionTrail ?? false,
      logFileValidationEnabled: trail.LogFileValidationEnabled ?? false,
      ...optional('cloudWatchLogsLogGroupArn', blankToUndefined(trail.CloudWatchLogsLogGroupArn)),
      ...optional('cloudWatchLogsRoleArn', blankToUndefined(trail.CloudWatchLogsRoleArn)),
      ...optional('kmsKeyId', blankToUndefined(trail.KmsKeyId)),
      isOrganizationTrail: trail.IsOrganizationTrail ?? false,
      ...(selectors.AdvancedEventSelectors?.length
        ? { advancedEventSelectors: selectors.AdvancedEventSelectors }
        : { eventSelectors: selectors.EventSelectors ?? [] }),
      insightSelectors: insights,
      tags: (tags.ResourceTagList?.[0]?.TagsList ?? []).map(({ Key, Value }) => ({
        Key: Key ?? '',
        Value: Value ?? '',
      })),
      isLogging: status.IsLogging ?? false,
      ...optional('stoppedLoggingAt', blankToUndefined(stopped)),
    };
  } catch (error) {
    // Deleted between the describe and the detail reads.
    if (awsErrorName(error) === 'TrailNotFoundException') return undefined;
    throw error;
  }
}

async function readInsightSelectors(cloudtrail: CloudTrailClient, arn: string): Promise<InsightSelector[]> {
  try {
    return (await cloudtrail.send(new GetInsightSelectorsCommand({ TrailName: arn }))).InsightSelectors ?? [];
  } catch (error) {
    // AWS answers InsightNotEnabledException for a trail that has none.
    if (awsErrorName(error) === 'InsightNotEnabledException') return [];
    throw error;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** CreateTrail's input that re-creates the trail as configured (tags included). */
export function createTrailInput(config: TrailConfig): CreateTrailCommandInput {
  return {
    Name: config.name,
    S3BucketName: config.s3BucketName,
    ...optional('S3KeyPrefix', config.s3KeyPrefix),
    ...optional('SnsTopicName', config.snsTopicName),
    IncludeGlobalServiceEvents: config.includeGlobalServiceEvents,
    IsMultiRegionTrail: config.isMultiRegionTrail,
    EnableLogFileValidation: config.logFileValidationEnabled,
    ...optional('CloudWatchLogsLogGroupArn', config.cloudWatchLogsLogGroupArn),
    ...optional('CloudWatchLogsRoleArn', config.cloudWatchLogsRoleArn),
    ...optional('KmsKeyId', config.kmsKeyId),
    IsOrganizationTrail: config.isOrganizationTrail,
    ...(config.tags.length > 0 ? { TagsList: config.tags } : {}),
  };
}
