/**
 * The backup's AWS side: CloudWatch Logs export calls, and its records in the state table. Every record's partition key
 * starts with `backup#`, so that the backup role may touch these items alone (dynamodb:LeadingKeys).
 */
import {
  CloudWatchLogsClient,
  CreateExportTaskCommand,
  DescribeExportTasksCommand,
  DescribeLogGroupsCommand,
  type ExportTask,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClients, arnRegion, awsErrorName, stateRegion } from '../aws.js';
import { type Notice, publishInput } from '../notices.js';
import { HeadBucketCommand, S3BucketsClient, S3ServiceError } from '../s3-buckets.js';
import type { Day } from './plan.js';
import {
  type BackupBucketApi,
  type BackupLogsApi,
  type BackupReport,
  type BackupStore,
  type ExportIntent,
  type ExportTaskView,
  exportsExactly,
  type OwnTask,
} from './run.js';

/** The partition keys of the backup's records: IAM lets the backup role write these and no other. */
export const BACKUP_KEY_PREFIX = 'backup#';
const cursorPk = (region: string) => `${BACKUP_KEY_PREFIX}cursor#${region}`;
const dayKey = (region: string, group: string, day: Day) => ({
  pk: { S: `${BACKUP_KEY_PREFIX}day#${region}` },
  sk: { S: `${group}#${day}` },
});
const RUN_KEY = { pk: { S: `${BACKUP_KEY_PREFIX}run` }, sk: { S: 'current' } };
const TASK_KEY = { pk: { S: `${BACKUP_KEY_PREFIX}task` }, sk: { S: 'current' } };
const INTENT_KEY = { pk: { S: `${BACKUP_KEY_PREFIX}intent` }, sk: { S: 'current' } };
const LEASE_KEY = { pk: { S: `${BACKUP_KEY_PREFIX}lease` }, sk: { S: 'current' } };

const view = (task: ExportTask): ExportTaskView => ({
  taskId: String(task.taskId),
  taskName: task.taskName,
  status: task.status?.code,
  message: task.status?.message,
  logGroupName: task.logGroupName,
  from: task.from,
  to: task.to,
  destination: task.destination,
  destinationPrefix: task.destinationPrefix,
  createdAt: task.executionInfo?.creationTime,
});

