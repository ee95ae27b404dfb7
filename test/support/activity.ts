/** The activity-alarms tests' setup on the emulator: a multi-region trail delivering to a log group, and readers. */
import { CloudTrailClient, CreateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeMetricFiltersCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../lib/aws.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { cloudTrailBucketPolicy } from '../../scripts/reenact/trails.js';
import { runReplay } from '../../scripts/replay.js';
import { testEndpoint } from './emulator.js';

export const ACTIVITY_GROUP = '/aws/cloudtrail/activity';
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const config = () => emulatorClientConfig(testEndpoint(), REGION);

/** A multi-region trail of us-east-1 delivering to the activity group, as an account would have it. */
export async function activityTrail(name = 'activity-trail', group: string | null = ACTIVITY_GROUP) {
  const bucket = `${name}-logs-${ACCOUNT}`;
  const s3 = new S3Client({ ...config(), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket, ACCOUNT) }));
  if (group !== null) await new CloudWatchLogsClient(config()).send(new CreateLogGroupCommand({ logGroupName: group }));
  await new CloudTrailClient(config()).send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: bucket,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      ...(group === null
        ? {}
        : {
            CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:*`,
            CloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/cloudtrail-to-logs`,
          }),
    }),
  );
}

export async function engineFilters(group = ACTIVITY_GROUP) {
  const { metricFilters = [] } = await new CloudWatchLogsClient(config()).send(
    new DescribeMetricFiltersCommand({ logGroupName: group, filterNamePrefix: 'driftguard-' }),
  );
  return metricFilters;
}

export async function engineAlarms() {
  const { MetricAlarms = [] } = await new CloudWatchClient(config()).send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: 'driftguard-CloudWatch.' }),
  );
  return MetricAlarms;
}

export const sweepEngine = () => ({ settings: loadSettings(), aws: createAwsClients() });

export function replay(files: string[]) {
  return runReplay({
    files,
    endpoint: testEndpoint(),
    reenact: true,
    dryRun: false,
    json: true,
    print: () => undefined,
  });
}
