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
  STATE_TABLE_ARN,
} from '../rule.js';
import { bucketListed, S3BucketsClient } from '../s3-buckets.js';
import { type TrailBaseline, TrailBaselineStore, trailBaselinesInRegion } from '../trail-baselines.js';
import {
  explainTrailFailure,
  recreateActions,
  restoreActions,
  startLogging,
  TRAIL_COMMANDS,
  type TrailAction,
} from '../trail-restore.js';
import { arnAccount, firstSeenGaps, trailWeakenings, unrestoredAttributes } from '../trail-weakenings.js';
import { readTrail, TRAIL_READS, type TrailConfig, trailReference } from '../trails.js';

export const TRAIL_EVENTS = [
  'DeleteTrail',
  'StopLogging',
  'UpdateTrail',
  'PutEventSelectors',
  'PutInsightSelectors',
  'CreateTrail',
] as const;

/**
 * The calls that may change a trail in ways the engine accepts (the baseline then follows). A CreateTrail of a trail
 * that has a baseline is a re-creation: compared with the baseline like an update.
 */
const ACCEPTS_CHANGES: readonly string[] = ['UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors', 'CreateTrail'];

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
 * What restoring needs from the trail's KMS key and bucket, checked only when a restore would write them: both of the
 * account (the engine never points a trail at another account's bucket or key), the key usable. Whether the bucket
 * lets CloudTrail write is CloudTrail's own answer when the restore writes (see explainTrailFailure).
 */
export interface Dependencies {
  key?: { id: string; state: string | undefined };
  /** Whether the account owns the baseline's bucket (it is among its buckets). */
  bucket?: { name: string; ownedByAccount: boolean };
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

/** What blocks putting one attribute back: the attribute, and the step for a human. */
interface Blocker {
  attribute: 'kmsKeyId' | 's3BucketName';
  step: string;
}

/** Why a restore that needs the key or the bucket cannot happen, as steps for a human. */
function blockers({ dependencies, target }: TrailState): Blocker[] {
  const { key, bucket } = dependencies;
  const found: Blocker[] = [];
  const keyAccount = key ? arnAccount(key.id) : undefined;
  if (key && keyAccount !== undefined && keyAccount !== target.account) {
    found.push({
      attribute: 'kmsKeyId',
      step: `The baseline's KMS key ${key.id} belongs to account ${keyAccount}, not ${target.account}: the engine does not put another account's key on a trail; check that key and the trail by hand.`,
    });
  } else if (key?.state === 'PendingDeletion') {
    found.push({
      attribute: 'kmsKeyId',
      step: `The trail's KMS key ${key.id} is pending deletion: cancel it (aws kms cancel-key-deletion --key-id ${key.id}, then aws kms enable-key --key-id ${key.id}) before the trail can be restored.`,
    });
  } else if (key && key.state !== 'Enabled') {
    found.push({
      attribute: 'kmsKeyId',
      step: `The trail's KMS key ${key.id} is ${key.state ?? 'gone'}: enable it (or restore it) before the trail can be restored.`,
    });
  }
  if (bucket && !bucket.ownedByAccount) {
    found.push({
      attribute: 's3BucketName',
      step: `The baseline's S3 bucket ${bucket.name} is not a bucket of account ${target.account} (another account's, or gone): the engine does not send a trail's logs to a bucket it cannot vouch for; check the bucket and the trail by hand.`,
    });
  }
  return found;
}

/** The trail's configuration kept as its baseline once the decision is carried out: a first capture, or following. */
function baselineRecord(target: TrailTarget, mode: 'first' | 'follow'): EngineRecord {
  return {
    kind: 'trail-baseline',
    trail: target.name,
    region: target.region,
    from: 'eventId' in target ? target.eventId : target.sweepId,
    mode,
    summary: mode === 'first' ? 'baseline captured' : 'the baseline follows',
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
    // Gone again: the DeleteTrail that follows re-creates it from its baseline.
    if (!current) return noAction('ignored', `trail ${target.name} no longer exists`);
    if (!baseline) return noAction('compliant', `new trail ${target.name}`, [baselineRecord(target, 'first')]);
  }
  if (!baseline && current && 'firstSeen' in target && target.firstSeen) return decideFirstSeen(target, current);
  const critical = event?.eventName === 'DeleteTrail' || event?.eventName === 'StopLogging';
  if (!baseline) {
    // Only the engine's roles may write the stack's table: the deployed sweep records the baseline, not a local replay.
    const seen = event ? `${event.eventName} by the event's actor` : 'found by the sweep';
    return needsHuman(
      `no baseline for trail ${target.name}: the engine cannot tell what it should be`,
      [
        `Check trail ${target.name} in ${target.region} by hand (${seen}), restore what it should be, then let the deployed sweep capture its baseline (its next scheduled run, or invoke the function driftguard-<stage>-sweep now).`,
      ],
      critical ? 'critical' : 'high',
    );
  }
  if (!current) return decideRecreate(state, baseline);

  const weakenings = trailWeakenings(baseline.config, current);
  if (weakenings.length === 0) {
    return acceptsChanges(target)
      ? noAction('compliant', `${event?.eventName} does not weaken the trail: accepted`, [
          baselineRecord(target, 'follow'),
        ])
      : noAction('compliant', 'the trail is as its baseline says');
  }
  // A key or bucket that cannot be used blocks only putting that one back; the other fixes still happen.
  const blocked = blockers(state);
  const restorable = weakenings.filter((w) => !blocked.some((b) => b.attribute === w.attribute));
  // The sweep does not know when logging stopped unless AWS says: the notice says the time is unknown.
  const stoppedFor = durationText(current.stoppedLoggingAt ?? event?.eventTime, state.now);
  const findings = weakenings.map((w) =>
    w.attribute === 'logging'
      ? { ...w, before: `${w.before} (stopped; not logging for ${stoppedFor})`, after: 'off -> on' }
      : w,
  );
  const suspicious = weakenings.filter((w) => w.suspicious).map((w) => `${w.attribute} changed to ${w.after}`);
  const severity = weakenings.some((w) => w.attribute === 'logging') ? 'critical' : 'high';
  const blockedSteps = blocked.map((b) => b.step);
  if (restorable.length === 0) {
    return needsHuman(`trail ${target.name} was weakened but cannot be restored`, blockedSteps, severity, findings);
  }
  return {
    status: 'drifted',
    reason: `weakened: ${weakenings.map((w) => w.attribute).join(', ')}${suspicious.length ? ` (suspicious: ${suspicious.join('; ')})` : ''}`,
    findings,
    actions: restoreActions(baseline.config, current, restorable),
    needsHuman: [
      ...(suspicious.length
        ? [
            `Find out why ${target.name}'s ${suspicious.join(' and ')}: changing where a trail writes is how logs get diverted.`,
          ]
        : []),
      ...blockedSteps,
    ],
    severity,
    // Only an update (or a re-creation) can carry accepted changes beside what it weakened: the baseline follows.
    bookkeeping: acceptsChanges(target) && blocked.length === 0 ? [baselineRecord(target, 'follow')] : [],
  };
}

/**
 * A trail the sweep sees for the first time: its present configuration becomes its baseline, but never silently from
 * a stopped or weakened state. A stopped trail is started first; what falls short of the rule's controls is notified.
 */
function decideFirstSeen(target: TrailTarget, current: TrailConfig): Decision<TrailAction> {
  const gaps = firstSeenGaps(current);
  const findings: Finding[] = [
    ...(current.isLogging ? [] : [{ attribute: 'logging', before: 'off (first seen by the sweep)', after: 'on' }]),
    ...gaps,
  ];
  if (findings.length === 0) {
    return noAction('compliant', `first seen by the sweep: ${target.name}`, [baselineRecord(target, 'first')]);
  }
  return {
    status: 'drifted',
    reason: `first seen by the sweep: ${findings.map((f) => f.attribute).join(', ')} short of the policy`,
    findings,
    actions: current.isLogging ? [] : [startLogging(current.trailArn, 'logging started')],
    needsHuman: gaps.length
      ? [
          `Trail ${target.name} was first seen by the sweep with ${gaps.map((g) => `${g.attribute} ${g.before}`).join(', ')}: its baseline records it as it is; strengthen it if that is not intended (the baseline follows).`,
        ]
      : [],
    severity: current.isLogging ? 'high' : 'critical',
    bookkeeping: [baselineRecord(target, 'first')],
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
  const blocked = blockers(state).map((b) => b.step);
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

/** Whether the account owns the bucket: it is among the account's own buckets (ListBuckets lists only those). */
async function ownsBucket(ctx: RuleContext, name: string, region: string): Promise<boolean> {
  return bucketListed(ctx.aws.client(S3BucketsClient, region), name);
}

async function inspectDependencies(
  ctx: RuleContext,
  target: TrailTarget,
  baseline: TrailConfig,
  current: TrailConfig | undefined,
) {
  const dependencies: Dependencies = {};
  if (!current || current.s3BucketName !== baseline.s3BucketName) {
    const name = baseline.s3BucketName;
    dependencies.bucket = { name, ownedByAccount: await ownsBucket(ctx, name, target.region) };
  }
  const keyAccount = baseline.kmsKeyId ? arnAccount(baseline.kmsKeyId) : undefined;
  if (baseline.kmsKeyId && keyAccount !== undefined && keyAccount !== target.account) {
    // Not read: another account's key is not put back, whatever its state.
    if (!current || current.kmsKeyId !== baseline.kmsKeyId)
      dependencies.key = { id: baseline.kmsKeyId, state: undefined };
  } else if (baseline.kmsKeyId && (!current || current.kmsKeyId !== baseline.kmsKeyId)) {
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
  const baseline = await baselineStore(ctx).get(current?.trailArn ?? trailArnOf(target));
  const dependencies = baseline ? await inspectDependencies(ctx, target, baseline.config, current) : {};
  return { target, current, baseline, dependencies, now: new Date().toISOString() };
}

export const trailIntegrity = defineRule<TrailTarget, TrailState, typeof TRAIL_COMMANDS>({
  id: 'cloudtrail-trail-integrity',
  title: 'CloudTrail trails keep logging with the configuration they had',
  severity: 'high',
  controls: ['CloudTrail.1', 'CloudTrail.2', 'CloudTrail.4', 'CloudTrail.5'],
  trigger: { source: 'aws.cloudtrail', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...TRAIL_EVENTS] },
  commands: TRAIL_COMMANDS,
  reads: [
    TRAIL_READS,
    { actions: ['kms:DescribeKey'], resource: 'arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*' },
    // Whether a baseline's bucket is the account's own, before a restore writes to it.
    { actions: ['s3:ListAllMyBuckets'], resource: '*' },
    // A trail's baseline; Scan: the sweep's baselines of a region's trails that are gone (trailBaselinesInRegion).
    { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'], resource: STATE_TABLE_ARN },
  ],

  target: targetOf,
  describe: describeTrail,
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
      for (const { config } of await trailBaselinesInRegion(
        ctx.aws,
        ctx.settings.stateTable,
        region,
        ctx.sharedReads,
      )) {
        if (!listed.has(config.trailArn)) items.push({ ...sweeping, name: config.name, firstSeen: false });
      }
      return { items };
    },
    async assess(target: TrailSweepTarget, _region, ctx) {
      const resource = describeTrail(target);
      const state = await inspectTrail(target, ctx);
      return { name: target.name, resource, state, decision: decideTrailFixes(state) };
    },
  },
});