export function sdkLogsApi(aws: AwsClients): BackupLogsApi {
  const logs = (region: string) => aws.client(CloudWatchLogsClient, region);
  return {
    async listGroups(region, prefix, token) {
      const { logGroups = [], nextToken } = await logs(region).send(
        new DescribeLogGroupsCommand({ ...(prefix ? { logGroupNamePrefix: prefix } : {}), nextToken: token }),
      );
      return {
        groups: logGroups.flatMap((group) =>
          group.logGroupName
            ? [
                {
                  region,
                  name: group.logGroupName,
                  creationTime: group.creationTime,
                  retentionInDays: group.retentionInDays,
                },
              ]
            : [],
        ),
        ...(nextToken ? { next: nextToken } : {}),
      };
    },
    async activeTasks(region) {
      const found: ExportTaskView[] = [];
      // DescribeExportTasks takes one status code a call.
      for (const statusCode of ['RUNNING', 'PENDING'] as const) {
        let nextToken: string | undefined;
        do {
          const page = await logs(region).send(new DescribeExportTasksCommand({ statusCode, nextToken }));
          // Filtered again here: the status is what decides, whatever the endpoint honours.
          for (const task of page.exportTasks ?? []) if (task.status?.code === statusCode) found.push(view(task));
          nextToken = page.nextToken;
        } while (nextToken);
      }
      return found;
    },
    async createTask(region, input) {
      const { taskId } = await logs(region).send(new CreateExportTaskCommand(input));
      if (!taskId) throw new Error(`CreateExportTask of ${input.logGroupName} returned no task id`);
      return taskId;
    },
    async completedTask(region, input) {
      let nextToken: string | undefined;
      do {
        const page = await logs(region).send(new DescribeExportTasksCommand({ statusCode: 'COMPLETED', nextToken }));
        for (const task of page.exportTasks ?? []) {
          const found = view(task);
          if (found.status === 'COMPLETED' && exportsExactly(found, input)) return found.taskId;
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return undefined;
    },
    async describeTask(region, taskId) {
      try {
        const { exportTasks = [] } = await logs(region).send(new DescribeExportTasksCommand({ taskId }));
        const task = exportTasks.find((t) => t.taskId === taskId);
        return task ? view(task) : undefined;
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
  };
}

/**
 * HeadBucket with ExpectedBucketOwner (S3 answers 403 when another account owns the bucket) in the region's endpoint
 * (a bucket elsewhere answers a redirect that names its region in x-amz-bucket-region; it is not followed).
 */
export function sdkBucketApi(aws: AwsClients): BackupBucketApi {
  const s3 = (region: string) => aws.client(S3BucketsClient, region);
  const elsewhere = (bucket: string, found: string | undefined, region: string) =>
    found && found !== region
      ? `bucket ${bucket} is in ${found}, not ${region}: a log group exports only to a bucket of its own region`
      : undefined;
  return {
    async problem(region, bucket, account) {
      try {
        const { BucketRegion } = await s3(region).send(
          new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: account }),
        );
        return elsewhere(bucket, BucketRegion, region);
      } catch (error) {
        const found = error instanceof S3ServiceError ? elsewhere(bucket, error.BucketRegion, region) : undefined;
        const name = awsErrorName(error) || 'Error';
        // A redirect to another region checked no owner: both are said.
        return found
          ? `${found}; and it is not verified as this account's (${account}): HeadBucket answered ${name}`
          : `bucket ${bucket} is not verified as this account's (${account}) in ${region}: HeadBucket with ExpectedBucketOwner answered ${name} (owned by another account, missing, or in another region)`;
      }
    },
  };
}

/** The backup's records in the state table. */
export function stateTableStore(aws: AwsClients, table: string): BackupStore {
  const dynamodb = () => aws.client(DynamoDBClient, stateRegion());
  const getJson = async <T>(Key: typeof RUN_KEY): Promise<T | undefined> => {
    const { Item } = await dynamodb().send(new GetItemCommand({ TableName: table, Key, ConsistentRead: true }));
    return Item?.value?.S ? (JSON.parse(Item.value.S) as T) : undefined;
  };
  const putJson = async (Key: typeof RUN_KEY, value: unknown) => {
    if (value === undefined) await dynamodb().send(new DeleteItemCommand({ TableName: table, Key }));
    else
      await dynamodb().send(
        new PutItemCommand({ TableName: table, Item: { ...Key, value: { S: JSON.stringify(value) } } }),
      );
  };
  return {
    async cursors(region) {
      const cursors = new Map<string, Day>();
      let ExclusiveStartKey: Record<string, { S: string }> | undefined;
      do {
        const page = await dynamodb().send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: cursorPk(region) } },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const group = item.sk?.S;
          const day = item.lastDay?.S;
          if (group && day) cursors.set(group, day);
        }
        ExclusiveStartKey = page.LastEvaluatedKey as typeof ExclusiveStartKey;
      } while (ExclusiveStartKey);
      return cursors;
    },
    async cursor(region, group) {
      const { Item } = await dynamodb().send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: cursorPk(region) }, sk: { S: group } },
          ConsistentRead: true,
        }),
      );
      return Item?.lastDay?.S;
    },
    async saveCursor(region, group, day) {
      await dynamodb().send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: cursorPk(region) },
            sk: { S: group },
            lastDay: { S: day },
            updatedAt: { S: new Date().toISOString() },
          },
        }),
      );
    },
    async saveExported(region, group, day, taskId) {
      await dynamodb().send(
        new PutItemCommand({
          TableName: table,
          Item: { ...dayKey(region, group, day), taskId: { S: taskId }, recordedAt: { S: new Date().toISOString() } },
        }),
      );
    },
    async exportedBy(region, group, day) {
      const { Item } = await dynamodb().send(
        new GetItemCommand({ TableName: table, Key: dayKey(region, group, day), ConsistentRead: true }),
      );
      return Item?.taskId?.S;
    },
    loadRun: () => getJson<BackupReport>(RUN_KEY),
    saveRun: (report) => putJson(RUN_KEY, report),
    loadTask: () => getJson<OwnTask>(TASK_KEY),
    saveTask: (task) => putJson(TASK_KEY, task),
    loadIntent: () => getJson<ExportIntent>(INTENT_KEY),
    saveIntent: (intent) => putJson(INTENT_KEY, intent),
    async takeLease(holder, until, now) {
      try {
        // Taken when free, expired, or already this holder's: one conditional write, so two runs cannot both win.
        await dynamodb().send(
          new PutItemCommand({
            TableName: table,
            Item: { ...LEASE_KEY, holder: { S: holder }, until: { N: String(until) } },
            ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR holder = :holder',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':now': { N: String(now) }, ':holder': { S: holder } },
          }),
        );
        return { held: true };
      } catch (error) {
        if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
        const { Item } = await dynamodb().send(
          new GetItemCommand({ TableName: table, Key: LEASE_KEY, ConsistentRead: true }),
        );
        return { held: false, holder: Item?.holder?.S, until: Number(Item?.until?.N ?? 0) };
      }
    },
    async releaseLease(holder) {
      try {
        await dynamodb().send(
          new DeleteItemCommand({
            TableName: table,
            Key: LEASE_KEY,
            ConditionExpression: 'holder = :holder',
            ExpressionAttributeValues: { ':holder': { S: holder } },
          }),
        );
      } catch (error) {
        // Another run holds it now (this one's had expired): it is not ours to give up.
        if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      }
    },
  };
}

