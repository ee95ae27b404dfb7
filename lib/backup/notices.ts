/**
 * The log backup's notices: a group whose unexported days retention is about to delete (high), an export that failed
 * or was refused (high), and one digest per completed run. Same shape as the guards' (lib/notices.ts publishInput).
 */
import type { Notice } from '../notices.js';
import type { Severity } from '../rule.js';
import { DAY_MS, type GroupPlan } from './plan.js';
import type { BackupFailure, BackupReport, ExportTaskView } from './report.js';

export const BACKUP_RULE = 'log-backup';
const SUBJECT_LIMIT = 99;

export interface BackupNoticeContext {
  account: string;
  buckets: Record<string, string>;
  prefix: string;
}

/** SNS subjects: printable ASCII under 100 characters; a long group name is cut in its middle. */
function subject(head: string, name: string, tail: string): string {
  const clean = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');
  const room = SUBJECT_LIMIT - clean(head).length - clean(tail).length - 2;
  const shown =
    name.length <= room
      ? name
      : `${name.slice(0, Math.ceil((room - 3) / 2))}...${name.slice(-Math.floor((room - 3) / 2))}`;
  return clean(`${head} ${shown} ${tail}`);
}

const consoleUrl = (region: string, group: string) =>
  `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encodeURIComponent(encodeURIComponent(group))}`;

function notice(
  severity: Severity,
  outcome: string,
  subjectText: string,
  lines: string[],
  document: Record<string, unknown>,
  account: string,
): Notice {
  return {
    subject: subjectText,
    severity,
    text: lines.join('\n'),
    document: { kind: 'driftguard.backup', version: 1, rule: BACKUP_RULE, severity, outcome, account, ...document },
    attributes: { severity, rule: BACKUP_RULE, outcome, account },
  };
}

/** A group whose oldest unexported day retention deletes within two days (or has deleted already). */
export function dangerNotice(plan: GroupPlan, ctx: BackupNoticeContext, now: number): Notice {
  const danger = plan.danger;
  if (!danger) throw new Error(`group ${plan.group} is in no danger`);
  const hours = Math.max(0, Math.round((Date.parse(danger.deletesAt) - now) / 3_600_000));
  const raiseTo = Math.ceil((now - Date.parse(`${danger.day}T00:00:00Z`)) / DAY_MS) + 7;
  const lostText = plan.lost.length
    ? `${plan.lost.length} day(s) were deleted by retention before they were exported (${plan.lost[0]}..${plan.lost[plan.lost.length - 1]}): they are lost.`
    : '';
  const steps = [
    `Raise the group's retention until the backup catches up: aws logs put-retention-policy --region ${plan.region} --log-group-name '${plan.group}' --retention-in-days <a value of at least ${raiseTo}>`,
    `Or export the days now: npm run backup -- --regions ${plan.region} (and check that no other export task holds the account's one slot: aws logs describe-export-tasks --status-code RUNNING)`,
  ];
  return notice(
    'high',
    'needs-human',
    subject(
      '[driftguard] HIGH log group',
      plan.group,
      plan.lost.length
        ? `backup: ${plan.lost.length} day(s) lost to retention`
        : `backup: ${danger.day} deleted in ${hours}h`,
    ),
    [
      `NEEDS A HUMAN: log group ${plan.group} (${plan.region}) may lose days before they are backed up`,
      '',
      `What drifted: its oldest unexported day, ${danger.day}, is deleted by its retention (${danger.retentionInDays} days) from ${danger.deletesAt}.`,
      ...(lostText ? [lostText] : []),
      `Backlog: ${plan.due.length + plan.pending.length} day(s) of this group still to export (one export task at a time per account).`,
      'What was done: the backup exports the oldest days first and goes on at the next run; nothing else was changed.',
      'What a human must do:',
      ...steps.map((step) => `  - ${step}`),
      '',
      `Rule: ${BACKUP_RULE}   Severity: high   Outcome: needs-human`,
      `Account: ${ctx.account}   Region: ${plan.region}`,
      `Console: ${consoleUrl(plan.region, plan.group)}`,
    ],
    {
      region: plan.region,
      logGroup: plan.group,
      oldestUnexportedDay: danger.day,
      deletesAt: danger.deletesAt,
      retentionInDays: danger.retentionInDays,
      backlogDays: plan.due.length + plan.pending.length,
      lostDays: plan.lost,
      nextSteps: steps,
    },
    ctx.account,
  );
}

/** An export that failed three times, or that CloudWatch Logs refused (the bucket's policy, a bucket elsewhere). */
export function failureNotice(failure: BackupFailure, ctx: BackupNoticeContext): Notice {
  const bucket = ctx.buckets[failure.region] ?? '(none)';
  const refused = /^(InvalidParameterException|AccessDeniedException|BucketNotVerified)/.test(failure.error);
  const steps = refused
    ? [
        `  - Check that bucket ${bucket} is this account's (${ctx.account}) and in ${failure.region}, and that its policy lets logs.${failure.region}.amazonaws.com s3:GetBucketAcl on it and s3:PutObject (with bucket-owner-full-control) under ${ctx.prefix}/ for this account (aws:SourceAccount ${ctx.account}); with SSE-KMS, that its key lets logs.${failure.region}.amazonaws.com use it.`,
        `  - Then run: npm run backup -- --regions ${failure.region}`,
      ]
    : [
        `  - Read the task's status: aws logs describe-export-tasks --region ${failure.region} --status-code FAILED`,
        `  - Then run: npm run backup -- --regions ${failure.region} (the day is retried; no day is exported twice)`,
      ];
  return notice(
    'high',
    'failed',
    subject('[driftguard] HIGH log group', failure.group, `backup FAILED for ${failure.day}`),
    [
      `FAILED: the backup of log group ${failure.group} (${failure.region}) for ${failure.day}`,
      '',
      `What happened: ${failure.error}`,
      refused
        ? `What was done: nothing more is exported to ${bucket} in ${failure.region} by this run; the cursors stay where they are.`
        : `What was done: the export was tried 3 times; the group's later days wait, and its cursor stays at the day before.`,
      'What a human must do:',
      ...steps,
      '',
      `Rule: ${BACKUP_RULE}   Severity: high   Outcome: failed`,
      `Account: ${ctx.account}   Region: ${failure.region}`,
      `Console: ${consoleUrl(failure.region, failure.group)}`,
    ],
    { ...failure, bucket, nextSteps: steps.map((step) => step.replace(/^ {2}- /, '')) },
    ctx.account,
  );
}

