/**
 * CloudTrail trails keep logging with the configuration they had: a stopped trail is started, a weakened attribute is
 * put back (and only that attribute), a deleted trail is re-created exactly from its baseline. Changes that do not
 * weaken a trail are accepted and the baseline follows them. What cannot be done is said precisely (needs-human).
 * Comparing with the baseline is lib/trail-weakenings.ts, the writes lib/trail-restore.ts, the baselines
 * lib/trail-baselines.ts.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from '../aws.js';
import { type CloudTrailEvent, NAME_RULES, requireStringParameter, requireValidName } from '../envelope.js';
import {
  type Decision,
  defineRule,
  type EngineRecord,
  type Finding,
  noAction,
  type Resource,
  type RuleContext,
  type Severity,
} from '../rule.js';
import { type TrailBaseline, TrailBaselineStore } from '../trail-baselines.js';
import {
  explainTrailFailure,
  recreateActions,
  restoreActions,
  TRAIL_ARNS,
  TRAIL_COMMANDS,
  type TrailAction,
} from '../trail-restore.js';
import { trailWeakenings, unrestoredAttributes } from '../trail-weakenings.js';
import { readTrail, type TrailConfig, trailReference } from '../trails.js';

export const TRAIL_EVENTS = [
  'DeleteTrail',
  'StopLogging',
  'UpdateTrail',
  'PutEventSelectors',
  'PutInsightSelectors',
  'CreateTrail',
] as const;

/** The calls that may change a trail in ways the engine accepts (the baseline then follows). */
const ACCEPTS_CHANGES: readonly string[] = ['UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'];

interface TrailReference {
  name: string;
  region: string;
  account: string;
}

/** A trail an event named: which call, which event, and when. */
export interface TrailEventTarget extends TrailReference {
  eventName: string;
  eventId: string;
  eventTime: string;
}

/**
 * A trail the sweep found: listed in its home region (first seen when it has no baseline yet), or known only by its
 * baseline. Who changed it, and when it stopped or was deleted, the sweep cannot know.
 */
export interface TrailSweepTarget extends TrailReference {
  sweepId: string;
  firstSeen: boolean;
}

export type TrailTarget = TrailEventTarget | TrailSweepTarget;

const eventOf = (target: TrailTarget): TrailEventTarget | undefined => ('eventName' in target ? target : undefined);

/**
 * What restoring needs from the trail's KMS key, checked only when a restore would use it. The bucket is checked by
 * CloudTrail itself when the restore writes (see explainTrailFailure): its answer is the truth, and costs no extra call.
 */
export interface Dependencies {
  key?: { id: string; state: string | undefined };
}

export interface TrailState {
  target: TrailTarget;
  current: TrailConfig | undefined;
  baseline: TrailBaseline | undefined;
  dependencies: Dependencies;
  /** Read time, so that decide() stays pure. */
  now: string;
}

