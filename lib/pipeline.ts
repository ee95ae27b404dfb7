/** One event through one rule: parse, screen, target, inspect, decide, apply, notify. Shared by Lambda, replay and tests. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Put } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { sendAction } from './actions.js';
import { type AwsClients, arnRegion, awsErrorName } from './aws.js';
import { type CloudTrailEvent, parseCloudTrailEvent } from './envelope.js';
import { type Claim, EventInProgressError, EventLedger, type PendingNotice, type Settlement } from './event-ledger.js';
import { keyUsagePut } from './key-usage.js';
import { buildNotice, type EarlierWrite, type Notice, publishNotice } from './notices.js';
import { recordKey } from './record-key.js';
import { keepRecord, keptBeforeWrites, toldRecords } from './records.js';
import {
  type Action,
  type AnyRule,
  type AnyRuleDeclaration,
  type Decision,
  type EngineRecord,
  type Finding,
  isSkip,
  type Outcome,
  type Resource,
  type RuleContext,
} from './rule.js';
import { type ScreeningContext, screenEvent } from './screening.js';
import type { Settings } from './settings.js';

export interface EngineContext {
  settings: Settings;
  aws: AwsClients;
  screening: ScreeningContext;
  /** Decide and report only: no write call at all, not even the notice. */
  dryRun?: boolean;
  /**
   * The attempt whose failure is notified: Lambda tries an event 3 times (then the dead-letter queue), so a failure
   * that outlasts the retries is notified once, and a failure a retry repairs is not. 1 where nothing retries (replay).
   */
  failedNoticeAttempt?: number;
  logger?: Logger;
  /** The events' record (idempotency and notices) in the state table; by default one per rule where a table is set. */
  ledger?: EventLedger;
  /** When the invocation ends (ms since the epoch): the event is held by this attempt until then. */
  deadline?: number;
}

export interface HandledEvent {
  eventId: string;
  eventName: string;
  rule: string | null;
  outcome: Outcome;
  reason: string;
  resource: Resource | null;
  findings: Finding[];
  actions: { api: string; params: object }[];
  failures: { api: string; error: string }[];
  needsHuman: string[];
  notice: { subject: string; severity: string; published: boolean; messageId?: string; error?: string } | null;
}

const NOTIFIED: readonly Outcome[] = ['remediated', 'planned', 'failed', 'needs-human'];

export function findRule(rules: readonly AnyRule[], event: CloudTrailEvent): AnyRule | undefined {
  return rules.find(
    ({ trigger }) =>
      trigger.source === event.source &&
      trigger.detailTypes.includes(event['detail-type']) &&
      trigger.eventNames.includes(event.detail.eventName),
  );
}

/** An event that passed the checks at the edge: its envelope, the rule that handles it and that rule's target. */
export interface CheckedEvent {
  event: CloudTrailEvent;
  /** Undefined when no rule of the guard handles the event. */
  rule: AnyRule | undefined;
  /** The rule's target, or why the rule leaves the event alone. */
  target: unknown;
}

/**
 * The checks that need no AWS call: the envelope's schema, and what the event's rule needs from it (its target).
 * Throws MalformedEventError; run once at the edge, before anything is written, idempotency records included.
 */
export function checkEvent(raw: unknown, rules: readonly AnyRule[]): CheckedEvent {
  const event = parseCloudTrailEvent(raw);
  const rule = findRule(rules, event);
  return { event, rule, target: rule?.target(event) };
}

