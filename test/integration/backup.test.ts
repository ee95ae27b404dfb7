/**
 * The log backup against the emulator, through `npm run backup`'s own code path and the scheduled function: log groups
 * holding a settled day's events (the day before yesterday: a day is exported DRIFTGUARD_BACKUP_SETTLE_HOURS, default
 * 24, after it ends, whatever the time of day the test runs) are exported to the bucket (with the stack's bucket policy, which the emulator checks as
 * CloudWatch Logs does), one task per group and day under <prefix>/<region>/<group>/<yyyy>/<mm>/<dd>/; a second run
 * starts no task; a group whose retention is about to delete its oldest unexported day is notified; bad settings are
 * named before anything is exported.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeExportTasksCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { dayOf } from '../../lib/backup/plan.js';
import { BACKUP_PREFIX } from '../../lib/backup/stack.js';
import { backupCommand } from '../../scripts/backup.js';
import { emulatorClientConfig, localBackupBucket, provisionBackupBucket } from '../../scripts/provision.js';
import { invocationContext } from '../../scripts/replay.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const REGION = 'us-east-1';
const BUCKET = localBackupBucket(REGION);
const GROUPS = ['/app/web', '/app/db', 'no-leading-slash'];
/** Retention 3 days: the settled day starts being deleted at midnight tonight. */
const AUDIT = '/app/audit';
const DAY_MS = 86_400_000;
/** The latest day the default 24 hours of settling lets out at any time of day; groups start there (SINCE_DAYS 2). */
const yesterday = dayOf(Date.now() - 2 * DAY_MS);
const [yyyy, mm, dd] = yesterday.split('-');

/** The day before yesterday is where a group seen for the first time starts (yesterday is not settled yet). */
function settledStart() {
  vi.stubEnv('DRIFTGUARD_BACKUP_SINCE_DAYS', '2');
}

const logs = () => new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), REGION));

async function groupWithYesterday(name: string) {
  await logs().send(new CreateLogGroupCommand({ logGroupName: name }));
  await logs().send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: 'app' }));
  await logs().send(
    new PutLogEventsCommand({
      logGroupName: name,
      logStreamName: 'app',
      logEvents: [{ timestamp: Date.parse(`${yesterday}T12:00:00Z`), message: `yesterday in ${name}` }],
    }),
  );
}

async function exportTasks() {
  const { exportTasks: tasks = [] } = await logs().send(new DescribeExportTasksCommand({}));
  return tasks;
}

