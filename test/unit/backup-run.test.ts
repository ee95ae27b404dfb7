/**
 * The backup run's paths the emulator cannot produce (moto completes every export at once): a task still PENDING or
 * RUNNING, the account's one slot held by another task, LimitExceededException, FAILED retried twice then notified,
 * a run stopped at its deadline and continued. CloudWatch Logs is a scripted fake behind the injected interface.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../lib/backup/aws.js';
import { DAY_MS, exportPrefix, exportRange, exportTaskName, type GroupFacts } from '../../lib/backup/plan.js';
import {
  type BackupLogsApi,
  type BackupOptions,
  type BackupStore,
  type CreateExportInput,
  type ExportedDay,
  type ExportTaskView,
  exportsExactly,
  LEASE_MS,
  runBackup,
} from '../../lib/backup/run.js';
import type { Notice } from '../../lib/notices.js';

const START = Date.parse('2026-12-01T06:00:00Z');
const REGION = 'us-east-1';
const POLL_MS = 10_000;

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });

/** CloudWatch Logs as a script: each created task walks through its statuses, one per DescribeExportTasks. */
class ScriptedLogs implements BackupLogsApi {
  created: CreateExportInput[] = [];
  /** The statuses of the next tasks created, in order; a task stays at its last status. */
  scripts: string[][] = [];
  /** Errors the next CreateExportTask calls throw, before any succeeds. */
  createErrors: Error[] = [];
  /** Another's active task (in one region, or all), for this many looks at the slot. */
  foreign: { region?: string; view: ExportTaskView; looks: number } | undefined;
  private tasks = new Map<string, { view: ExportTaskView; statuses: string[] }>();

  constructor(private groups: GroupFacts[]) {}

  async listGroups(_region: string, prefix: string | undefined) {
    return { groups: this.groups.filter((g) => prefix === undefined || g.name.startsWith(prefix)) };
  }

  async activeTasks(region: string): Promise<ExportTaskView[]> {
    const active: ExportTaskView[] = [];
    if (this.foreign && this.foreign.looks > 0 && (this.foreign.region ?? region) === region) {
      this.foreign.looks -= 1;
      active.push(this.foreign.view);
    }
    for (const { view } of this.tasks.values())
      if (view.status === 'RUNNING' || view.status === 'PENDING') active.push(view);
    return active;
  }

  async createTask(_region: string, input: CreateExportInput) {
    const error = this.createErrors.shift();
    if (error) throw error;
    this.created.push(input);
    const taskId = `task-${this.created.length}`;
    const statuses = [...(this.scripts.shift() ?? ['COMPLETED'])];
    this.tasks.set(taskId, {
      view: { ...input, taskId, status: 'PENDING', message: undefined, createdAt: START },
      statuses,
    });
    return taskId;
  }

  async completedTask(_region: string, input: CreateExportInput) {
    for (const { view } of this.tasks.values())
      if (view.status === 'COMPLETED' && exportsExactly(view, input)) return view.taskId;
    return undefined;
  }

  async describeTask(_region: string, taskId: string) {
    const task = this.tasks.get(taskId);
    if (!task) return undefined;
    const status = task.statuses.length > 1 ? task.statuses.shift() : task.statuses[0];
    task.view = { ...task.view, status, message: status === 'FAILED' ? 'export failed' : undefined };
    return task.view;
  }

  /** A task already running, as a run that stopped before recording it would leave it (or someone else's). */
  leaveRunning(input: CreateExportInput, statuses: string[]) {
    const taskId = `left-${this.tasks.size + 1}`;
    this.tasks.set(taskId, { view: { ...input, taskId, status: 'RUNNING', message: undefined }, statuses });
    return taskId;
  }
}

const exportInput = (group: string, day: string): CreateExportInput => ({
  taskName: exportTaskName(REGION, group, day),
  logGroupName: group,
  ...exportRange(day),
  destination: 'backup-bucket',
  destinationPrefix: exportPrefix('exported-logs', REGION, group, day),
});

const groupFacts = (name: string, extra: Partial<GroupFacts> = {}): GroupFacts => ({
  region: REGION,
  name,
  creationTime: Date.parse('2026-01-01T00:00:00Z'),
  retentionInDays: undefined,
  ...extra,
});