/** One checked event through its rule: screen, inspect, decide, apply, notify. */
export async function handleEvent(checked: CheckedEvent, ctx: EngineContext): Promise<HandledEvent> {
  const { event, rule, target } = checked;
  const base = { eventId: event.detail.eventID, eventName: event.detail.eventName };
  if (rule === undefined) {
    return ignored(base, null, null, `no rule handles ${event.source} ${event.detail.eventName}`);
  }
  const screened = screenEvent(event, ctx.screening);
  if (screened !== undefined) return ignored(base, rule.id, null, screened.reason);
  if (isSkip(target)) return ignored(base, rule.id, null, target.skip);

  // A dry run writes nothing, not even the event's record; without a state table there is none to keep.
  const ledger = ctx.dryRun ? undefined : (ctx.ledger ?? ruleLedger(ctx, rule));
  if (ledger === undefined) return runRule(event, rule, target, ctx, undefined);
  const run: LedgerRun = {
    ledger,
    key: recordKey(event),
    deadline: ctx.deadline ?? Date.now() + DEFAULT_LOCK_MS,
    claim: undefined,
    settled: false,
  };
  try {
    return await runRule(event, rule, target, ctx, run);
  } catch (error) {
    const { claim } = run;
    if (run.settled) throw error;
    if (claim === undefined) {
      if (error instanceof EventInProgressError) throw error;
      // Failed before its claim (a read): counted all the same; a repeat of an event already done answers as it did.
      const done = await ledger.countUnclaimedAttempt(run.key).catch((countError: unknown) => {
        ctx.logger?.warn('the failed attempt could not be counted', countError as Error);
        return undefined;
      });
      if (done) return done.result as HandledEvent;
      throw error;
    }
    // Unexpected: the next attempt may run at once (else the lock expires with this invocation), and sends the notice
    // this one would have sent, should it find the writes done.
    await ledger
      .release(run.key, claim.lock, {
        pending: run.pending,
        noticeSent: run.noticeSent,
        failedWrites: run.failedWrites,
      })
      .catch((releaseError: unknown) => {
        ctx.logger?.warn('the event could not be released for a retry', releaseError as Error);
      });
    throw error;
  }
}

/**
 * A caller that brings no ledger (a guard's handler brings its own, per guard) keeps the event's record per rule: its
 * notice is sent once, and the event runs again on each call (re-reading the resource).
 */
function ruleLedger(ctx: EngineContext, rule: AnyRule): EventLedger | undefined {
  return ctx.settings.stateTable ? new EventLedger(ctx.aws, ctx.settings.stateTable, rule.id, false) : undefined;
}

/** Without a Lambda deadline (replay, tests): the event's lock is held this long. */
const DEFAULT_LOCK_MS = 60_000;

/** The event's record in the state table, as this attempt claims it once its rule has decided. */
interface LedgerRun {
  ledger: EventLedger;
  key: string;
  /** The invocation's end: the claim holds the event until then. */
  deadline: number;
  /** Set by the claim (claimEvent); undefined before it. */
  claim: Extract<Claim, { kind: 'claimed' }> | undefined;
  /** The attempt's end is written: nothing to release. */
  settled: boolean;
  /**
   * What the record must carry for the next attempt should this one end in an error (the release writes it): this
   * attempt's plan, or a notice it or an earlier attempt could not send; undefined: none.
   */
  pending?: PendingNotice | undefined;
  /** The writes of this attempt's failed fixes (the release keeps them for the next notice, as the settle would). */
  failedWrites?: EarlierWrite[] | undefined;
  /** This attempt sent the event's notice (recorded by the release should its settle not record it). */
  noticeSent?: boolean;
}

type ClaimedRun = LedgerRun & { claim: NonNullable<LedgerRun['claim']> };

/**
 * Claims the event once the rule has decided, before anything is written: a repeated event is answered from its
 * record (the reads it made are all it costs), and an attempt about to write leaves the notice of what it plans, so
 * that a retry sends it should this attempt stop after its writes (a timeout, a crash). Returns the first result of
 * an event already handled.
 */
async function claimEvent(run: LedgerRun, planned: PendingNotice | undefined): Promise<HandledEvent | undefined> {
  const claim = await run.ledger.claim(run.key, run.deadline, planned);
  if (claim.kind === 'done') return claim.result as HandledEvent;
  run.claim = claim;
  run.pending = planned ?? (claim.noticeSent ? undefined : claim.pending);
  return undefined;
}

async function settle(run: ClaimedRun, settlement: Settlement): Promise<void> {
  await run.ledger.settle(run.key, run.claim.lock, settlement, run.claim.token);
  run.settled = true;
}

/** The notice went out, but the event's own records (a key's usage) could not be written with its settle. */
export class RecordsNotKeptError extends Error {
  override name = 'RecordsNotKeptError';
}

/**
 * After a notice went out: a failure to record it is logged, not thrown (a retry could only send it again), unless
 * the settle carried the event's own records: then the attempt fails (released with no notice pending), so that
 * Lambda's retry writes them and sends no second notice.
 */
async function settleAfterNotice(run: ClaimedRun, settlement: Settlement, ctx: EngineContext): Promise<void> {
  let how: 'settled' | 'marked' | 'lost';
  try {
    how = await run.ledger.settleAfterNotice(run.key, run.claim.lock, settlement, run.claim.token);
  } catch (error) {
    ctx.logger?.warn('notice sent but not recorded as sent', error as Error);
    how = 'lost';
  }
  // Sent: never left for the next attempt (a release records it sent).
  run.pending = undefined;
  run.noticeSent = true;
  if (how !== 'lost') run.settled = true;
  const records = settlement.records?.length ?? 0;
  if (how === 'lost' && records > 0) {
    throw new RecordsNotKeptError(
      `the notice was sent but the event's ${records} record(s) (key usage) were not written: retried to write them`,
    );
  }
}