/**
 * A task the job did not start holds the account's one export slot: under the job's own name but exporting something
 * else (high: someone made it look like the backup's), or for hours (medium: the backup waits behind it).
 */
export function foreignTaskNotice(
  region: string,
  task: ExportTaskView,
  impostor: boolean,
  heldMs: number | undefined,
  ctx: BackupNoticeContext,
): Notice {
  const severity: Severity = impostor ? 'high' : 'medium';
  const held = heldMs === undefined ? 'for an unknown time' : `for ${Math.floor(heldMs / 3_600_000)}h`;
  const what = `${task.logGroupName ?? '?'} ${task.from === undefined ? '?' : new Date(task.from).toISOString()}..${task.to === undefined ? '?' : new Date(task.to).toISOString()} to s3://${task.destination ?? '?'}/${task.destinationPrefix ?? ''}`;
  const steps = [
    `Find who created it: CloudTrail CreateExportTask events in ${region} (aws cloudtrail lookup-events --region ${region} --lookup-attributes AttributeKey=EventName,AttributeValue=CreateExportTask)`,
    `If it is not legitimate, cancel it: aws logs cancel-export-task --region ${region} --task-id ${task.taskId}`,
  ];
  return notice(
    severity,
    'needs-human',
    subject(
      `[driftguard] ${severity.toUpperCase()} log backup:`,
      `export task ${task.taskId}`,
      impostor ? 'uses the backup name' : `holds the slot ${held}`,
    ),
    [
      `NEEDS A HUMAN: export task ${task.taskId} (${task.taskName ?? 'no name'}), which the backup did not start, holds the account's one export slot in ${region} ${held}`,
      '',
      `It exports: ${what}`,
      impostor
        ? 'It carries the name the backup gives its own task for this group and day, but exports something else: it was not adopted, and the day is not recorded as exported.'
        : 'The backup waits behind it: no day of any group is exported while it holds the slot.',
      'What was done: nothing; the backup keeps waiting and exports the day itself once the slot is free.',
      'What a human must do:',
      ...steps.map((step) => `  - ${step}`),
      '',
      `Rule: ${BACKUP_RULE}   Severity: ${severity}   Outcome: needs-human`,
      `Account: ${ctx.account}   Region: ${region}`,
    ],
    { region, task, impostor, heldMs, nextSteps: steps },
    ctx.account,
  );
}

/** One digest per completed run: groups, days exported, backlog, what is in danger or failed. */
export function digestNotice(report: BackupReport, ctx: BackupNoticeContext): Notice {
  const troubled = report.failed.length > 0 || report.inDanger.length > 0 || report.lostDays > 0;
  const severity: Severity = troubled ? 'high' : 'low';
  const text = `[driftguard] log backup: ${report.exportedDays} day(s) of ${report.exportedGroups} group(s) exported, ${report.backlog} left`;
  const subjectText = (troubled ? `${text}, ${report.failed.length} failed` : text).slice(0, SUBJECT_LIMIT);
  return notice(
    severity,
    'digest',
    subjectText,
    [
      `driftguard log backup ${report.runId}${report.dryRun ? ' (dry run)' : ''}, ${report.startedAt} to ${report.finishedAt ?? 'unfinished'}`,
      `Account ${ctx.account}, regions ${report.regions.join(', ')}`,
      `Buckets: ${Object.entries(ctx.buckets)
        .map(([region, bucket]) => `${region} s3://${bucket}/${ctx.prefix}/${region}/`)
        .join(', ')}`,
      '',
      `Log groups looked at: ${report.groups}`,
      `Days ${report.dryRun ? 'to export (dry run: nothing exported)' : 'exported'}: ${report.exportedDays} (of ${report.exportedGroups} group(s))`,
      `Backlog (due, not exported): ${report.backlog} day(s)`,
      ...(report.lostDays ? [`Lost to retention before export: ${report.lostDays} day(s)`] : []),
      ...(report.inDanger.length
        ? [
            'Groups whose oldest unexported day retention deletes within two days:',
            ...report.inDanger.map((d) => `  - ${d.region} ${d.group}: ${d.day} from ${d.deletesAt}`),
          ]
        : []),
      ...(report.failed.length
        ? ['Failed:', ...report.failed.map((f) => `  - ${f.region} ${f.group} ${f.day}: ${f.error}`)]
        : []),
      '',
      "Full report: the backup function's log, or `npm run backup -- --json` locally.",
    ],
    { report },
    ctx.account,
  );
}
