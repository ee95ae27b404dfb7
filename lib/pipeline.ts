/** One event through one rule: parse, screen, target, inspect, decide, apply, notify. Shared by Lambda, replay and tests. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient } from '@aws-sdk/client-sns';
import { sendAction } from './actions.js';
import { type AwsClients, arnRegion, awsErrorName } from './aws.js';
import { type CloudTrailEvent, parseCloudTrailEvent } from './envelope.js';
import { NoticeOutbox } from './notice-outbox.js';
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
  const resource = rule.describe(target);
  ctx.logger?.appendKeys({ rule: rule.id, resource: resource.id, eventId: base.eventId });
  const ruleContext = { settings: ctx.settings, aws: ctx.aws };
  let decision = rule.preScreen?.(target, ctx.settings);
  let state: unknown;
  if (decision === undefined) {
    state = await rule.inspect(target, ruleContext);
    if (state === undefined)
      return ignored(base, rule.id, resource, `${resource.type} ${resource.id} no longer exists: nothing to do`);
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
  // Only where fixes are written: then a notice is claimed before the first write.
  let outbox: NoticeOutbox | undefined;
  let claimed = true;
  let earlier: EarlierWrite[] = [];
  const settled = await settleDecision(
    rule,
    resource,
    state,
    decision,
    { ...ruleContext, dryRun: ctx.dryRun ?? false },
    async (d) => {
      // Claimed before anything is written: if a later step fails, the retry still finds this notice and sends it.
      outbox = outboxOf(ctx);
      if (outbox) {
        const preliminary = noticeOf(d, outcomeOf(true, 0, d), d.reason, d.actions, []);
        const claim = await outbox.claim(
          recordKey(event),
          noticeKey(rule.id),
          preliminary,
          ctx.settings.noticeTopicArn ?? '',
        );
        claimed = claim.claimed;
        earlier = claim.earlierWrites;
      }
    },
  );
  if (settled.gone)
    return ignored(base, rule.id, resource, `${resource.type} ${resource.id} was deleted meanwhile: nothing to do`);
  if (settled.outcome === 'compliant' || settled.outcome === 'ignored') {
    await flushPendingNotices(event, ctx);
    return {
      ...ignored(base, rule.id, resource, settled.reason),
      outcome: settled.outcome,
      findings: settled.decision.findings,
    };
  }
  decision = settled.decision;
  const { outcome, reason, failures } = settled;
  const notice = noticeOf(decision, outcome, reason, settled.done, failures, earlier);
  // A failed attempt's writes are kept for the notice that follows (the retry re-reads them as done).
  if (outcome === 'failed' && outbox) {
    const done = settled.done.map(({ api, summary }) => ({ api, summary }));
    await outbox.keepWrites(recordKey(event), noticeKey(rule.id), done);
  }
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
  if (NOTIFIED.includes(outcome) && !ctx.dryRun) {
    if (claimed) await deliver(notice, result, event, ctx, outbox);
    else
      result.notice = {
        ...result.notice,
        error: 'already sent for this event (a repeated delivery)',
      } as HandledEvent['notice'];
  }
  ctx.logger?.info('event handled', { outcome: result.outcome, reason: result.reason, actions: result.actions.length });
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
 * engine's own records kept. Shared by the event pipeline and the sweep; `beforeWrites` runs before the first write.
 */
export async function settleDecision(
  rule: AnyRuleDeclaration,
  resource: Resource,
  state: unknown,
  decision: Decision,
  ctx: RuleContext & { dryRun: boolean },
  beforeWrites?: (decision: Decision) => Promise<void>,
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
  if (writes) {
    await beforeWrites?.(decision);
    await keepRecords(decision, ctx, 'before-writes');
  }
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
  ctx: RuleContext,
  when: 'before-writes' | 'after-writes' = 'after-writes',
): Promise<string[]> {
  const notKept: string[] = [];
  for (const record of decision.bookkeeping ?? []) {
    if (keptBeforeWrites(record) !== (when === 'before-writes')) continue;
    const why = await keepRecord(record, ctx);
    if (why !== undefined) notKept.push(why);
  }
  return notKept;
}

const withoutFollows = (records: EngineRecord[] | undefined) =>
  records?.filter(
    (record) => !((record.kind === 'trail-baseline' || record.kind === 'config-baseline') && record.mode === 'follow'),
  );

function outboxOf(ctx: EngineContext): NoticeOutbox | undefined {
  return ctx.settings.stateTable && !ctx.dryRun ? new NoticeOutbox(ctx.aws, ctx.settings.stateTable) : undefined;
}

async function publishTo(ctx: EngineContext, notice: Notice, topic: string, fallbackRegion: string) {
  // The topic may live in another region than the event; publish where the topic is.
  const region = arnRegion(topic) ?? fallbackRegion;
  return publishNotice(ctx.aws.client(SNSClient, region), notice, topic);
}

/** Publishes what an earlier attempt at this event claimed but could not send (its publish failed, then a retry). */
async function flushPendingNotices(event: CloudTrailEvent, ctx: EngineContext) {
  const outbox = outboxOf(ctx);
  if (!outbox) return;
  const record = recordKey(event);
  for (const pending of await outbox.pending(record)) {
    await publishTo(ctx, pending.notice, pending.topicArn, event.detail.awsRegion);
    await recordSent(outbox, record, pending.key, ctx);
  }
}

/**
 * Sent: a failure to record it is logged, not thrown (a retry would send the notice again); it only risks a second
 * notice when this very event comes back after the record expires.
 */
async function recordSent(outbox: NoticeOutbox, record: string, key: string, ctx: EngineContext) {
  await outbox.markSent(record, key).catch((error: unknown) => {
    ctx.logger?.warn('notice sent but not recorded as sent', error as Error);
  });
}

/** One notice per event and rule: a repeated delivery, or a retry after a repaired failure, sends no second one. */
function noticeKey(ruleId: string): string {
  return `${ruleId}#notice`;
}

async function deliver(
  notice: Notice,
  result: HandledEvent,
  event: CloudTrailEvent,
  ctx: EngineContext,
  outbox: NoticeOutbox | undefined,
) {
  const topic = ctx.settings.noticeTopicArn;
  if (topic === undefined || result.notice === null) {
    ctx.logger?.warn('no notice topic configured (DRIFTGUARD_NOTICE_TOPIC_ARN): notice logged only', {
      subject: notice.subject,
    });
    return;
  }
  // Notices are kept per record: another record under the same event id is notified on its own.
  const record = recordKey(event);
  const notifyAt = ctx.failedNoticeAttempt ?? 1;
  if (result.outcome === 'failed' && outbox && notifyAt > 1) {
    const attempt = await outbox.countFailure(record, String(result.rule));
    if (attempt < notifyAt) {
      result.notice = {
        ...result.notice,
        error: `attempt ${attempt} of ${notifyAt}: notified if the last one fails too`,
      };
      return;
    }
  }
  try {
    const messageId = await publishTo(ctx, notice, topic, event.detail.awsRegion);
    result.notice = { ...result.notice, published: true, ...(messageId ? { messageId } : {}) };
  } catch (error) {
    // Failed, so retried: the claimed notice is still pending and the retry sends it.
    ctx.logger?.error('notice could not be published', error as Error);
    result.notice = { ...result.notice, error: `${awsErrorName(error)}: ${(error as Error).message}` };
    result.outcome = 'failed';
    result.reason = `${result.reason}; the notice could not be published`;
    return;
  }
  if (outbox) await recordSent(outbox, record, noticeKey(String(result.rule)), ctx);
}