async function runRule(
  event: CloudTrailEvent,
  rule: AnyRule,
  target: unknown,
  ctx: EngineContext,
  run: LedgerRun | undefined,
): Promise<HandledEvent> {
  const base = { eventId: event.detail.eventID, eventName: event.detail.eventName };
  const resource = rule.describe(target);
  ctx.logger?.appendKeys({ rule: rule.id, resource: resource.id, eventId: base.eventId });
  // The event's own records (a key's usage) are written with its settle, in one call.
  const records: Put[] = [];
  const ruleContext = {
    settings: ctx.settings,
    aws: ctx.aws,
    ...(run ? { deferRecord: (record: EngineRecord) => deferToSettle(record, ctx, records) } : {}),
  };
  // The resource is gone (before or while the rule acts): nothing to do, but what an earlier attempt left is told.
  const gone = (why: string) =>
    settleQuiet(
      ignored(base, rule.id, resource, `${resource.type} ${resource.id} ${why}: nothing to do`),
      event,
      ctx,
      run,
      records,
    );
  let decision = rule.preScreen?.(target, ctx.settings);
  let state: unknown;
  if (decision === undefined) {
    state = await rule.inspect(target, ruleContext);
    if (state === undefined) return gone('no longer exists');
    decision = rule.decide(state, ctx.settings);
  }
  const noticeOf = (
    d: Decision,
    outcome: Outcome,
    reason: string,
    done: Action[],
    failures: { action: Action; error: string }[],
    earlierWrites: EarlierWrite[] = [],
  ) =>
    buildNotice({
      event,
      ruleId: rule.id,
      ruleTitle: rule.title,
      severity: d.severity ?? rule.severity,
      outcome,
      reason,
      resource,
      findings: d.findings,
      actions: done,
      failures,
      needsHuman: d.needsHuman,
      earlierWrites,
    });
  const topic = ctx.settings.noticeTopicArn;
  const writes = !(ctx.dryRun || (ctx.settings.mode === 'notify' && !rule.ownInfrastructure));
  // What an attempt that stops after its writes leaves for the next, which may find the resource fixed.
  const planOf = (d: Decision): PendingNotice | undefined =>
    topic !== undefined && writes && d.status === 'drifted'
      ? { notice: noticeOf(d, outcomeOf(true, 0, d), d.reason, d.actions, []), topicArn: topic, planned: true }
      : undefined;
  let claimed: ClaimedRun | undefined;
  if (run) {
    const answered = await claimEvent(run, planOf(decision));
    if (answered) return answered;
    claimed = run as ClaimedRun;
    const { claim } = claimed;
    const earlierPending = claim.noticeSent ? undefined : claim.pending;
    if (claim.earlier && state !== undefined) {
      // Another attempt or delivery has had this event: what was read before the claim may be stale. Read again, and
      // act on the present state only (never a second time on what another attempt already did).
      claimed.pending = earlierPending;
      state = await rule.inspect(target, ruleContext);
      if (state === undefined) return gone('no longer exists');
      decision = rule.decide(state, ctx.settings);
      claimed.pending = planOf(decision) ?? earlierPending;
    }
  }
  const settled = await settleDecision(rule, resource, state, decision, {
    ...ruleContext,
    dryRun: ctx.dryRun ?? false,
  });
  if (settled.gone) return gone('was deleted meanwhile');
  if (settled.outcome === 'compliant' || settled.outcome === 'ignored') {
    const quiet = {
      ...ignored(base, rule.id, resource, settled.reason),
      outcome: settled.outcome,
      findings: settled.decision.findings,
    };
    return settleQuiet(quiet, event, ctx, claimed, records);
  }
  decision = settled.decision;
  const { outcome, reason, failures } = settled;
  const notice = noticeOf(decision, outcome, reason, settled.done, failures, earlierWritesOf(claimed, decision));
  const result: HandledEvent = {
    ...base,
    rule: rule.id,
    outcome,
    reason,
    resource,
    findings: decision.findings,
    actions: decision.actions.map(({ api, params }) => ({ api, params })),
    failures: failures.map(({ action, error }) => ({ api: action.api, error })),
    needsHuman: decision.needsHuman,
    notice: { subject: notice.subject, severity: notice.severity, published: false },
  };
  if (!NOTIFIED.includes(outcome) || ctx.dryRun) return result;
  if (claimed === undefined) {
    await deliver(notice, result, event, ctx);
    ctx.logger?.info('event handled', {
      outcome: result.outcome,
      reason: result.reason,
      actions: result.actions.length,
    });
    return result;
  }
  // A failed attempt's writes are kept for the notice that follows (the retry re-reads them as done).
  const failedWrites =
    outcome === 'failed' ? settled.done.map(({ api, summary }): EarlierWrite => ({ api, summary })) : undefined;
  const status = outcome === 'failed' ? 'retry' : 'done';
  claimed.failedWrites = failedWrites;
  const notifyAt = ctx.failedNoticeAttempt ?? 1;
  if (claimed.claim.noticeSent) {
    result.notice = {
      ...(result.notice as NonNullable<HandledEvent['notice']>),
      error: 'already sent for this event (a repeated delivery)',
    };
    await settle(claimed, { status, result, noticeSent: true, failedWrites, records });
  } else if (outcome === 'failed' && claimed.claim.attempt < notifyAt) {
    result.notice = {
      ...(result.notice as NonNullable<HandledEvent['notice']>),
      error: `attempt ${claimed.claim.attempt} of ${notifyAt}: notified if the last one fails too`,
    };
    // What a later attempt sends if it finds the resource already as it should be (this attempt's writes held).
    await settle(claimed, { status, pending: claimed.pending, failedWrites, records });
  } else {
    if (topic !== undefined) claimed.pending = { notice, topicArn: topic };
    const delivered = await deliver(notice, result, event, ctx);
    if (delivered === 'no-topic') {
      await settle(claimed, { status, ...(status === 'done' ? { result } : {}), failedWrites, records });
    } else if (delivered === 'sent') {
      await settleAfterNotice(
        claimed,
        { status, ...(status === 'done' ? { result } : {}), noticeSent: true, failedWrites, records },
        ctx,
      );
    } else {
      // Not sent, so retried: the next attempt sends it (or its own, if it finds more to do).
      await settle(claimed, {
        status: 'retry',
        ...(topic === undefined ? {} : { pending: { notice, topicArn: topic } }),
        ...(failedWrites ? { failedWrites } : {}),
        records,
      });
    }
  }
  ctx.logger?.info('event handled', { outcome: result.outcome, reason: result.reason, actions: result.actions.length });
  return result;
}

