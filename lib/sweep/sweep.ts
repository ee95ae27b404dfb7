/**
 * The sweep: the drift no event reported, found and fixed across regions with the guards' own decisions. It streams
 * pages (never a whole inventory in memory), and stops before a deadline with a cursor in the state table, from
 * which the next run continues. One digest notice per completed sweep.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClients, arnRegion, stateRegion } from '../aws.js';
import { publishInput } from '../notices.js';
import { type Settled, settleDecision } from '../pipeline.js';
import type { AnyRuleDeclaration, Outcome, RuleContext, Severity, SweepContext, SweptResource } from '../rule.js';
import type { Settings } from '../settings.js';

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
  /** The highest severity of what was fixed, is to be fixed, failed or needs a human (a lost forwarder is high). */
  severest?: Severity;
}

/** Where a sweep stopped: the pass, the region and the page token, with what it found so far. */
interface Cursor {
  pass: string;
  regionIndex: number;
  nextToken: string | undefined;
  report: SweepReport;
}

export interface SweepOptions {
  /** The registry's rules: those that declare a sweep are swept, in this order. */
  rules: readonly AnyRuleDeclaration[];
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

const SEVERITY_ORDER: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
const ACTED: readonly Outcome[] = ['remediated', 'planned', 'failed', 'needs-human'];

function record(report: SweepReport, item: SweepItem, severity: Severity, onItem?: (item: SweepItem) => void) {
  if (
    ACTED.includes(item.outcome) &&
    SEVERITY_ORDER.indexOf(severity) > SEVERITY_ORDER.indexOf(report.severest ?? 'low')
  )
    report.severest = severity;
  const counts = report.counts[item.rule] ?? {};
  report.counts[item.rule] = counts;
  counts[item.outcome] = (counts[item.outcome] ?? 0) + 1;
  const key = `${item.rule}#${item.outcome}`;
  const first = report.first[key] ?? [];
  report.first[key] = first;
  if (first.length < FIRST_ITEMS && item.outcome !== 'compliant') first.push(item);
  onItem?.(item);
}

function itemOf(rule: AnyRuleDeclaration, region: string, resource: string, settled: Settled): SweepItem {
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

interface SweepRun {
  ctx: SweepContext;
  report: SweepReport;
  options: SweepOptions;
}

async function inBatches<T>(items: T[], work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += PAGE_CONCURRENCY)
    await Promise.all(items.slice(i, i + PAGE_CONCURRENCY).map(work));
}

async function settleSwept(run: SweepRun, rule: AnyRuleDeclaration, region: string, swept: SweptResource<unknown>) {
  const settled = await settleDecision(rule, swept.resource, swept.state, swept.decision, run.ctx);
  const severity = settled.decision.severity ?? rule.severity;
  record(run.report, itemOf(rule, region, swept.name, settled), severity, run.options.onItem);
}

/** A global service's pass runs once, in its one region, even when the sweep covers other regions only (IAM). */
function passRegions(rule: AnyRuleDeclaration, regions: string[]): string[] {
  const only = rule.sweep?.onlyRegion;
  return only === undefined ? regions : [only];
}

/** One page of a rule's pass in a region; returns the next page token (undefined when the region is done). */
async function sweepPage(run: SweepRun, rule: AnyRuleDeclaration, region: string, token: string | undefined) {
  const sweep = rule.sweep;
  if (!sweep) return undefined;
  const { items, next } = await sweep.list(region, token, run.ctx);
  run.report.seen[sweep.pass] = (run.report.seen[sweep.pass] ?? 0) + items.length;
  await inBatches(items, async (item) => {
    const swept = await sweep.assess(item, region, run.ctx);
    if (swept) await settleSwept(run, rule, region, swept);
  });
  return next;
}

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
  const ctx: SweepContext = {
    ...engine,
    dryRun,
    account: options.account,
    sweepId: report.sweepId,
    now: report.startedAt,
    sharedReads: new Map(),
  };
  const run: SweepRun = { ctx, report, options };
  const passes = options.rules.filter((rule) => rule.sweep !== undefined);
  const startPass = saved
    ? Math.max(
        0,
        passes.findIndex((rule) => rule.sweep?.pass === saved.pass),
      )
    : 0;
  for (let p = startPass; p < passes.length; p++) {
    const rule = passes[p] as AnyRuleDeclaration;
    const pass = String(rule.sweep?.pass);
    const regions = passRegions(rule, report.regions);
    const firstRegion = saved && p === startPass ? saved.regionIndex : 0;
    for (let r = firstRegion; r < regions.length; r++) {
      const region = regions[r] as string;
      let token = saved && p === startPass && r === firstRegion ? saved.nextToken : undefined;
      do {
        token = await sweepPage(run, rule, region, token);
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
  const severest = SEVERITY_ORDER.indexOf(report.severest ?? 'low') >= SEVERITY_ORDER.indexOf('high');
  const severity: Severity = total('failed') + total('needs-human') > 0 || severest ? 'high' : 'low';
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
    .client(SNSClient, arnRegion(topic) ?? 'us-east-1')
    .send(new PublishCommand(publishInput(notice, topic)));
  return MessageId;
}
