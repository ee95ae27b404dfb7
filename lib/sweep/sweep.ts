/**
 * The sweep: the drift no event reported, found and fixed across regions with the guards' own decisions. It streams
 * pages (never a whole inventory in memory), and stops before a deadline with a cursor in the state table, from
 * which the next run continues. One digest notice per completed sweep.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, type LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClients, stateRegion } from '../aws.js';
import { publishInput } from '../notices.js';
import { type Settled, settleDecision } from '../pipeline.js';
import type { AnyRule, Decision, Outcome, RuleContext } from '../rule.js';
import { configuredKeyArn, keyProtection, SWEEP_EVENT } from '../rules/kms-key-protection.js';
import { logGroupEncryptionRetention, logGroupState } from '../rules/log-group-encryption-retention.js';
import { decideContainment, mfaQuarantine, quarantineMarker, readIamUser } from '../rules/mfa-quarantine.js';
import { captureTrailBaseline, trailIntegrity } from '../rules/trail-integrity.js';
import type { Settings } from '../settings.js';
import { TrailBaselineStore } from '../trail-baselines.js';

export const PASSES = ['log-groups', 'trails', 'keys', 'users'] as const;
export type Pass = (typeof PASSES)[number];

export interface SweepItem {
  rule: string;
  outcome: Outcome;
  region: string;
  resource: string;
  reason: string;
  actions: string[];
}

export interface SweepReport {
  sweepId: string;
  startedAt: string;
  finishedAt: string | undefined;
  regions: string[];
  mode: Settings['mode'];
  dryRun: boolean;
  complete: boolean;
  /** Resources looked at, per pass. */
  seen: Record<string, number>;
  counts: Record<string, Partial<Record<Outcome, number>>>;
  /** The first items of each rule and outcome (the full report is the log, or --json locally). */
  first: Record<string, SweepItem[]>;
}

/** Where a sweep stopped: the pass, the region and the page token, with what it found so far. */
interface Cursor {
  pass: Pass;
  regionIndex: number;
  nextToken: string | undefined;
  report: SweepReport;
}

export interface SweepOptions {
  regions: string[];
  account: string;
  dryRun?: boolean;
  /** Stop (and save a cursor) when this time (ms since epoch) is near. */
  deadline?: number;
  /** Every item as it is settled (the CLI's --json lines, the Lambda's log). */
  onItem?: (item: SweepItem) => void;
  /** Start over even when a cursor is saved. */
  fresh?: boolean;
  /** Only continue a saved sweep; with none saved, do nothing (the frequent continuation schedule). */
  continueOnly?: boolean;
}

const FIRST_ITEMS = 5;
const PAGE_CONCURRENCY = 8;
const CURSOR_KEY = { pk: { S: 'sweep#cursor' }, sk: { S: 'current' } };

function newReport(options: SweepOptions, settings: Settings): SweepReport {
  const startedAt = new Date().toISOString();
  return {
    sweepId: `sweep-${startedAt}`,
    startedAt,
    finishedAt: undefined,
    regions: options.regions,
    mode: settings.mode,
    dryRun: options.dryRun ?? false,
    complete: false,
    seen: {},
    counts: {},
    first: {},
  };
}

function record(report: SweepReport, item: SweepItem, onItem?: (item: SweepItem) => void) {
  const counts = report.counts[item.rule] ?? {};
  report.counts[item.rule] = counts;
  counts[item.outcome] = (counts[item.outcome] ?? 0) + 1;
  const key = `${item.rule}#${item.outcome}`;
  const first = report.first[key] ?? [];
  report.first[key] = first;
  if (first.length < FIRST_ITEMS && item.outcome !== 'compliant') first.push(item);
  onItem?.(item);
}

function itemOf(rule: AnyRule, region: string, resource: string, settled: Settled): SweepItem {
  return {
    rule: rule.id,
    outcome: settled.outcome,
    region,
    resource,
    reason: settled.decision.needsHuman.length
      ? `${settled.reason}; ${settled.decision.needsHuman.join(' ')}`
      : settled.reason,
    actions: settled.done.map((action) => action.summary),
  };
}