/**
 * The writes earlier attempts at the event made: those a failed attempt recorded, and those an attempt planned before
 * it stopped (a timeout, a crash) which this attempt, reading the resource again, has no need to make: found in place.
 */
function earlierWritesOf(claimed: ClaimedRun | undefined, decision: Decision): EarlierWrite[] {
  if (claimed === undefined) return [];
  const { earlierWrites, pending } = claimed.claim;
  if (!pending?.planned) return earlierWrites;
  const known = new Set([...decision.actions.map(({ api }) => api), ...earlierWrites.map(({ api }) => api)]);
  const planned = (pending.notice.document.actions ?? []) as EarlierWrite[];
  return [
    ...earlierWrites,
    ...planned
      .filter(({ api }) => !known.has(api))
      .map(({ api, summary }) => ({
        api,
        summary: `${summary} (planned by an earlier attempt that stopped before recording it; found in place)`,
      })),
  ];
}

/** An event's own record the pipeline writes with the event's settle instead of on its own: a key's usage. */
function deferToSettle(record: EngineRecord, ctx: EngineContext, records: Put[]): boolean {
  if (record.kind !== 'key-usage' || ctx.settings.stateTable === undefined) return false;
  records.push(keyUsagePut(ctx.settings.stateTable, record.keyArn, record.dependent));
  return true;
}

/**
 * A result with no notice of its own: the notice an earlier attempt left pending is sent (its publish failed, or it
 * stopped after its writes), then the event is settled with the result a repeat returns.
 */
