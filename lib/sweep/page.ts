/**
 * One page of a rule's sweep pass: the page's items listed, each looked at and its decision settled (fixed, noted,
 * kept), 8 at a time. The sweep function runs the forwarders' pages itself and has every other page run by the guard
 * whose rule it is (lib/sweep/invoked-pass.ts): a page request is one Lambda invocation of that guard, whose role
 * holds that rule's powers and no other's. Locally (npm run sweep, the tests) every page runs in process.
 * A guard serves a page only for a live run of the sweep function and that run's secret: the run's record in the
 * state table (which takes writes from the engine's roles alone) holds the regions it sweeps and the hash of the
 * secret, which travels only in the run's page requests. Anyone else who can invoke a guard, or read the table, gets
 * nothing done: a sweep's first captures (baselines of what it finds) are never made out of a human's sight.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, homeRegion, stateRegion } from '../aws.js';
import { MalformedEventError } from '../envelope.js';
import { type Settled, settleDecision } from '../pipeline.js';
import {
  type AnyRuleDeclaration,
  HOME,
  type Outcome,
  type Severity,
  type SweepContext,
  type SweptResource,
} from '../rule.js';
import { REGION_PATTERN } from '../settings.js';
import type { SharedReads } from './once-per-run.js';
import { isRate, RATE_API } from './rate-limit.js';

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

/** What a sweep run tells each page: which sweep, and the run (one invocation: its pages share their reads). */
export interface PageRun {
  sweepId: string;
  run: string;
}