/** Records kept in memory, for one process (a dry run without a state table reads no cursor; tests). */
export function memoryStore(): BackupStore {
  const cursors = new Map<string, Map<string, Day>>();
  let run: BackupReport | undefined;
  let task: OwnTask | undefined;
  let lease: { holder: string; until: number } | undefined;
  let intent: ExportIntent | undefined;
  const days = new Map<string, string>();
  return {
    loadIntent: async () => intent,
    saveIntent: async (value) => {
      intent = value;
    },
    saveExported: async (region, group, day, taskId) => {
      days.set(`${region}#${group}#${day}`, taskId);
    },
    exportedBy: async (region, group, day) => days.get(`${region}#${group}#${day}`),
    takeLease: async (holder, until, now) => {
      if (lease && lease.until >= now && lease.holder !== holder) return { held: false, ...lease };
      lease = { holder, until };
      return { held: true };
    },
    releaseLease: async (holder) => {
      if (lease?.holder === holder) lease = undefined;
    },
    cursors: async (region) => new Map(cursors.get(region) ?? []),
    cursor: async (region, group) => cursors.get(region)?.get(group),
    saveCursor: async (region, group, day) => {
      const byGroup = cursors.get(region) ?? new Map<string, Day>();
      byGroup.set(group, day);
      cursors.set(region, byGroup);
    },
    loadRun: async () => (run === undefined ? undefined : structuredClone(run)),
    saveRun: async (report) => {
      run = report === undefined ? undefined : structuredClone(report);
    },
    loadTask: async () => task,
    saveTask: async (value) => {
      task = value;
    },
  };
}

/** Publishes to the notice topic (in the topic's region); without a topic, notices go nowhere. */
export function topicPublisher(aws: AwsClients, topic: string | undefined): (notice: Notice) => Promise<void> {
  return async (notice) => {
    if (!topic) return;
    await aws.client(SNSClient, arnRegion(topic) ?? 'us-east-1').send(new PublishCommand(publishInput(notice, topic)));
  };
}