async function settleQuiet(
  result: HandledEvent,
  event: CloudTrailEvent,
  ctx: EngineContext,
  run: LedgerRun | undefined,
  records: Put[],
): Promise<HandledEvent> {
  if (run === undefined) return result;
  if (run.claim === undefined) {
    const answered = await claimEvent(run, undefined);
    if (answered) return answered;
  }
  const claimed = run as ClaimedRun;
  const earlier = claimed.claim.noticeSent ? undefined : claimed.claim.pending;
  // A plan is told only when the resource is found as the rule requires (the attempt that made it may have stopped
  // before its writes: a deleted or exempted resource was not remediated).
  const pending = earlier?.planned && result.outcome !== 'compliant' ? undefined : earlier;
  claimed.pending = pending;
  if (pending === undefined) {
    await settle(claimed, { status: 'done', result, records });
    return result;
  }
  try {
    await publishTo(ctx, pending.notice, pending.topicArn, event.detail.awsRegion);
  } catch (error) {
    // Still pending: the retry sends it.
    await settle(claimed, { status: 'retry', pending, records });
    throw error;
  }
  if (result.notice) result.notice = { ...result.notice, published: true };
  await settleAfterNotice(claimed, { status: 'done', result, noticeSent: true, records }, ctx);
  return result;
}

function outcomeOf(writes: boolean, failureCount: number, decision: Decision): Outcome {
  if (!writes) return 'planned';
  if (failureCount > 0) return 'failed';
  return decision.needsHuman.length > 0 ? 'needs-human' : 'remediated';
}

/** A result with no action and no notice: an event ignored (or, with another outcome, nothing to do). */
export function ignored(
  base: { eventId: string; eventName: string },
  rule: string | null,
  resource: Resource | null,
  reason: string,
): HandledEvent {
  return {
    ...base,
    rule,
    outcome: 'ignored',
    reason,
    resource,
    findings: [],
    actions: [],
    failures: [],
    needsHuman: [],
    notice: null,
  };
}

/** Where a decision's records are kept: by settleDecision, or (those the caller takes) with the event's settle. */
export interface RecordsContext extends RuleContext {
  /** Takes the record to write it with the event's own settle (one call); false: settleDecision keeps it. */
  deferRecord?(record: EngineRecord): boolean;
}

export interface Settled {
  outcome: Outcome;
  reason: string;
  /** The decision as it ended: refusals and what could not be restored added to its needsHuman. */
  decision: Decision;
  /** Writes made (or, when nothing was written, those that would be made). */
  done: Action[];
  failures: { action: Action; error: string }[];
  /** The resource vanished while the fixes were being made. */
  gone: boolean;
}

/**
 * A decision carried out: the fixes applied (not in notify mode or a dry run), what a human must do gathered, the
 * engine's own records kept. Shared by the event pipeline and the sweep.
 */
export async function settleDecision(
  rule: AnyRuleDeclaration,
  resource: Resource,
  state: unknown,
  decision: Decision,
  ctx: RecordsContext & { dryRun: boolean },
): Promise<Settled> {
  const records = decision.bookkeeping ?? [];
  if (decision.status !== 'drifted') {
    const notKept = ctx.dryRun ? [] : await keepRecords(decision, ctx);
    if (notKept.length > 0) {
      // Not plainly compliant: the change the decision accepted is not what the engine now guards.
      const ended = { ...decision, needsHuman: [...decision.needsHuman, ...notKept] };
      const reason = `${decision.reason}; ${notKept.join(' ')}`;
      return { outcome: 'needs-human', reason, decision: ended, done: [], failures: [], gone: false };
    }
    const reason = `${decision.reason}${toldRecords(records, !ctx.dryRun)}`;
    return { outcome: decision.status, reason, decision, done: [], failures: [], gone: false };
  }
  // The engine's own plumbing (the forwarders) is kept in place in notify mode too.
  const writes = !(ctx.dryRun || (ctx.settings.mode === 'notify' && !rule.ownInfrastructure));
  if (writes) await keepRecords(decision, ctx, 'before-writes');
  const applied = writes ? await applyActions(rule, resource.region, decision.actions, ctx) : undefined;
  if (applied?.gone) return { outcome: 'ignored', reason: 'gone', decision, done: [], failures: [], gone: true };
  const failures = applied?.failures ?? [];
  let ended = decision;
  if (applied?.refusals.length) {
    ended = { ...decision, needsHuman: [...decision.needsHuman, ...applied.refusals], bookkeeping: [] };
  } else if (applied && failures.length === 0 && rule.verify) {
    const unrestored = await rule.verify(state, ctx);
    // A baseline never follows a trail the read-back says is not restored.
    const bookkeeping = unrestored.length > 0 ? withoutFollows(decision.bookkeeping) : decision.bookkeeping;
    ended = { ...decision, needsHuman: [...decision.needsHuman, ...unrestored], bookkeeping };
  }
  // A baseline follows only a trail the engine restored; in notify mode it keeps describing the state to restore.
  const kept = writes && failures.length === 0;
  const notKept = kept ? await keepRecords(ended, ctx, 'after-writes') : [];
  if (notKept.length > 0) ended = { ...ended, needsHuman: [...ended.needsHuman, ...notKept] };
  const told =
    notKept.length > 0
      ? `; ${notKept.join(' ')}`
      : kept || ctx.dryRun
        ? toldRecords(ended.bookkeeping ?? [], kept)
        : '';
  const reason =
    failures.length > 0 ? `${failures.length} of ${decision.actions.length} fixes failed` : `${decision.reason}${told}`;
  return {
    outcome: outcomeOf(writes, failures.length, ended),
    reason,
    decision: ended,
    done: applied ? applied.done : decision.actions,
    failures,
    gone: false,
  };
}