/** The request a guard's handler answers with one page of its rule's pass (an invocation by the sweep function). */
export interface PageRequest extends PageRun {
  /** The run's secret (random, per run; its record keeps only the hash): it admits the run's pages. */
  secret: string;
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
/** The one region a pass runs in (HOME: the stack's own, where the sweep and the guards run), or undefined: every one. */
export const onlyRegionOf = (only: string | undefined): string | undefined => (only === HOME ? homeRegion() : only);

/** A page request refused, for the reason given. */
const refused = (why: string) => new MalformedEventError(`sweep page request: ${why}`);

// The sweep reads its limits with the same checks (parseRateLimits): what it sends, every guard takes.
const ratesOk = (limits: unknown) =>
  typeof limits === 'object' &&
  limits !== null &&
  Object.entries(limits).every(([api, rate]) => RATE_API.test(api) && isRate(rate));

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

/** What a failed item is called in the report: the listed item's own name, as the rules list them. */
function itemName(item: unknown): string {
  const fields = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  return String(fields.logGroupName ?? fields.name ?? fields.userName ?? fields.region ?? item);
}

/** What a page runner may add: each item as it is settled, and when to stop starting items (ms since epoch). */
export interface PageOptions {
  onItem?: (item: PageItem) => void;
  deadline?: number;
}

/**
 * One page of the rule's pass in the region, from the page token (undefined: the first page). An item that cannot be
 * looked at or settled is one failed item; items not started by the deadline are failed items too (the next sweep
 * looks again): the page's other items, and the next page, go on.
 */
export async function sweepPage(
  rule: AnyRuleDeclaration,
  region: string,
  token: string | undefined,
  ctx: SweepContext,
  options: PageOptions = {},
): Promise<PageResult> {
  const sweep = rule.sweep;
  if (!sweep) return { seen: 0, items: [] };
  const { items, next } = await sweep.list(region, token, ctx);
  const settled: PageItem[] = [];
  const settle = (item: PageItem) => {
    settled.push(item);
    options.onItem?.(item);
  };
  const failed = (resource: string, reason: string) =>
    settle({ rule: rule.id, outcome: 'failed', region, resource, reason, actions: [], severity: rule.severity });
  for (let i = 0; i < items.length; i += PAGE_CONCURRENCY) {
    const batch = items.slice(i, i + PAGE_CONCURRENCY);
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      for (const item of items.slice(i)) failed(itemName(item), "not looked at: the page's time ran out");
      break;
    }
    await Promise.all(
      batch.map(async (item) => {
        let name = itemName(item);
        try {
          const swept: SweptResource<unknown> | undefined = await sweep.assess(item, region, ctx);
          if (!swept) return;
          name = swept.name;
          settle(
            itemOf(rule, region, name, await settleDecision(rule, swept.resource, swept.state, swept.decision, ctx)),
          );
        } catch (error) {
          failed(
            name,
            `could not be swept: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
          );
        }
      }),
    );
  }
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
  const { version, pass, region, token, sweepId, run, secret, limits } = request;
  const wrong = Object.entries({
    version: version === 1,
    pass: passes.includes(pass as string),
    region: typeof region === 'string' && REGION_PATTERN.test(region),
    token: token === undefined || (typeof token === 'string' && token.length <= MAX_TOKEN),
    sweepId: typeof sweepId === 'string' && SWEEP_ID_PATTERN.test(sweepId),
    run: typeof run === 'string' && RUN_PATTERN.test(run),
    secret: typeof secret === 'string' && /^[0-9a-f]{64}$/.test(secret),
    limits: limits === undefined || ratesOk(limits),
  }).flatMap(([field, ok]) => (ok ? [] : [`${field} ${String(JSON.stringify(request[field])).slice(0, 80)}`]));
  if (wrong.length > 0) throw refused(`${wrong.join(', ')} invalid (passes: ${passes.join(', ')})`);
  return request as unknown as PageRequest;
}

const RUN_PK = 'sweep#run';
/** How long a run's record lets guards serve its pages (the sweep deletes it when the run ends): past Lambda's 15 min. */
const RUN_SECONDS = 20 * 60;
const runKey = (run: string) => ({ pk: { S: RUN_PK }, sk: { S: run } });
const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * The sweep function's record of its run, before the run's first page: the regions it sweeps and the hash of the
 * run's secret (the secret itself travels only in the page requests), for 20 minutes at most.
 */
export async function registerRun(
  aws: AwsClients,
  table: string,
  run: PageRun & { secret: string; regions: string[] },
) {
  const Item = {
    ...runKey(run.run),
    regions: { S: run.regions.join(',') },
    secret: { S: hashOf(run.secret) },
    expiresAt: { N: String(Math.floor(Date.now() / 1000) + RUN_SECONDS) },
  };
  await aws.client(DynamoDBClient, stateRegion()).send(new PutItemCommand({ TableName: table, Item }));
}

/** The run ended: its record goes, and no guard serves its pages any more. */
export async function endRun(aws: AwsClients, table: string, run: string): Promise<void> {
  await aws.client(DynamoDBClient, stateRegion()).send(new DeleteItemCommand({ TableName: table, Key: runKey(run) }));
}

/** A run's record as a guard reads it. */
export interface RunRecord {
  regions: string[];
  secret: string;
  expiresAt: number;
}

/** The record of a run of the sweep; a run it did not register (or whose record is gone) is refused. */
export async function runRecord(aws: AwsClients, table: string | undefined, run: string): Promise<RunRecord> {
  const { Item } = table
    ? await aws
        .client(DynamoDBClient, stateRegion())
        .send(new GetItemCommand({ TableName: table, Key: runKey(run), ConsistentRead: true }))
    : {};
  if (!Item) throw refused(`run ${run} is no run of this stack's sweep`);
  return {
    regions: String(Item.regions?.S).split(','),
    secret: String(Item.secret?.S),
    expiresAt: Number(Item.expiresAt?.N),
  };
}

/**
 * Whether a guard may serve the page: the run live (its record read at every page), the request's secret the run's,
 * and its region one the run sweeps (a pass of one region: that region, `only`).
 */
export function admitPage(record: RunRecord, request: PageRequest, only: string | undefined): void {
  const why = !(record.expiresAt > Date.now() / 1000)
    ? 'has ended'
    : !timingSafeEqual(Buffer.from(hashOf(request.secret)), Buffer.from(record.secret.padEnd(64).slice(0, 64)))
      ? 'does not take this secret'
      : (only ? request.region !== only : !record.regions.includes(request.region))
        ? `sweeps no ${request.pass} in ${request.region}`
        : undefined;
  if (why) throw refused(`run ${request.run} ${why}`);
}

/**
 * What a guard keeps of the run whose pages it serves: the reads its pages share, and clients within the rate limits
 * its first page brought (a run's pages all carry the sweep's same limits).
 */
export interface KeptRun {
  reads: SharedReads;
  aws?: AwsClients;
}

/**
 * What a guard keeps of the run it serves pages for (a warm guard serves the pages of a pass one after another),
 * asked for only once a page of it was admitted: a refused request displaces nothing.
 */
export function keptRuns(): { keep(run: string): KeptRun } {
  let kept: { run: string; state: KeptRun } | undefined;
  return {
    keep(run) {
      if (kept?.run !== run) kept = { run, state: { reads: new Map() } };
      return kept.state;
    },
  };
}