function harness(groups: GroupFacts[], store: BackupStore = memoryStore()) {
  const logs = new ScriptedLogs(groups);
  const notices: Notice[] = [];
  const days: ExportedDay[] = [];
  let now = START;
  const bucketProblems: Record<string, string> = {};
  const deps = {
    logs,
    buckets: { problem: async (region: string) => bucketProblems[region] },
    store,
    publish: async (notice: Notice) => {
      notices.push(notice);
    },
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  const run = (options: Partial<BackupOptions> = {}) =>
    runBackup(deps, {
      regions: [REGION],
      buckets: { [REGION]: 'backup-bucket' },
      prefix: 'exported-logs',
      logGroupPrefixes: [],
      sinceDays: 1,
      // The run's day maths without settling (backup-plan.test.ts covers settleHours).
      settleHours: 0,
      account: '123456789012',
      pollMs: POLL_MS,
      onDay: (day) => days.push(day),
      ...options,
    });
  return { logs, store, notices, days, run, bucketProblems, elapsed: () => now - START };
}

const kinds = (notices: Notice[]) => notices.map((n) => `${n.attributes.outcome}:${n.severity}`);

describe('a backup run', () => {
  it('exports each due day of each group, oldest first, one task each, then sends one digest', async () => {
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db')]);
    const report = await h.run({ sinceDays: 2 });
    expect(h.logs.created.map((t) => [t.logGroupName, t.destinationPrefix, t.from, t.to])).toEqual([
      [
        '/app/web',
        'exported-logs/us-east-1/app/web/2026/11/29',
        START - 30 * 3_600_000 - DAY_MS,
        START - 6 * 3_600_000 - DAY_MS - 1,
      ],
      ['/app/web', 'exported-logs/us-east-1/app/web/2026/11/30', START - 30 * 3_600_000, START - 6 * 3_600_000 - 1],
      [
        '/app/db',
        'exported-logs/us-east-1/app/db/2026/11/29',
        START - 30 * 3_600_000 - DAY_MS,
        START - 6 * 3_600_000 - DAY_MS - 1,
      ],
      ['/app/db', 'exported-logs/us-east-1/app/db/2026/11/30', START - 30 * 3_600_000, START - 6 * 3_600_000 - 1],
    ]);
    expect(report).toMatchObject({ complete: true, groups: 2, exportedDays: 4, exportedGroups: 2, backlog: 0 });
    expect(h.days.map((d) => d.destination)[0]).toBe('s3://backup-bucket/exported-logs/us-east-1/app/web/2026/11/29/');
    expect(kinds(h.notices)).toEqual(['digest:low']);
    expect(await h.store.cursors(REGION)).toEqual(
      new Map([
        ['/app/web', '2026-11-30'],
        ['/app/db', '2026-11-30'],
      ]),
    );
    // A second run starts no task and still reports.
    await h.run();
    expect(h.logs.created).toHaveLength(4);
    expect(kinds(h.notices)).toEqual(['digest:low', 'digest:low']);
  });

  it('waits for its own PENDING and RUNNING task until COMPLETED before the next day', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.scripts = [['PENDING', 'RUNNING', 'RUNNING', 'COMPLETED']];
    const report = await h.run({ sinceDays: 2 });
    expect(report?.exportedDays).toBe(2);
    expect(h.logs.created).toHaveLength(2);
    expect(h.elapsed()).toBe(3 * POLL_MS);
  });

  it('waits while another task holds the slot, and starts nothing beside it', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.foreign = {
      view: { taskId: 'someone-else', taskName: 'nightly', status: 'RUNNING', message: undefined },
      looks: 2,
    };
    const report = await h.run();
    expect(report).toMatchObject({ complete: true, exportedDays: 1 });
    expect(h.elapsed()).toBe(2 * POLL_MS);
    expect(h.logs.created).toHaveLength(1);
  });

  it('reads LimitExceededException as a busy slot, and tries again after a wait', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.createErrors = [awsError('LimitExceededException', 'Resource limit exceeded.')];
    const report = await h.run();
    expect(report).toMatchObject({ complete: true, exportedDays: 1, failed: [] });
    expect(h.elapsed()).toBe(POLL_MS);
  });

  it('retries a FAILED task twice; the third failure is notified, the group’s later days wait, others go on', async () => {
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db')]);
    h.logs.scripts = [['FAILED'], ['FAILED'], ['FAILED']];
    const report = await h.run({ sinceDays: 2 });
    expect(h.logs.created.map((t) => `${t.logGroupName} ${t.destinationPrefix.slice(-10)}`)).toEqual([
      '/app/web 2026/11/29',
      '/app/web 2026/11/29',
      '/app/web 2026/11/29',
      '/app/db 2026/11/29',
      '/app/db 2026/11/30',
    ]);
    expect(report).toMatchObject({ complete: true, exportedDays: 2, backlog: 2 });
    expect(report?.failed).toEqual([
      {
        region: REGION,
        group: '/app/web',
        day: '2026-11-29',
        error: 'export task task-3 FAILED 3 times: export failed',
      },
    ]);
    expect(kinds(h.notices)).toEqual(['failed:high', 'digest:high']);
    expect(h.notices[0]?.subject).toBe('[driftguard] HIGH log group /app/web backup FAILED for 2026-11-29');
    expect(h.notices[0]?.text).toContain('aws logs describe-export-tasks --region us-east-1 --status-code FAILED');
    expect((await h.store.cursors(REGION)).get('/app/web')).toBeUndefined();
  });

  it('exports a day whose first attempt FAILED once, exactly once', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.scripts = [['FAILED'], ['COMPLETED']];
    const report = await h.run();
    expect(report).toMatchObject({ exportedDays: 1, failed: [] });
    expect(h.logs.created).toHaveLength(2);
  });

  it('stops at its deadline with its task recorded; the continuation follows that task and starts no other for the day', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.scripts = [['RUNNING', 'RUNNING', 'RUNNING', 'COMPLETED']];
    const cut = await h.run({ sinceDays: 2, deadline: START + 2.5 * POLL_MS });
    expect(cut).toMatchObject({ complete: false, exportedDays: 0 });
    expect(cut?.waiting).toMatch(/^export task task-1 \(\/app\/web 2026-11-29\) is RUNNING$/);
    expect(await h.store.loadTask()).toMatchObject({ taskId: 'task-1', day: '2026-11-29', attempt: 1 });
    expect(await h.store.loadRun()).toMatchObject({ runId: cut?.runId, complete: false });
    expect(h.notices).toEqual([]);

    const rest = await h.run({ continueOnly: true, sinceDays: 2 });
    expect(rest).toMatchObject({ runId: cut?.runId, complete: true, exportedDays: 2 });
    expect(h.logs.created.map((t) => t.destinationPrefix.slice(-10))).toEqual(['2026/11/29', '2026/11/30']);
    expect(await h.store.loadTask()).toBeUndefined();
    expect(await h.store.loadRun()).toBeUndefined();
    expect(kinds(h.notices)).toEqual(['digest:low']);
  });

  it('skips a day another run exported after this one read the cursors (the CLI beside the function)', async () => {
    const shared = memoryStore();
    const racing: BackupStore = {
      ...shared,
      cursors: async (region) => {
        const stale = await shared.cursors(region);
        await shared.saveCursor(region, '/app/web', '2026-11-30');
        return stale;
      },
    };
    const h = harness([groupFacts('/app/web')], racing);
    const report = await h.run();
    expect(h.logs.created).toEqual([]);
    expect(report).toMatchObject({ complete: true, exportedDays: 0 });
  });

  it('counts a group whose days span two invocations once', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.scripts = [['COMPLETED'], ['RUNNING', 'RUNNING', 'COMPLETED']];
    const cut = await h.run({ sinceDays: 2, deadline: START + 1.5 * POLL_MS });
    expect(cut).toMatchObject({ complete: false, exportedDays: 1, exportedGroups: 1 });
    const rest = await h.run({ continueOnly: true, sinceDays: 2 });
    expect(rest).toMatchObject({ complete: true, exportedDays: 2, exportedGroups: 1 });
    expect(h.logs.created).toHaveLength(2);
  });

  it('a crash as it records a COMPLETED day (the cursor write fails) leaves the task to follow: no second export', async () => {
    const store = memoryStore();
    const saveCursor = store.saveCursor;
    let failures = 1;
    store.saveCursor = async (...args) => {
      if (failures-- > 0) throw awsError('ProvisionedThroughputExceededException');
      return saveCursor(...args);
    };
    const h = harness([groupFacts('/app/web')], store);
    await expect(h.run()).rejects.toThrow('ProvisionedThroughputExceededException');
    const report = await h.run();
    expect(h.logs.created).toHaveLength(1);
    expect(await store.cursor(REGION, '/app/web')).toBe('2026-11-30');
    expect(await store.loadTask()).toBeUndefined();
    expect(report).toMatchObject({ complete: true, exportedDays: 1 });
  });

  it('a crash between CreateExportTask and recording the task: the next run finds it COMPLETED by its parameters, starts no other', async () => {
    const store = memoryStore();
    const saveTask = store.saveTask;
    let failures = 1;
    store.saveTask = async (task) => {
      if (task && failures-- > 0) throw awsError('ProvisionedThroughputExceededException');
      return saveTask(task);
    };
    const h = harness([groupFacts('/app/web')], store);
    await expect(h.run()).rejects.toThrow('ProvisionedThroughputExceededException');
    // The task went on and completed meanwhile: it is no longer active, so adoption by the active list cannot see it.
    expect((await h.logs.describeTask(REGION, 'task-1'))?.status).toBe('COMPLETED');
    const report = await h.run();
    expect(h.logs.created).toHaveLength(1);
    expect(report).toMatchObject({ complete: true, exportedDays: 1 });
    expect(await store.cursor(REGION, '/app/web')).toBe('2026-11-30');
    expect(await store.exportedBy(REGION, '/app/web', '2026-11-30')).toBe('task-1');
    expect(await store.loadIntent()).toBeUndefined();
  });

  it('starts nothing while another run holds the lease (the CLI beside the function); runs once it has expired', async () => {
    const store = memoryStore();
    await store.takeLease('run-cli', START + LEASE_MS, START);
    const h = harness([groupFacts('/app/web')], store);
    const refused = await h.run();
    expect(refused).toMatchObject({ complete: false, exportedDays: 0 });
    expect(refused?.waiting).toBe(
      `another backup run (run-cli) holds the lease until ${new Date(START + LEASE_MS).toISOString()}`,
    );
    expect(await h.run({ continueOnly: true })).toBeUndefined();
    expect([h.logs.created, h.notices, await store.loadRun()]).toEqual([[], [], undefined]);

    await store.takeLease('run-cli', START - 1, START - LEASE_MS);
    expect(await h.run()).toMatchObject({ complete: true, exportedDays: 1 });
    // Released at the end: the next run takes it.
    expect(await store.takeLease('next', START + LEASE_MS, START)).toEqual({ held: true });
  });

  it('stops, writing nothing more, when another run took the lease while it waited', async () => {
    const store = memoryStore();
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db')], store);
    h.logs.scripts = [['RUNNING', 'RUNNING', 'COMPLETED']];
    // Another holder takes the lease at the first look at the task (as if this run's had expired).
    const describe = h.logs.describeTask.bind(h.logs);
    let stolen = false;
    h.logs.describeTask = async (region, taskId) => {
      if (!stolen) {
        stolen = true;
        await store.releaseLease((await store.takeLease('probe', 0, 0)).holder ?? '');
        await store.takeLease('run-other', START + 10 * LEASE_MS, START + 10 * LEASE_MS);
      }
      return describe(region, taskId);
    };
    const report = await h.run();
    expect(report).toMatchObject({ complete: false, waiting: 'another backup run (run-other) took the lease' });
    expect(h.logs.created).toHaveLength(1);
    expect(await store.loadRun()).toBeUndefined();
    expect(h.notices).toEqual([]);
  });

  it('does nothing on a continuation when no run is open', async () => {
    const h = harness([groupFacts('/app/web')]);
    expect(await h.run({ continueOnly: true })).toBeUndefined();
    expect(h.logs.created).toEqual([]);
    expect(h.notices).toEqual([]);
  });

  it('adopts a task of its own found running (a run stopped before recording it) instead of starting another', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.leaveRunning(exportInput('/app/web', '2026-11-30'), ['RUNNING', 'COMPLETED']);
    const report = await h.run();
    expect(report).toMatchObject({ exportedDays: 1 });
    expect(h.logs.created).toEqual([]);
    expect(await h.store.exportedBy(REGION, '/app/web', '2026-11-30')).toBe('left-1');
    expect(kinds(h.notices)).toEqual(['digest:low']);
  });

  // Anyone with logs:CreateExportTask can start a task under the job's predictable name: one that exports anything
  // but exactly this day of this group to this bucket and prefix is not adopted, and the day is not recorded.
  it.each([
    ['a 1 ms range', { to: Date.parse('2026-11-30T00:00:00.000Z') }],
    ['another bucket', { destination: 'attacker-bucket' }],
    ['another prefix', { destinationPrefix: 'exported-logs/elsewhere' }],
    ['another group', { logGroupName: '/empty' }],
  ])(
    'does not adopt a task under its own name that exports %s: waits, notifies (high, once), exports the day itself',
    async (_, change) => {
      const h = harness([groupFacts('/app/web')]);
      const impostor = 'impostor-1';
      // The impostor holds the slot for two looks (it then completes, and the slot is free).
      h.logs.foreign = {
        view: {
          ...exportInput('/app/web', '2026-11-30'),
          ...change,
          taskId: impostor,
          status: 'RUNNING',
          message: undefined,
        },
        looks: 2,
      };
      const report = await h.run();
      expect(h.logs.created).toEqual([exportInput('/app/web', '2026-11-30')]);
      expect(report).toMatchObject({ complete: true, exportedDays: 1 });
      expect(h.days.map((d) => d.taskId)).toEqual(['task-1']);
      // The impostor's directory under the day's prefix is not the backup's: only task-1 is recorded for the day.
      expect(await h.store.exportedBy(REGION, '/app/web', '2026-11-30')).toBe('task-1');
      expect(kinds(h.notices)).toEqual(['needs-human:high', 'digest:low']);
      expect(h.notices[0]?.subject).toBe(`[driftguard] HIGH log backup: export task ${impostor} uses the backup name`);
      expect(h.notices[0]?.text).toContain(`aws logs cancel-export-task --region ${REGION} --task-id ${impostor}`);
    },
  );

  it.each([
    ['1 hour: only the run says so', 3_600_000, []],
    ['7 hours: notified (medium), once', 7 * 3_600_000, ['needs-human:medium']],
  ])('a task it did not start holding the slot for %s', async (_, age, notified) => {
    const h = harness([groupFacts('/app/web')]);
    h.logs.foreign = {
      view: { taskId: 'nightly-1', taskName: 'nightly', status: 'RUNNING', message: undefined, createdAt: START - age },
      looks: 3,
    };
    const report = await h.run();
    expect(report).toMatchObject({ complete: true, exportedDays: 1 });
    expect(kinds(h.notices)).toEqual([...notified, 'digest:low']);
    if (notified.length)
      expect(h.notices[0]?.subject).toBe('[driftguard] MEDIUM log backup: export task nightly-1 holds the slot for 7h');
  });

  it('stops a region whose bucket refuses (one notice), and goes on elsewhere', async () => {
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db')]);
    h.logs.createErrors = [
      awsError(
        'InvalidParameterException',
        'GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation.',
      ),
    ];
    const report = await h.run({ sinceDays: 2 });
    expect(h.logs.created).toEqual([]);
    expect(report).toMatchObject({ complete: true, exportedDays: 0, backlog: 4 });
    expect(kinds(h.notices)).toEqual(['failed:high', 'digest:high']);
    expect(h.notices[0]?.text).toContain('logs.us-east-1.amazonaws.com s3:GetBucketAcl');
  });

  it('exports nothing to a bucket not verified as this account’s in the region (a squatted name): one notice', async () => {
    const h = harness([groupFacts('/app/web')]);
    h.bucketProblems[REGION] =
      'bucket backup-bucket is not verified as this account’s (123456789012) in us-east-1: 403';
    const report = await h.run();
    expect(h.logs.created).toEqual([]);
    expect(report).toMatchObject({ complete: true, exportedDays: 0, backlog: 1 });
    expect(report?.failed.map((f) => f.error)).toEqual([`BucketNotVerified: ${h.bucketProblems[REGION]}`]);
    expect(kinds(h.notices)).toEqual(['failed:high', 'digest:high']);
    expect(h.notices[0]?.text).toContain(
      "Check that bucket backup-bucket is this account's (123456789012) and in us-east-1",
    );
  });

  it('keeps a refused region waiting for the rest of its run, without a second notice', async () => {
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db')]);
    const regions = [REGION, 'eu-west-1'];
    const buckets = { [REGION]: 'backup-bucket', 'eu-west-1': 'eu-backup-bucket' };
    h.logs.createErrors = [awsError('AccessDeniedException', 'not authorized to perform logs:CreateExportTask')];
    // us-east-1 is refused; then another task holds eu-west-1's slot and the run stops at its deadline.
    h.logs.foreign = {
      region: 'eu-west-1',
      view: { taskId: 'x', taskName: 'other', status: 'RUNNING', message: undefined },
      looks: 1,
    };
    const cut = await h.run({ regions, buckets, deadline: START + POLL_MS / 2 });
    expect(cut).toMatchObject({ complete: false, failed: [{ region: REGION, group: '/app/web' }] });
    const rest = await h.run({ regions, buckets, continueOnly: true });
    expect(rest).toMatchObject({ complete: true, exportedDays: 2, backlog: 2 });
    expect(rest?.failed).toHaveLength(1);
    expect(kinds(h.notices)).toEqual(['failed:high', 'digest:high']);
    expect(h.logs.created.map((t) => t.destination)).toEqual(['eu-backup-bucket', 'eu-backup-bucket']);
  });

  it('notifies a group whose oldest unexported day retention deletes within two days, once per run', async () => {
    const h = harness([groupFacts('/app/audit', { retentionInDays: 3 })]);
    // Its oldest unexported day, Nov 28, is deleted from Dec 1 00:00; a busy slot makes the run stop and continue.
    const store = h.store;
    await store.saveCursor(REGION, '/app/audit', '2026-11-27');
    h.logs.foreign = { view: { taskId: 'x', taskName: 'other', status: 'RUNNING', message: undefined }, looks: 1 };
    const cut = await h.run({ deadline: START + POLL_MS / 2 });
    expect(cut?.complete).toBe(false);
    expect(kinds(h.notices)).toEqual(['needs-human:high']);
    expect(h.notices[0]?.subject).toBe('[driftguard] HIGH log group /app/audit backup: 2026-11-28 deleted in 0h');
    expect(h.notices[0]?.text).toContain(
      "aws logs put-retention-policy --region us-east-1 --log-group-name '/app/audit' --retention-in-days",
    );
    const rest = await h.run({ continueOnly: true });
    expect(rest).toMatchObject({ complete: true, exportedDays: 3 });
    expect(rest?.inDanger).toEqual([
      { region: REGION, group: '/app/audit', day: '2026-11-28', deletesAt: '2026-12-01T00:00:00.000Z' },
    ]);
    expect(kinds(h.notices)).toEqual(['needs-human:high', 'digest:high']);
  });

  it('in a dry run plans the days and writes nothing: no task, no cursor, no notice', async () => {
    const h = harness([groupFacts('/app/web')]);
    const report = await h.run({ dryRun: true, sinceDays: 2 });
    expect(report).toMatchObject({ dryRun: true, complete: true, exportedDays: 2 });
    expect(h.days.map((d) => [d.outcome, d.day])).toEqual([
      ['planned', '2026-11-29'],
      ['planned', '2026-11-30'],
    ]);
    expect(h.logs.created).toEqual([]);
    expect(h.notices).toEqual([]);
    expect(await h.store.cursors(REGION)).toEqual(new Map());
  });

  it('backs up only the groups whose names start with a selected prefix, each once', async () => {
    const h = harness([groupFacts('/app/web'), groupFacts('/app/db'), groupFacts('/other')]);
    await h.run({ logGroupPrefixes: ['/app/', '/app/w'] });
    expect(h.logs.created.map((t) => t.logGroupName)).toEqual(['/app/web', '/app/db']);
  });
});
