/**
 * Attack: someone with s3:PutBucketPolicy (or s3:DeleteBucketPolicy) on the backup bucket takes CloudWatch Logs' access
 * away, hoping the backup stops quietly while days keep being recorded as done (and retention then deletes them). The
 * emulator refuses the export as AWS does; the backup records no day as done, sends a high notice that names the bucket
 * and the fix, and its digest shows the backlog. Once the policy is restored, the next run exports the same day once.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeExportTasksCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DeleteBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dayOf } from '../../../lib/backup/plan.js';
import { BACKUP_PREFIX, backupBucketPolicy } from '../../../lib/backup/stack.js';
import { backupCommand } from '../../../scripts/backup.js';
import { emulatorClientConfig, localBackupBucket } from '../../../scripts/provision.js';
import { freshEngine, readNotices, testEndpoint } from '../../support/emulator.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const BUCKET = localBackupBucket(REGION);
const GROUP = '/app/payments';
/** The latest day the default 24 hours of settling lets out at any time of day (groups start there: SINCE_DAYS 2). */
const yesterday = dayOf(Date.now() - 2 * 86_400_000);

const config = () => emulatorClientConfig(testEndpoint(), REGION);
const s3 = () => new S3Client({ ...config(), forcePathStyle: true });
const policyFor = (account: string) =>
  JSON.stringify(
    backupBucketPolicy({ partition: 'aws', bucket: BUCKET, region: REGION, account, prefix: BACKUP_PREFIX }),
  );

const run = () =>
  backupCommand({ endpoint: testEndpoint(), regions: [REGION], json: true, print: () => {}, progress: () => {} });

describe('the backup bucket’s policy taken away from CloudWatch Logs', () => {
  beforeEach(async () => {
    await freshEngine();
    vi.stubEnv('DRIFTGUARD_BACKUP_SINCE_DAYS', '2');
    const logs = new CloudWatchLogsClient(config());
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: 'app' }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: GROUP,
        logStreamName: 'app',
        logEvents: [{ timestamp: Date.parse(`${yesterday}T08:00:00Z`), message: 'payment 42' }],
      }),
    );
  }, 60_000);
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['deleted', () => s3().send(new DeleteBucketPolicyCommand({ Bucket: BUCKET })), 'GetBucketAcl'],
    [
      'rewritten for another account',
      () => s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policyFor('999999999999') })),
      'GetBucketAcl',
    ],
  ])('%s: refused, notified, no day recorded; restored: the day is exported once', async (_, attack, call) => {
    await attack();

    const refused = await run();
    expect(refused).toMatchObject({ complete: true, exportedDays: 0, backlog: 1 });
    expect(refused.failed).toEqual([
      {
        region: REGION,
        group: GROUP,
        day: yesterday,
        error: `InvalidParameterException: ${call} call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation.`,
      },
    ]);
    const notices = await readNotices();
    expect(notices.map((n) => [n.attributes.outcome, n.attributes.severity])).toEqual([
      ['failed', 'high'],
      ['digest', 'high'],
    ]);
    expect(notices[0]?.document.nextSteps).toEqual([
      expect.stringContaining(
        `Check that bucket ${BUCKET} is this account's (${ACCOUNT}) and in ${REGION}, and that its policy lets logs.${REGION}.amazonaws.com`,
      ),
      `Then run: npm run backup -- --regions ${REGION}`,
    ]);

    await s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policyFor(ACCOUNT) }));
    const restored = await run();
    expect(restored).toMatchObject({ exportedDays: 1, backlog: 0, failed: [] });
    const { exportTasks = [] } = await new CloudWatchLogsClient(config()).send(new DescribeExportTasksCommand({}));
    expect(exportTasks.map((task) => [task.logGroupName, task.destinationPrefix])).toEqual([
      [GROUP, `${BACKUP_PREFIX}/${REGION}/app/payments/${yesterday.replaceAll('-', '/')}`],
    ]);
  });
});
