/**
 * One page of a rule's sweep pass: the page's items listed, each looked at and its decision settled (fixed, noted,
 * kept), 8 at a time. The sweep function runs the forwarders' pages itself and has every other page run by the guard
 * whose rule it is (lib/sweep/invoked-pass.ts): a page request is one Lambda invocation of that guard, whose role
 * holds that rule's powers and no other's. Locally (npm run sweep, the tests) every page runs in process.
 * A guard serves a page only for a live run of the sweep function: the run's record in the state table (which takes
 * writes from the engine's roles alone), with the regions it sweeps. Anyone else who can invoke a guard gets nothing
 * done: a sweep's first captures (baselines of what it finds) are never made out of a human's sight.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, stateRegion } from '../aws.js';
import { MalformedEventError } from '../envelope.js';
import { type Settled, settleDecision } from '../pipeline.js';
import type { AnyRuleDeclaration, Outcome, Severity, SweepContext, SweptResource } from '../rule.js';
import { REGION_PATTERN } from '../settings.js';
import type { SharedReads } from './once-per-run.js';

export interface SweepItem {
  rule: string;
  outcome: Outcome;
  region: string;
  resource: string;
  reason: string;
  actions: string[];
}

/** An item and the severity of its finding (the rule's, or the decision's own). */
export interface PageItem extends SweepItem {
  severity: Severity;
}

/** What a page found: how many resources it looked at, each settled item, and the next page's token. */
export interface PageResult {
  seen: number;
  items: PageItem[];
  next?: string;
}

/** What a sweep run tells each page: which sweep, and the run (one invocation) whose state-table reads it shares. */
export interface PageRun {
  sweepId: string;
  run: string;
}

/** The request a guard's handler answers with one page of its rule's pass (an invocation by the sweep function). */
export interface PageRequest extends PageRun {
  kind: typeof PAGE_REQUEST_KIND;
  version: 1;
  pass: string;
  region: string;
  token?: string;
  /** The sweep's rate limits (calls per second by API, '*' for the rest; lib/sweep/rate-limit.ts); none: off. */
  limits?: Record<string, number>;
}

export const PAGE_REQUEST_KIND = 'driftguard.sweep-page';

const PAGE_CONCURRENCY = 8;
const SWEEP_ID_PATTERN = /^sweep-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
// A page token is the list call's own (DescribeLogGroups' is a few hundred characters); a run id is the sweep's.
const MAX_TOKEN = 4096;
const RUN_PATTERN = /^[A-Za-z0-9:._#-]{1,200}$/;
const ratesOk = (limits: unknown) =>
  typeof limits === 'object' &&
  limits !== null &&
  Object.entries(limits).every(([api, rate]) => /^(\*|[A-Za-z]{1,64})$/.test(api) && rate > 0 && rate <= 1000);

function itemOf(rule: AnyRuleDeclaration, region: string, resource: string, settled: Settled): PageItem {
  return {
    rule: rule.id,
    outcome: settled.outcome,
    region,
    resource,
    reason: settled.decision.needsHuman.length
      ? `${settled.reason}; ${settled.decision.needsHuman.join(' ')}`
      : settled.reason,
    actions: settled.done.map((action) => action.summary),
    severity: settled.decision.severity ?? rule.severity,
  };
}

async function inBatches<T>(items: T[], work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += PAGE_CONCURRENCY)
    await Promise.all(items.slice(i, i + PAGE_CONCURRENCY).map(work));
}

/** What a failed item is called in the report: the listed item's own name, as the rules list them. */
function itemName(item: unknown): string {
  const fields = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  return String(fields.logGroupName ?? fields.name ?? fields.userName ?? fields.region ?? item);
}