async function settle(rule: AnyRule, target: unknown, state: unknown, decision: Decision, ctx: SweepContext) {
  return settleDecision(rule, target, state, decision, { settings: ctx.settings, aws: ctx.aws, dryRun: ctx.dryRun });
}

interface SweepContext extends RuleContext {
  dryRun: boolean;
  report: SweepReport;
  options: SweepOptions;
}

async function inBatches<T>(items: T[], work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += PAGE_CONCURRENCY)
    await Promise.all(items.slice(i, i + PAGE_CONCURRENCY).map(work));
}

async function sweepLogGroup(ctx: SweepContext, region: string, group: LogGroup) {
  const rule = logGroupEncryptionRetention;
  const target = { name: String(group.logGroupName), region, account: ctx.options.account };
  const exempt = rule.preScreen?.(target, ctx.settings);
  const state = exempt ? undefined : await logGroupState(target, group, ctx);
  if (!exempt && state === undefined) return;
  const decision = exempt ?? rule.decide(state as never, ctx.settings);
  const settled = await settle(rule, target, state, decision, ctx);
  record(ctx.report, itemOf(rule, region, target.name, settled), ctx.options.onItem);
}

/** One page of a pass; returns the next page token (undefined when the region is done). */
type PageStep = (ctx: SweepContext, region: string, token: string | undefined) => Promise<string | undefined>;

const logGroupPage: PageStep = async (ctx, region, token) => {
  const page = await ctx.aws
    .client(CloudWatchLogsClient, region)
    .send(new DescribeLogGroupsCommand({ nextToken: token, limit: 50 }));
  const groups = page.logGroups ?? [];
  ctx.report.seen['log-groups'] = (ctx.report.seen['log-groups'] ?? 0) + groups.length;
  await inBatches(groups, (group) => sweepLogGroup(ctx, region, group));
  return page.nextToken;
};

const trailPage: PageStep = async (ctx, region) => {
  const { trailList = [] } = await ctx.aws
    .client(CloudTrailClient, region)
    .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
  const store = new TrailBaselineStore(ctx.aws, ctx.settings.stateTable);
  const present = new Set<string>();
  for (const trail of trailList) {
    if (!trail.Name || (trail.HomeRegion && trail.HomeRegion !== region)) continue;
    present.add(String(trail.TrailARN));
    ctx.report.seen.trails = (ctx.report.seen.trails ?? 0) + 1;
    if (!(await store.get(String(trail.TrailARN)))) {
      if (!ctx.dryRun) await captureTrailBaseline(ctx, trail.Name, region, ctx.report.sweepId);
      record(
        ctx.report,
        {
          rule: trailIntegrity.id,
          outcome: 'compliant',
          region,
          resource: trail.Name,
          reason: 'new trail: baseline captured',
          actions: [],
        },
        ctx.options.onItem,
      );
      continue;
    }
    await sweepTrail(ctx, region, trail.Name);
  }
  // A trail with a baseline but no longer listed was deleted while no event was seen: it is re-created.
  for await (const baseline of store.inRegion(region)) {
    if (present.has(baseline.config.trailArn)) continue;
    ctx.report.seen.trails = (ctx.report.seen.trails ?? 0) + 1;
    await sweepTrail(ctx, region, baseline.config.name);
  }
  return undefined;
};

async function sweepTrail(ctx: SweepContext, region: string, name: string) {
  // When it stopped or was deleted is unknown to the sweep: the notice says so.
  const target = {
    name,
    region,
    account: ctx.options.account,
    eventName: SWEEP_EVENT,
    eventId: ctx.report.sweepId,
    eventTime: '',
  };
  const state = await trailIntegrity.inspect(target, ctx);
  if (!state) return;
  const settled = await settle(trailIntegrity, target, state, trailIntegrity.decide(state, ctx.settings), ctx);
  record(ctx.report, itemOf(trailIntegrity, region, name, settled), ctx.options.onItem);
}