function durationText(fromIso: string | undefined, toIso: string): string {
  if (!fromIso) return 'an unknown time';
  const seconds = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** Why a restore that needs the key cannot happen, as steps for a human. */
function blockers({ dependencies }: TrailState): string[] {
  const { key } = dependencies;
  if (key?.state === 'PendingDeletion') {
    return [
      `The trail's KMS key ${key.id} is pending deletion: cancel it (aws kms cancel-key-deletion --key-id ${key.id}, then aws kms enable-key --key-id ${key.id}) before the trail can be restored.`,
    ];
  }
  if (key && key.state !== 'Enabled') {
    return [
      `The trail's KMS key ${key.id} is ${key.state ?? 'gone'}: enable it (or restore it) before the trail can be restored.`,
    ];
  }
  return [];
}

/** The trail's configuration kept as its baseline, once the decision is carried out. */
function baselineRecord(target: TrailTarget): EngineRecord {
  return {
    kind: 'trail-baseline',
    trail: target.name,
    region: target.region,
    from: 'eventId' in target ? target.eventId : target.sweepId,
    summary: 'baseline captured',
  };
}

/** Whether the change that brought us here may carry accepted changes (the baseline then follows the result). */
function acceptsChanges(target: TrailTarget): boolean {
  const event = eventOf(target);
  return event !== undefined && ACCEPTS_CHANGES.includes(event.eventName);
}

function needsHuman(reason: string, steps: string[], severity: Severity, findings: Finding[] = []): Decision<never> {
  return { status: 'drifted', reason, findings, actions: [], needsHuman: steps, severity };
}

export function decideTrailFixes(state: TrailState): Decision<TrailAction> {
  const { target, current, baseline } = state;
  const event = eventOf(target);
  if (event?.eventName === 'CreateTrail') {
    if (!current) return noAction('ignored', `trail ${target.name} no longer exists`);
    return noAction('compliant', `new trail ${target.name}: baseline captured`, [baselineRecord(target)]);
  }
  const critical = event?.eventName === 'DeleteTrail' || event?.eventName === 'StopLogging';
  if (!baseline) {
    const seen = event ? `${event.eventName} by the event's actor` : 'found by the sweep';
    return needsHuman(
      `no baseline for trail ${target.name}: the engine cannot tell what it should be`,
      [
        `Check trail ${target.name} in ${target.region} by hand (${seen}), restore what it should be, then capture its baseline (npm run replay of a CreateTrail event, or the sweep).`,
      ],
      critical ? 'critical' : 'high',
    );
  }
  if (!current) return decideRecreate(state, baseline);

  const weakenings = trailWeakenings(baseline.config, current);
  if (weakenings.length === 0) {
    return acceptsChanges(target)
      ? noAction('compliant', `${event?.eventName} does not weaken the trail: accepted, the baseline follows`, [
          baselineRecord(target),
        ])
      : noAction('compliant', 'the trail is as its baseline says');
  }
  // A key that cannot be used blocks only putting that key back; the other fixes still happen.
  const keyBlocked = blockers(state);
  const restorable = keyBlocked.length > 0 ? weakenings.filter((w) => w.attribute !== 'kmsKeyId') : weakenings;
  // The sweep does not know when logging stopped unless AWS says: the notice says the time is unknown.
  const stoppedFor = durationText(current.stoppedLoggingAt ?? event?.eventTime, state.now);
  const findings = weakenings.map((w) =>
    w.attribute === 'logging'
      ? { ...w, before: `${w.before} (stopped; not logging for ${stoppedFor})`, after: 'off -> on' }
      : w,
  );
  const suspicious = weakenings.filter((w) => w.suspicious).map((w) => `${w.attribute} changed to ${w.after}`);
  const severity = weakenings.some((w) => w.attribute === 'logging') ? 'critical' : 'high';
  if (restorable.length === 0) {
    return needsHuman(`trail ${target.name} was weakened but cannot be restored`, keyBlocked, severity, findings);
  }
  return {
    status: 'drifted',
    reason: `weakened: ${weakenings.map((w) => w.attribute).join(', ')}${suspicious.length ? ` (suspicious: ${suspicious.join('; ')})` : ''}`,
    findings,
    actions: restoreActions(baseline.config, current, weakenings),
    needsHuman: suspicious.length
      ? [
          `Find out why ${target.name}'s ${suspicious.join(' and ')}: changing where a trail writes is how logs get diverted.`,
        ]
      : [],
    severity,
    // Only an update can carry accepted changes beside what it weakened: then the baseline follows the result.
    bookkeeping: acceptsChanges(target) ? [baselineRecord(target)] : [],
  };
}

function decideRecreate(state: TrailState, baseline: TrailBaseline): Decision<TrailAction> {
  const { target } = state;
  const config = baseline.config;
  // The sweep does not know when the trail was deleted: the notice says the time is unknown.
  const gap = durationText(eventOf(target)?.eventTime, state.now);
  const findings: Finding[] = [
    {
      attribute: 'trail',
      before: `deleted (not logging for ${gap})`,
      after: `re-created from the baseline of ${baseline.capturedAt}`,
    },
  ];
  const blocked = blockers(state);
  if (config.isOrganizationTrail) {
    blocked.push(`${config.name} is an organization trail: re-create it from the organization's management account.`);
  }
  if (blocked.length > 0)
    return needsHuman(`trail ${target.name} was deleted and cannot be re-created`, blocked, 'critical', findings);
  return {
    status: 'drifted',
    reason: `trail ${config.name} was deleted`,
    findings,
    actions: recreateActions(config),
    needsHuman: [],
    severity: 'critical',
  };
}

async function inspectDependencies(
  ctx: RuleContext,
  target: TrailTarget,
  baseline: TrailConfig,
  current: TrailConfig | undefined,
) {
  const dependencies: Dependencies = {};
  if (baseline.kmsKeyId && (!current || current.kmsKeyId !== baseline.kmsKeyId)) {
    const kms = ctx.aws.client(KMSClient, arnRegion(baseline.kmsKeyId) ?? target.region);
    try {
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: baseline.kmsKeyId }));
      dependencies.key = { id: baseline.kmsKeyId, state: KeyMetadata?.KeyState };
    } catch (error) {
      if (awsErrorName(error) !== 'NotFoundException') throw error;
      dependencies.key = { id: baseline.kmsKeyId, state: undefined };
    }
  }
  return dependencies;
}