/** One page of the rule's pass in the region, from the page token (undefined: the first page). */
export async function sweepPage(
  rule: AnyRuleDeclaration,
  region: string,
  token: string | undefined,
  ctx: SweepContext,
): Promise<PageResult> {
  const sweep = rule.sweep;
  if (!sweep) return { seen: 0, items: [] };
  const { items, next } = await sweep.list(region, token, ctx);
  const settled: PageItem[] = [];
  // An item that cannot be looked at or settled is one failed item: the page's other items and pages go on.
  await inBatches(items, async (item) => {
    let name = itemName(item);
    try {
      const swept: SweptResource<unknown> | undefined = await sweep.assess(item, region, ctx);
      if (!swept) return;
      name = swept.name;
      const done = await settleDecision(rule, swept.resource, swept.state, swept.decision, ctx);
      settled.push(itemOf(rule, region, name, done));
    } catch (error) {
      const reason = `could not be swept: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      settled.push({
        rule: rule.id,
        outcome: 'failed',
        region,
        resource: name,
        reason,
        actions: [],
        severity: rule.severity,
      });
    }
  });
  return { seen: items.length, items: settled, ...(next ? { next } : {}) };
}

/**
 * The page request in an invocation's event, or undefined when the event is not one (a CloudTrail event, a custom
 * resource request). A request of the right kind that is wrong in any field is refused with the field named: a guard
 * never guesses which page it was asked for.
 */
export function pageRequestOf(event: unknown, passes: readonly string[]): PageRequest | undefined {
  const request = event as Record<string, unknown> | null;
  if (typeof request !== 'object' || request === null || request.kind !== PAGE_REQUEST_KIND) return undefined;
  const { version, pass, region, token, sweepId, run, limits } = request;
  const wrong = Object.entries({
    version: version === 1,
    pass: passes.includes(pass as string),
    region: typeof region === 'string' && REGION_PATTERN.test(region),
    token: token === undefined || (typeof token === 'string' && token.length <= MAX_TOKEN),
    sweepId: typeof sweepId === 'string' && SWEEP_ID_PATTERN.test(sweepId),
    run: typeof run === 'string' && RUN_PATTERN.test(run),
    limits: limits === undefined || ratesOk(limits),
  }).flatMap(([field, ok]) => (ok ? [] : [`${field} ${String(JSON.stringify(request[field])).slice(0, 80)}`]));
  if (wrong.length > 0)
    throw new MalformedEventError(
      `sweep page request: ${wrong.join(', ')} invalid (version 1; passes here: ${passes.join(', ')}; sweepId sweep-<ISO time>)`,
    );
  return request as unknown as PageRequest;
}

const RUN_PK = 'sweep#run';
/** How long a run's record lets guards serve its pages: longer than a Lambda run's 15 minutes. */
const RUN_SECONDS = 20 * 60;
const runKey = (run: string) => ({ pk: { S: RUN_PK }, sk: { S: run } });

/** The sweep function's record of its run, before the run's first page: the regions it sweeps, for 20 minutes. */
export async function registerRun(aws: AwsClients, table: string, run: string, regions: string[]): Promise<void> {
  const expiresAt = { N: String(Math.floor(Date.now() / 1000) + RUN_SECONDS) };
  await aws
    .client(DynamoDBClient, stateRegion())
    .send(
      new PutItemCommand({ TableName: table, Item: { ...runKey(run), regions: { S: regions.join(',') }, expiresAt } }),
    );
}

/** The regions of a live run of the sweep; a run it did not start, or one that ended, is refused. */
export async function liveRunRegions(aws: AwsClients, table: string | undefined, run: string): Promise<string[]> {
  const { Item } = table
    ? await aws
        .client(DynamoDBClient, stateRegion())
        .send(new GetItemCommand({ TableName: table, Key: runKey(run), ConsistentRead: true }))
    : {};
  if (!(Number(Item?.expiresAt?.N) > Date.now() / 1000))
    throw new MalformedEventError(`sweep page request: run ${run} is no live run of this stack's sweep`);
  return String(Item?.regions?.S).split(',');
}

/** What a guard keeps of the run whose pages it serves: its live regions (read once) and the reads it shares. */
export interface KeptRun {
  regions?: Promise<string[]>;
  reads: SharedReads;
}

/**
 * The run a guard serves pages for, kept while the same run asks for pages (a warm guard serves the pages of a pass
 * one after another); a new run is read afresh.
 */
export function keptRuns(): (run: string) => KeptRun {
  let kept: { run: string; state: KeptRun } | undefined;
  return (run) => {
    if (kept?.run !== run) kept = { run, state: { reads: new Map() } };
    return kept.state;
  };
}