/** Keys something depends on (recorded by the guards) and the stack's key, in the swept regions. */
async function protectedKeyArns(ctx: SweepContext, region: string): Promise<string[]> {
  const arns = new Set<string>();
  if (ctx.settings.stateTable) {
    let start: Record<string, never> | undefined;
    do {
      const page = await ctx.aws.client(DynamoDBClient, stateRegion()).send(
        new ScanCommand({
          TableName: ctx.settings.stateTable,
          FilterExpression: 'begins_with(pk, :key)',
          ExpressionAttributeValues: { ':key': { S: 'key#' } },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) arns.add(String(item.pk?.S).slice('key#'.length));
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  }
  const stackKey = await configuredKeyArn(ctx.settings.logKmsKey, ctx.aws.client(KMSClient, region));
  if (stackKey) arns.add(stackKey);
  return [...arns].filter((arn) => arn.split(':')[3] === region);
}

const keyPage: PageStep = async (ctx, region) => {
  for (const keyArn of await protectedKeyArns(ctx, region)) {
    ctx.report.seen.keys = (ctx.report.seen.keys ?? 0) + 1;
    const target = { keyArn, region, account: ctx.options.account, eventName: SWEEP_EVENT };
    const state = await keyProtection.inspect(target, ctx);
    if (!state) continue;
    const settled = await settle(keyProtection, target, state, keyProtection.decide(state, ctx.settings), ctx);
    record(ctx.report, itemOf(keyProtection, region, keyArn, settled), ctx.options.onItem);
  }
  return undefined;
};

/** IAM is global: users are swept once, from us-east-1 (skipped unless it is among the swept regions). */
const userPage: PageStep = async (ctx, region, token) => {
  if (region !== 'us-east-1') return undefined;
  const page = await ctx.aws.client(IAMClient, region).send(new ListUsersCommand({ Marker: token }));
  const now = new Date().toISOString();
  await inBatches(page.Users ?? [], async ({ UserName }) => {
    if (!UserName) return;
    ctx.report.seen.users = (ctx.report.seen.users ?? 0) + 1;
    const user = await readIamUser(ctx.aws, region, UserName, ctx.settings);
    if (!user) return;
    const decision = decideContainment(user, ctx.settings, {
      finding: {
        attribute: 'mfa',
        before: 'no MFA device (found by the sweep)',
        after: 'quarantined until they enrol',
      },
      marker: quarantineMarker(now, SWEEP_EVENT, ctx.report.sweepId),
    });
    const target = {
      kind: 'user' as const,
      userName: UserName,
      serialNumber: '',
      ownerFrom: 'event' as const,
      account: ctx.options.account,
      region,
      eventName: SWEEP_EVENT,
      eventId: ctx.report.sweepId,
      eventTime: now,
      actor: 'driftguard sweep',
      sourceIp: undefined,
    };
    const settled = await settle(mfaQuarantine, target, { target, user, now }, decision, ctx);
    record(ctx.report, itemOf(mfaQuarantine, region, UserName, settled), ctx.options.onItem);
  });
  return page.IsTruncated ? page.Marker : undefined;
};

const STEPS: Record<Pass, PageStep> = { 'log-groups': logGroupPage, trails: trailPage, keys: keyPage, users: userPage };

async function loadCursor(aws: AwsClients, table: string | undefined): Promise<Cursor | undefined> {
  if (!table) return undefined;
  const { Item } = await aws
    .client(DynamoDBClient, stateRegion())
    .send(new GetItemCommand({ TableName: table, Key: CURSOR_KEY, ConsistentRead: true }));
  return Item?.cursor?.S ? (JSON.parse(Item.cursor.S) as Cursor) : undefined;
}

async function saveCursor(aws: AwsClients, table: string | undefined, cursor: Cursor | undefined) {
  if (!table) return;
  const dynamodb = aws.client(DynamoDBClient, stateRegion());
  if (cursor === undefined) {
    await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: CURSOR_KEY }));
  } else {
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { ...CURSOR_KEY, cursor: { S: JSON.stringify(cursor) } } }),
    );
  }
}

/**
 * Runs (or continues) a sweep; returns its report, complete or not (then the cursor says where it stopped), or
 * undefined when asked only to continue and no sweep is open.
 */
