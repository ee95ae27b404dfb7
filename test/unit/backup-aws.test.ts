/** The backup's CloudWatch Logs calls as it sends them: both active statuses, every page, filtered by status again. */
import {
  CreateExportTaskCommand,
  DescribeExportTasksCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws.js';
import { sdkLogsApi } from '../../lib/backup/aws.js';

/** An AwsClients whose every client answers through `answer`, recording what was sent. */
function fakeClients(answer: (command: object) => unknown) {
  const sent: { region: string; command: object }[] = [];
  const aws: AwsClients = {
    client<C>(_Class: unknown, region: string): C {
      return {
        send: async (command: object) => {
          sent.push({ region, command });
          return answer(command);
        },
      } as C;
    },
  };
  return { aws, sent };
}

const task = (taskId: string, code: string) => ({ taskId, taskName: `name-${taskId}`, status: { code } });
const inputOf = (command: object) => (command as { input: Record<string, unknown> }).input;

describe('sdkLogsApi', () => {
  it('lists RUNNING then PENDING tasks, every page, keeping only those in the status asked', async () => {
    const { aws, sent } = fakeClients((command) => {
      const { statusCode, nextToken } = inputOf(command);
      if (statusCode === 'RUNNING')
        return nextToken
          ? { exportTasks: [task('r2', 'RUNNING')] }
          : { exportTasks: [task('r1', 'RUNNING'), task('done', 'COMPLETED')], nextToken: 'page-2' };
      return { exportTasks: [task('p1', 'PENDING')] };
    });
    const active = await sdkLogsApi(aws).activeTasks('eu-west-1');
    expect(active.map((t) => [t.taskId, t.status])).toEqual([
      ['r1', 'RUNNING'],
      ['r2', 'RUNNING'],
      ['p1', 'PENDING'],
    ]);
    expect(sent.map(({ region, command }) => [region, inputOf(command).statusCode])).toEqual([
      ['eu-west-1', 'RUNNING'],
      ['eu-west-1', 'RUNNING'],
      ['eu-west-1', 'PENDING'],
    ]);
    expect(sent.every(({ command }) => command instanceof DescribeExportTasksCommand)).toBe(true);
  });

  it('reads a task CloudWatch Logs no longer knows as undefined, and other errors as errors', async () => {
    const notFound = Object.assign(new Error('The specified export task does not exist.'), {
      name: 'ResourceNotFoundException',
    });
    expect(
      await sdkLogsApi(
        fakeClients(() => {
          throw notFound;
        }).aws,
      ).describeTask('us-east-1', 'gone'),
    ).toBeUndefined();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await expect(
      sdkLogsApi(
        fakeClients(() => {
          throw throttled;
        }).aws,
      ).describeTask('us-east-1', 'x'),
    ).rejects.toBe(throttled);
  });

  it('lists groups by prefix with their creation and retention, page by page', async () => {
    const { aws, sent } = fakeClients(() => ({
      logGroups: [{ logGroupName: '/app/web', creationTime: 5, retentionInDays: 7 }, { arn: 'no-name' }],
      nextToken: 'next',
    }));
    const page = await sdkLogsApi(aws).listGroups('us-east-1', '/app/', 'token-1');
    expect(page).toEqual({
      groups: [{ region: 'us-east-1', name: '/app/web', creationTime: 5, retentionInDays: 7 }],
      next: 'next',
    });
    expect(sent[0]?.command).toBeInstanceOf(DescribeLogGroupsCommand);
    expect(inputOf(sent[0]?.command ?? {})).toEqual({ logGroupNamePrefix: '/app/', nextToken: 'token-1' });
  });

  it('starts an export with exactly the input given, and refuses an answer without a task id', async () => {
    const input = {
      taskName: 'driftguard-backup-x',
      logGroupName: '/app/web',
      from: 0,
      to: 86_399_999,
      destination: 'bucket',
      destinationPrefix: 'exported-logs/us-east-1/app/web/1970/01/01',
    };
    const { aws, sent } = fakeClients(() => ({ taskId: 't-1' }));
    expect(await sdkLogsApi(aws).createTask('us-east-1', input)).toBe('t-1');
    expect(sent[0]?.command).toBeInstanceOf(CreateExportTaskCommand);
    expect(inputOf(sent[0]?.command ?? {})).toEqual(input);
    await expect(sdkLogsApi(fakeClients(() => ({})).aws).createTask('us-east-1', input)).rejects.toThrow(
      'CreateExportTask of /app/web returned no task id',
    );
  });
});