async function applyActions(
  rule: AnyRuleDeclaration,
  region: string,
  actions: Action[],
  ctx: RuleContext,
): Promise<{ done: Action[]; failures: { action: Action; error: string }[]; refusals: string[]; gone: boolean }> {
  const done: Action[] = [];
  const failures: { action: Action; error: string }[] = [];
  for (const action of actions) {
    try {
      await sendAction(ctx.aws, rule, action, region);
      done.push(action);
    } catch (error) {
      const verdict = await rule.classifyFailure?.(action, error, ctx, action.region ?? region);
      if (verdict?.kind === 'gone') return { done, failures, refusals: [], gone: true };
      if (verdict?.kind === 'done') {
        done.push(action);
        continue;
      }
      // What follows depends on what was refused: stop here and hand over to a human.
      if (verdict?.kind === 'refused') return { done, failures, refusals: [verdict.step], gone: false };
      failures.push({ action, error: `${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}` });
    }
  }
  return { done, failures, refusals: [], gone: false };
}

/**
 * The engine's own records (baselines, quarantines): a failure here is the event's failure, so that it is retried.
 * Those that undo the engine's writes are kept before the writes, the others once the writes succeeded. Returns why
 * records were not kept as planned (a baseline kept instead of following).
 */
async function keepRecords(
  decision: Decision,
  ctx: RecordsContext,
  when: 'before-writes' | 'after-writes' = 'after-writes',
): Promise<string[]> {
  const notKept: string[] = [];
  for (const record of decision.bookkeeping ?? []) {
    if (keptBeforeWrites(record) !== (when === 'before-writes')) continue;
    if (ctx.deferRecord?.(record)) continue;
    const why = await keepRecord(record, ctx);
    if (why !== undefined) notKept.push(why);
  }
  return notKept;
}

const withoutFollows = (records: EngineRecord[] | undefined) =>
  records?.filter(
    (record) =>
      !(
        (record.kind === 'trail-baseline' ||
          record.kind === 'config-baseline' ||
          record.kind === 'guardduty-baseline') &&
        record.mode === 'follow'
      ),
  );

async function publishTo(ctx: EngineContext, notice: Notice, topic: string, fallbackRegion: string) {
  // The topic may live in another region than the event; publish where the topic is.
  const region = arnRegion(topic) ?? fallbackRegion;
  return publishNotice(ctx.aws.client(SNSClient, region), notice, topic);
}

/** Publishes the notice: sent, or not (a failed publish makes the result failed, so that it is retried), or no topic. */
async function deliver(
  notice: Notice,
  result: HandledEvent,
  event: CloudTrailEvent,
  ctx: EngineContext,
): Promise<'sent' | 'failed' | 'no-topic'> {
  const topic = ctx.settings.noticeTopicArn;
  if (topic === undefined || result.notice === null) {
    ctx.logger?.warn('no notice topic configured (DRIFTGUARD_NOTICE_TOPIC_ARN): notice logged only', {
      subject: notice.subject,
    });
    return 'no-topic';
  }
  try {
    const messageId = await publishTo(ctx, notice, topic, event.detail.awsRegion);
    result.notice = { ...result.notice, published: true, ...(messageId ? { messageId } : {}) };
    return 'sent';
  } catch (error) {
    ctx.logger?.error('notice could not be published', error as Error);
    result.notice = { ...result.notice, error: `${awsErrorName(error)}: ${(error as Error).message}` };
    result.outcome = 'failed';
    result.reason = `${result.reason}; the notice could not be published`;
    return 'failed';
  }
}