async function bucketKeys(): Promise<string[]> {
  const s3 = new S3Client({ ...emulatorClientConfig(testEndpoint(), REGION), forcePathStyle: true });
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${BACKUP_PREFIX}/` }));
  return Contents.map((object) => String(object.Key));
}

function cli() {
  const lines: string[] = [];
  const progress: string[] = [];
  return {
    lines,
    progress,
    run: (options: { regions?: string[]; dryRun?: boolean } = {}) =>
      backupCommand({
        endpoint: testEndpoint(),
        regions: options.regions ?? [REGION],
        json: true,
        dryRun: options.dryRun ?? false,
        print: (line) => lines.push(line),
        progress: (line) => progress.push(line),
      }),
  };
}

describe('npm run backup against the emulator', () => {
  beforeAll(async () => {
    const settings = await freshEngine();
    expect(settings.DRIFTGUARD_BACKUP_BUCKET).toBe(BUCKET);
    settledStart();
    for (const name of [...GROUPS, AUDIT]) await groupWithYesterday(name);
    await logs().send(new PutRetentionPolicyCommand({ logGroupName: AUDIT, retentionInDays: 3 }));
  }, 60_000);

  it('plans in a dry run, and starts no task', async () => {
    const { lines, run } = cli();
    const report = await run({ dryRun: true });
    expect(report).toMatchObject({ dryRun: true, complete: true, exportedDays: 4 });
    expect(lines.slice(0, -1).map((line) => JSON.parse(line).outcome)).toEqual(Array(4).fill('planned'));
    expect(await exportTasks()).toEqual([]);
    expect(await readNotices()).toEqual([]);
  });

  it("leaves each group's yesterday under <region>/<group>/<yyyy>/<mm>/<dd>/, one task per group and day", async () => {
    const { lines, progress, run } = cli();
    const report = await run();

    const keys = await bucketKeys();
    const dynamodb = new DynamoDBClient(emulatorClientConfig(testEndpoint(), REGION));
    for (const group of [...GROUPS, AUDIT]) {
      const folder = `${BACKUP_PREFIX}/${REGION}/${group.replace(/^\//, '')}/${yyyy}/${mm}/${dd}/`;
      expect(keys.filter((key) => key.startsWith(folder) && key.endsWith('/app/000000.gz'))).toHaveLength(1);
      // The state table names the task whose directory under the day's prefix is the backup's (review #11).
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: process.env.DRIFTGUARD_STATE_TABLE,
          Key: { pk: { S: `backup#day#${REGION}` }, sk: { S: `${group}#${yesterday}` } },
        }),
      );
      const task = (await exportTasks()).find((t) => t.logGroupName === group);
      expect(Item?.taskId?.S).toBe(task?.taskId);
    }
    const tasks = await exportTasks();
    expect(tasks).toHaveLength(4);
    expect(tasks.map((task) => [task.logGroupName, task.destination, task.status?.code]).sort()).toEqual(
      [...GROUPS, AUDIT].map((group) => [group, BUCKET, 'COMPLETED']).sort(),
    );
    // One JSON line per exported day, then the summary; progress per group on stderr.
    const days = lines.slice(0, -1).map((line) => JSON.parse(line));
    expect(days).toHaveLength(4);
    expect(days[0]).toMatchObject({ outcome: 'exported', region: REGION, day: yesterday });
    expect(JSON.parse(lines.at(-1) ?? '{}').summary).toMatchObject({
      complete: true,
      exportedDays: 4,
      exportedGroups: 4,
      backlog: 0,
    });
    expect(report.inDanger.map((d) => d.group)).toEqual([AUDIT]);
    expect(progress).toContain(`${REGION} /app/web: 1 day due (${yesterday}..${yesterday})`);

    const notices = await readNotices();
    expect(notices.map((n) => [n.attributes.rule, n.attributes.outcome, n.attributes.severity])).toEqual([
      ['log-backup', 'needs-human', 'high'],
      ['log-backup', 'digest', 'high'],
    ]);
    const subject = new RegExp(`^\\[driftguard\\] HIGH log group /app/audit backup: ${yesterday} deleted in (\\d+)h$`);
    expect(notices[0]?.subject).toMatch(subject);
    // Deletion starts at midnight tonight (the day's start plus 3 days), to the hour.
    const hours = Number(subject.exec(notices[0]?.subject ?? '')?.[1]);
    const expected = (Date.parse(`${yesterday}T00:00:00Z`) + 3 * DAY_MS - Date.now()) / 3_600_000;
    expect(Math.abs(hours - expected)).toBeLessThanOrEqual(1);
    expect(notices[1]?.document).toMatchObject({ kind: 'driftguard.backup', report: { exportedDays: 4 } });
  });

  it('a second run starts no task', async () => {
    const { run } = cli();
    const report = await run();
    expect(report).toMatchObject({ complete: true, exportedDays: 0, backlog: 0 });
    expect(await exportTasks()).toHaveLength(4);
    // The emulator lists tasks by status as AWS does.
    const completed = await logs().send(new DescribeExportTasksCommand({ statusCode: 'COMPLETED' }));
    const running = await logs().send(new DescribeExportTasksCommand({ statusCode: 'RUNNING' }));
    expect([completed.exportTasks?.length, running.exportTasks?.length]).toEqual([4, 0]);
  });

  it('starts nothing while another run holds the lease (a conditional write in the state table)', async () => {
    const dynamodb = new DynamoDBClient(emulatorClientConfig(testEndpoint(), REGION));
    const until = Date.now() + 60_000;
    await dynamodb.send(
      new PutItemCommand({
        TableName: process.env.DRIFTGUARD_STATE_TABLE,
        Item: {
          pk: { S: 'backup#lease' },
          sk: { S: 'current' },
          holder: { S: 'run-cli' },
          until: { N: String(until) },
        },
      }),
    );
    const report = await cli().run();
    expect(report).toMatchObject({ complete: false, groups: 0, exportedDays: 0 });
    expect(report.waiting).toBe(`another backup run (run-cli) holds the lease until ${new Date(until).toISOString()}`);
    expect(await exportTasks()).toHaveLength(4);
    // Expired, it is taken, and released at the end.
    await dynamodb.send(
      new PutItemCommand({
        TableName: process.env.DRIFTGUARD_STATE_TABLE,
        Item: { pk: { S: 'backup#lease' }, sk: { S: 'current' }, holder: { S: 'run-cli' }, until: { N: '1' } },
      }),
    );
    expect(await cli().run()).toMatchObject({ complete: true, exportedDays: 0 });
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: process.env.DRIFTGUARD_STATE_TABLE,
        Key: { pk: { S: 'backup#lease' }, sk: { S: 'current' } },
      }),
    );
    expect(Item).toBeUndefined();
  });

  it("exports another region's groups to that region's bucket (DRIFTGUARD_BACKUP_BUCKETS)", async () => {
    const eu = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'eu-west-1'));
    await eu.send(new CreateLogGroupCommand({ logGroupName: '/eu/app' }));
    await eu.send(new CreateLogStreamCommand({ logGroupName: '/eu/app', logStreamName: 'app' }));
    await eu.send(
      new PutLogEventsCommand({
        logGroupName: '/eu/app',
        logStreamName: 'app',
        logEvents: [{ timestamp: Date.parse(`${yesterday}T06:00:00Z`), message: 'in eu-west-1' }],
      }),
    );
    const { DRIFTGUARD_BACKUP_BUCKET: euBucket } = await provisionBackupBucket(
      testEndpoint(),
      'eu-west-1',
      '123456789012',
    );
    vi.stubEnv('DRIFTGUARD_BACKUP_BUCKETS', `eu-west-1=${euBucket}`);
    try {
      const { lines, run } = cli();
      const report = await run({ regions: [REGION, 'eu-west-1'] });
      expect(report).toMatchObject({ complete: true, exportedDays: 1 });
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
        region: 'eu-west-1',
        group: '/eu/app',
        destination: `s3://${localBackupBucket('eu-west-1')}/${BACKUP_PREFIX}/eu-west-1/eu/app/${yyyy}/${mm}/${dd}/`,
      });
      const { exportTasks: euTasks = [] } = await eu.send(new DescribeExportTasksCommand({}));
      expect(euTasks.map((task) => task.destination)).toEqual([localBackupBucket('eu-west-1')]);
    } finally {
      vi.unstubAllEnvs();
      settledStart();
    }
  });

  it('names bad settings and regions without a bucket, and exports nothing', async () => {
    const { run } = cli();
    vi.stubEnv('DRIFTGUARD_BACKUP_BUCKETS', 'eu-west-1');
    await expect(run()).rejects.toThrow(
      'DRIFTGUARD_BACKUP_BUCKETS="eu-west-1" is invalid: allowed values are comma-separated region=bucket pairs',
    );
    vi.unstubAllEnvs();
    settledStart();
    await groupWithYesterday('/new/group');
    await expect(run({ regions: [REGION, 'eu-west-1'] })).rejects.toThrow(
      'eu-west-1 has no backup bucket: a log group exports only to a bucket of its own region, so set DRIFTGUARD_BACKUP_BUCKETS=eu-west-1=<bucket in eu-west-1>',
    );
    expect(await exportTasks()).toHaveLength(4);
  });

  it('the scheduled function exports what is due, and its continuation does nothing when no run is open', async () => {
    vi.resetModules();
    const { handler } = await import('../../functions/backup.js');
    const invoke = (event: { continue: boolean }) =>
      handler(event, invocationContext('driftguard-dev-backup', { remainingMs: 15 * 60_000 })) as Promise<
        Record<string, unknown>
      >;
    expect(await invoke({ continue: false })).toMatchObject({ complete: true, exportedDays: 1, failed: 0 });
    expect((await exportTasks()).map((task) => task.logGroupName)).toContain('/new/group');
    expect(await invoke({ continue: true })).toEqual({ continued: false });
  });
});
