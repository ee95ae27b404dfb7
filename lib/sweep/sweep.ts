/**
 * The sweep: the drift no event reported, found and fixed across regions with the guards' own decisions. It streams
 * pages (never a whole inventory in memory), and stops before a deadline with a cursor in the state table, from
 * which the next run continues. One digest notice per completed sweep. A pass's pages run in process (a rule's) or
 * in the guard that holds the rule (lib/sweep/invoked-pass.ts); a page that fails is reported and the pass goes on
 * with the next region, so that one guard out of order blinds no other.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClients, arnRegion, stateRegion } from '../aws.js';
import { publishInput } from '../notices.js';
import type { AnyRuleDeclaration, Outcome, RuleContext, Severity, SweepContext } from '../rule.js';
import type { Settings } from '../settings.js';
import { onlyRegionOf, type PageResult, type SweepItem, sweepPage } from './page.js';

export type { SweepItem } from './page.js';

/** A pass of the sweep: the rule it sweeps (its id and severity name a page that failed), and how a page is run. */
export interface SweepPass {
  pass: string;
  rule: string;
  severity: Severity;
  /** A global service's pass runs once, in this region (HOME: the stack's), whichever regions the sweep covers. */
  onlyRegion?: string;
  /** One page in the region from the token, for this invocation's run of the sweep. */
  page(region: string, token: string | undefined, ctx: SweepContext, run: SweepRunOf): Promise<PageResult>;
}

/** One invocation's run of a sweep: its id (pages share their reads by it) and the regions the sweep covers. */
export interface SweepRunOf {
  id: string;
  regions: string[];
}

/** The rules' passes, each page run in process. */
export function localPasses(rules: readonly AnyRuleDeclaration[]): SweepPass[] {
  return rules.flatMap((rule) => {
    const sweep = rule.sweep;
    if (!sweep) return [];
    return [
      {
        pass: sweep.pass,
        rule: rule.id,
        severity: rule.severity,
        ...(sweep.onlyRegion ? { onlyRegion: sweep.onlyRegion } : {}),
        page: (region: string, token: string | undefined, ctx: SweepContext) => sweepPage(rule, region, token, ctx),
      },
    ];
  });
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
  /** Rules whose passes run in process: those that declare a sweep are swept, in this order (when passes is absent). */
  rules?: readonly AnyRuleDeclaration[];
  /** The passes, in this order (the sweep function's: the guards' by invocation, then the forwarders'). */
  passes?: readonly SweepPass[];
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

interface SweepRun {
  ctx: SweepContext;
  report: SweepReport;
  options: SweepOptions;
  /** This invocation's run: the pages it runs share their reads of the state table by its id. */
  of: SweepRunOf;
}

function passRegions(pass: SweepPass, regions: string[]): string[] {
  if (pass.onlyRegion === undefined) return regions;
  return [onlyRegionOf(pass.onlyRegion) as string];
}

/**
 * One page of a pass in a region; returns the next page token (undefined when the region is done). A page that fails
 * is one failed item of the pass's rule, and the region is left for the next run.
 */
async function runPage(run: SweepRun, pass: SweepPass, region: string, token: string | undefined) {
  let page: PageResult;
  try {
    page = await pass.page(region, token, run.ctx, run.of);
  } catch (error) {
    const reason = `the ${pass.pass} pass failed in ${region}, the region's rest is left for the next sweep: ${
      error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    }`;
    const item: SweepItem = {
      rule: pass.rule,
      outcome: 'failed',
      region,
      resource: `${pass.pass} pass`,
      reason,
      actions: [],
    };
    record(run.report, item, pass.severity, run.options.onItem);
    return undefined;
  }
  run.report.seen[pass.pass] = (run.report.seen[pass.pass] ?? 0) + page.seen;
  for (const { severity, ...item } of page.items) record(run.report, item, severity, run.options.onItem);
  return page.next;
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
  const of = { id: `${report.sweepId}#${crypto.randomUUID()}`, regions: report.regions };
  const run: SweepRun = { ctx, report, options, of };
  const passes = options.passes ?? localPasses(options.rules ?? []);
  const startPass = saved
    ? Math.max(
        0,
        passes.findIndex((one) => one.pass === saved.pass),
      )
    : 0;
  for (let p = startPass; p < passes.length; p++) {
    const sweepPass = passes[p] as SweepPass;
    const pass = sweepPass.pass;
    const regions = passRegions(sweepPass, report.regions);
    const firstRegion = saved && p === startPass ? saved.regionIndex : 0;
    for (let r = firstRegion; r < regions.length; r++) {
      const region = regions[r] as string;
      let token = saved && p === startPass && r === firstRegion ? saved.nextToken : undefined;
      do {
        token = await runPage(run, sweepPass, region, token);
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