function targetOf(event: CloudTrailEvent): TrailEventTarget {
  const named =
    event.detail.eventName === 'PutEventSelectors' || event.detail.eventName === 'PutInsightSelectors'
      ? requireStringParameter(event, 'trailName')
      : requireStringParameter(event, 'name');
  const { name, region } = trailReference(named, event.detail.awsRegion);
  return {
    name: requireValidName(event, 'the trail', name, NAME_RULES.trail),
    region,
    account: event.account,
    eventName: event.detail.eventName,
    eventId: event.detail.eventID,
    eventTime: event.detail.eventTime,
  };
}

const trailArnOf = ({ region, account, name }: TrailTarget) => `arn:aws:cloudtrail:${region}:${account}:trail/${name}`;

function describeTrail(target: TrailTarget): Resource {
  const { region, name } = target;
  return {
    type: 'trail',
    id: name,
    arn: trailArnOf(target),
    region,
    consoleUrl: `https://${region}.console.aws.amazon.com/cloudtrailv2/home?region=${region}#/trails/arn:aws:cloudtrail:${region}:${target.account}:trail/${encodeURIComponent(name)}`,
  };
}

function baselineStore(ctx: RuleContext) {
  return new TrailBaselineStore(ctx.aws, ctx.settings.stateTable);
}

async function inspectTrail(target: TrailTarget, ctx: RuleContext): Promise<TrailState> {
  const current = await readTrail(ctx.aws, target.name, target.region);
  const baseline =
    eventOf(target)?.eventName === 'CreateTrail'
      ? undefined
      : await baselineStore(ctx).get(current?.trailArn ?? trailArnOf(target));
  const dependencies = baseline ? await inspectDependencies(ctx, target, baseline.config, current) : {};
  return { target, current, baseline, dependencies, now: new Date().toISOString() };
}

/** A trail the sweep sees for the first time: its baseline is captured, nothing else is read or decided. */
function preScreenTrail(target: TrailTarget): Decision<never> | undefined {
  if (!('firstSeen' in target) || !target.firstSeen) return undefined;
  return noAction('compliant', 'new trail: baseline captured', [baselineRecord(target)]);
}

export const trailIntegrity = defineRule<TrailTarget, TrailState, typeof TRAIL_COMMANDS>({
  id: 'cloudtrail-trail-integrity',
  title: 'CloudTrail trails keep logging with the configuration they had',
  severity: 'high',
  controls: ['CloudTrail.1', 'CloudTrail.2', 'CloudTrail.4', 'CloudTrail.5'],
  trigger: { source: 'aws.cloudtrail', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...TRAIL_EVENTS] },
  commands: TRAIL_COMMANDS,
  reads: [
    {
      actions: [
        'cloudtrail:DescribeTrails',
        'cloudtrail:GetTrailStatus',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:GetInsightSelectors',
        'cloudtrail:ListTags',
      ],
      resource: TRAIL_ARNS,
    },
    { actions: ['kms:DescribeKey'], resource: 'arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*' },
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resource: 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${StateTable}',
    },
  ],

  target: targetOf,
  describe: describeTrail,
  preScreen: preScreenTrail,
  inspect: inspectTrail,
  decide: decideTrailFixes,

  async classifyFailure(action, error) {
    const step = explainTrailFailure(action, error);
    return step === undefined ? undefined : { kind: 'refused', step };
  },

  async verify(state, ctx) {
    if (!state.baseline || state.current) return [];
    const { name, region } = state.target;
    return unrestoredAttributes(state.baseline.config, await readTrail(ctx.aws, name, region));
  },

  sweep: {
    pass: 'trails',
    // One page: a region's trails and the baselines of its trails that are no longer listed.
    async list(region, _token, ctx) {
      const { trailList = [] } = await ctx.aws
        .client(CloudTrailClient, region)
        .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
      const store = baselineStore(ctx);
      const sweeping = { region, account: ctx.account, sweepId: ctx.sweepId };
      const items: TrailSweepTarget[] = [];
      const listed = new Set<string>();
      for (const { Name, TrailARN, HomeRegion } of trailList) {
        // A multi-region trail is swept from its home region.
        if (!Name || !TrailARN || (HomeRegion && HomeRegion !== region)) continue;
        listed.add(TrailARN);
        items.push({ ...sweeping, name: Name, firstSeen: (await store.get(TrailARN)) === undefined });
      }
      // A trail with a baseline but no longer listed was deleted while no event was seen: it is re-created.
      for await (const { config } of store.inRegion(region)) {
        if (!listed.has(config.trailArn)) items.push({ ...sweeping, name: config.name, firstSeen: false });
      }
      return { items };
    },
    async assess(target: TrailSweepTarget, _region, ctx) {
      const resource = describeTrail(target);
      const firstSeen = preScreenTrail(target);
      if (firstSeen) return { name: target.name, resource, state: undefined, decision: firstSeen };
      const state = await inspectTrail(target, ctx);
      return { name: target.name, resource, state, decision: decideTrailFixes(state) };
    },
  },
});