export async function runSweep(
  engine: RuleContext,
  options: SweepOptions & { continueOnly: true },
): Promise<SweepReport | undefined>;
export async function runSweep(engine: RuleContext, options: SweepOptions): Promise<SweepReport>;
export async function runSweep(engine: RuleContext, options: SweepOptions): Promise<SweepReport | undefined> {
  const dryRun = options.dryRun ?? false;
  // A dry run keeps no cursor: it writes nothing.
  const saved = options.fresh || dryRun ? undefined : await loadCursor(engine.aws, engine.settings.stateTable);
  if (options.continueOnly && !saved) return undefined;
  const report = saved?.report ?? newReport(options, engine.settings);
  const ctx: SweepContext = { ...engine, dryRun, report, options };
  const startPass = saved ? PASSES.indexOf(saved.pass) : 0;
  for (let p = startPass; p < PASSES.length; p++) {
    const pass = PASSES[p] as Pass;
    const firstRegion = saved && p === startPass ? saved.regionIndex : 0;
    for (let r = firstRegion; r < report.regions.length; r++) {
      const region = report.regions[r] as string;
      let token = saved && p === startPass && r === firstRegion ? saved.nextToken : undefined;
      do {
        token = await STEPS[pass](ctx, region, token);
        if (options.deadline !== undefined && Date.now() >= options.deadline) {
          const next = token ? { regionIndex: r, nextToken: token } : { regionIndex: r + 1, nextToken: undefined };
          if (!dryRun) await saveCursor(engine.aws, engine.settings.stateTable, { pass, ...next, report });
          return report;
        }
      } while (token);
    }
  }
  report.complete = true;
  report.finishedAt = new Date().toISOString();
  if (!dryRun) await saveCursor(engine.aws, engine.settings.stateTable, undefined);
  return report;
}

/** One digest notice per sweep: counts per rule and outcome, the first items of each, where the full report is. */
export function digestNotice(report: SweepReport, account: string) {
  const total = (outcome: Outcome) =>
    Object.values(report.counts).reduce((sum, counts) => sum + (counts[outcome] ?? 0), 0);
  const fixed = report.mode === 'notify' || report.dryRun ? total('planned') : total('remediated');
  const verb = report.mode === 'notify' || report.dryRun ? 'to fix' : 'fixed';
  const subject = `[driftguard] sweep of ${report.regions.length} regions: ${fixed} ${verb}, ${total('needs-human')} need a human, ${total('failed')} failed`;
  const lines = [
    `driftguard sweep ${report.sweepId} (${report.mode}${report.dryRun ? ', dry run' : ''}), ${report.startedAt} to ${report.finishedAt ?? 'unfinished'}`,
    `Account ${account}, regions ${report.regions.join(', ')}`,
    `Looked at: ${
      Object.entries(report.seen)
        .map(([pass, n]) => `${n} ${pass}`)
        .join(', ') || 'nothing'
    }`,
    '',
    ...Object.entries(report.counts).map(
      ([rule, counts]) =>
        `${rule}: ${Object.entries(counts)
          .map(([o, n]) => `${n} ${o}`)
          .join(', ')}`,
    ),
    '',
    ...Object.entries(report.first)
      .filter(([, items]) => items.length > 0)
      .flatMap(([key, items]) => [
        `${key}:`,
        ...items.map(
          (i) => `  - ${i.region} ${i.resource}: ${i.reason}${i.actions.length ? ` (${i.actions.join('; ')})` : ''}`,
        ),
      ]),
    '',
    "Full report: the sweep function's log (one line per item), or `npm run sweep -- --json` locally.",
  ];
  const severity = total('failed') + total('needs-human') > 0 ? 'high' : 'low';
  return {
    subject: subject.length < 100 ? subject : `${subject.slice(0, 96)}...`,
    severity,
    text: lines.join('\n'),
    document: { kind: 'driftguard.sweep', version: 1, account, ...report },
    attributes: { severity, rule: 'sweep', outcome: 'digest', account },
  } as const;
}

export async function publishDigest(engine: RuleContext, report: SweepReport, account: string) {
  const topic = engine.settings.noticeTopicArn;
  if (!topic) return undefined;
  const notice = digestNotice(report, account);
  const { MessageId } = await engine.aws
    .client(SNSClient, topic.split(':')[3] ?? 'us-east-1')
    .send(new PublishCommand(publishInput({ ...notice, severity: notice.severity as never }, topic)));
  return MessageId;
}
