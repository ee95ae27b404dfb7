/**
 * CloudTrail trails keep logging with the configuration they had: a stopped trail is started, a weakened attribute is
 * put back (and only that attribute), a deleted trail is re-created exactly from its baseline. Changes that do not
 * weaken a trail are accepted and the baseline follows them. What cannot be done is said precisely (needs-human).
 */
import {
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  type EventSelector,
  PutEventSelectorsCommand,
  type PutEventSelectorsCommandInput,
  PutInsightSelectorsCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
  type UpdateTrailCommandInput,
} from '@aws-sdk/client-cloudtrail';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from '../aws.js';
import { type CloudTrailEvent, NAME_RULES, requireStringParameter, requireValidName } from '../envelope.js';
import { KeyUsageStore } from '../key-usage.js';
import { type Action, type Decision, defineRule, type Finding, type Resource, type RuleContext } from '../rule.js';
import { type TrailBaseline, TrailBaselineStore } from '../trail-baselines.js';
import {
  coverageNarrowed,
  createTrailInput,
  managementCoverage,
  readTrail,
  type TrailConfig,
  trailReference,
} from '../trails.js';

export const TRAIL_EVENTS = [
  'DeleteTrail',
  'StopLogging',
  'UpdateTrail',
  'PutEventSelectors',
  'PutInsightSelectors',
  'CreateTrail',
] as const;

/** The calls that may change a trail in ways the engine accepts (the baseline then follows). */
const ACCEPTS_CHANGES = ['UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'];

export interface TrailTarget {
  name: string;
  region: string;
  account: string;
  eventName: string;
  eventId: string;
  eventTime: string;
}

/**
 * What restoring needs from the trail's KMS key, checked only when a restore would use it. The bucket is checked by
 * CloudTrail itself when the restore writes (see explainFailure): its answer is the truth, and costs no extra call.
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

export interface Weakening extends Finding {
  /** A change to another bucket or key: restored and flagged as suspicious. */
  suspicious?: boolean;
}

const yesNo = (value: boolean) => (value ? 'on' : 'off');

/** Attribute by attribute: what `current` lost compared with `baseline`. Strengthenings are not weakenings. */
export function trailWeakenings(baseline: TrailConfig, current: TrailConfig): Weakening[] {
  const found: Weakening[] = [];
  const lost = (attribute: string, was: boolean, now: boolean) => {
    if (was && !now) found.push({ attribute, before: yesNo(was), after: yesNo(now) });
  };
  lost('logging', baseline.isLogging, current.isLogging);
  lost('isMultiRegionTrail', baseline.isMultiRegionTrail, current.isMultiRegionTrail);
  lost('logFileValidationEnabled', baseline.logFileValidationEnabled, current.logFileValidationEnabled);
  lost('includeGlobalServiceEvents', baseline.includeGlobalServiceEvents, current.includeGlobalServiceEvents);
  if (baseline.cloudWatchLogsLogGroupArn && (!current.cloudWatchLogsLogGroupArn || !current.cloudWatchLogsRoleArn)) {
    found.push({
      attribute: 'cloudWatchLogs',
      before: `${baseline.cloudWatchLogsLogGroupArn} via ${baseline.cloudWatchLogsRoleArn}`,
      after: current.cloudWatchLogsLogGroupArn ? 'no role' : 'removed',
    });
  } else if (
    baseline.cloudWatchLogsLogGroupArn &&
    baseline.cloudWatchLogsLogGroupArn !== current.cloudWatchLogsLogGroupArn
  ) {
    // Like a bucket or key change: a redirected log stream is how alarms on trail events go quiet.
    found.push({
      attribute: 'cloudWatchLogs',
      before: baseline.cloudWatchLogsLogGroupArn,
      after: current.cloudWatchLogsLogGroupArn ?? 'removed',
      suspicious: true,
    });
  }
  if (baseline.kmsKeyId && baseline.kmsKeyId !== current.kmsKeyId) {
    found.push({
      attribute: 'kmsKeyId',
      before: baseline.kmsKeyId,
      after: current.kmsKeyId ?? 'removed (no encryption)',
      ...(current.kmsKeyId ? { suspicious: true } : {}),
    });
  }
  if (baseline.s3BucketName !== current.s3BucketName) {
    found.push({
      attribute: 's3BucketName',
      before: baseline.s3BucketName,
      after: current.s3BucketName,
      suspicious: true,
    });
  }
  const was = managementCoverage(baseline);
  const now = managementCoverage(current);
  if (coverageNarrowed(was, now)) {
    const text = (c: typeof was) =>
      `${c.readWrite}${c.excludedSources.length ? ` excluding ${c.excludedSources.join(', ')}` : ''}`;
    found.push({ attribute: 'managementEvents', before: text(was), after: text(now) });
  }
  return found;
}

type AdvancedSelector = NonNullable<TrailConfig['advancedEventSelectors']>[number];

const isManagementSelector = (selector: AdvancedSelector) =>
  (selector.FieldSelectors ?? []).some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Management'));

/** An advanced selector recording management events as `coverage` says. */
function advancedManagementSelector(coverage: ReturnType<typeof managementCoverage>): AdvancedSelector {
  const fields: AdvancedSelector['FieldSelectors'] = [{ Field: 'eventCategory', Equals: ['Management'] }];
  if (coverage.readWrite === 'ReadOnly' || coverage.readWrite === 'WriteOnly') {
    fields.push({ Field: 'readOnly', Equals: [coverage.readWrite === 'ReadOnly' ? 'true' : 'false'] });
  }
  if (coverage.excludedSources.length > 0) fields.push({ Field: 'eventSource', NotEquals: coverage.excludedSources });
  return { Name: 'Management events (restored by driftguard)', FieldSelectors: fields };
}

/**
 * The author's selectors, in the kind they now use (basic or advanced: a trail has one or the other), with the
 * baseline's management-event coverage put back and their data-event selectors kept.
 */
export function restoredSelectors(baseline: TrailConfig, current: TrailConfig): PutEventSelectorsCommandInput {
  const TrailName = current.trailArn;
  const wanted = managementCoverage(baseline);
  const currentIsAdvanced = (current.advancedEventSelectors?.length ?? 0) > 0;
  const baselineIsAdvanced = (baseline.advancedEventSelectors?.length ?? 0) > 0;
  if (currentIsAdvanced || (baselineIsAdvanced && !current.eventSelectors?.length)) {
    const kept = (current.advancedEventSelectors ?? []).filter((s) => !isManagementSelector(s));
    const management = baselineIsAdvanced
      ? (baseline.advancedEventSelectors ?? []).filter(isManagementSelector)
      : [advancedManagementSelector(wanted)];
    return { TrailName, AdvancedEventSelectors: [...management, ...kept] };
  }
  const selectors: EventSelector[] = (current.eventSelectors ?? []).map((s) => ({ ...s }));
  const management = selectors.filter((s) => s.IncludeManagementEvents !== false);
  if (management.length === 0) {
    const selector = selectors[0] ?? { DataResources: [] };
    if (selectors.length === 0) selectors.push(selector);
    management.push(selector);
  }
  for (const selector of management) {
    selector.IncludeManagementEvents = true;
    selector.ReadWriteType = wanted.readWrite === 'None' ? 'All' : wanted.readWrite;
    selector.ExcludeManagementEventSources = (selector.ExcludeManagementEventSources ?? []).filter((source) =>
      wanted.excludedSources.includes(source),
    );
  }
  return { TrailName, EventSelectors: selectors };
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

/** CloudTrail's refusals that a human must resolve: what to do about each. */
export function explainTrailFailure(action: Action, error: unknown): string | undefined {
  const named = action.params.S3BucketName;
  const bucket = typeof named === 'string' ? named : "(the trail's bucket)";
  const key = typeof action.params.KmsKeyId === 'string' ? ` ${action.params.KmsKeyId}` : '';
  switch (awsErrorName(error)) {
    case 'S3BucketDoesNotExistException':
      return `The trail's S3 bucket ${bucket} is gone: create it with CloudTrail's bucket policy (or choose another bucket), then restore the trail.`;
    case 'InsufficientS3BucketPolicyException':
      return `The S3 bucket ${bucket} refuses CloudTrail: its bucket policy must let cloudtrail.amazonaws.com call s3:GetBucketAcl and s3:PutObject; fix it, then restore the trail.`;
    case 'InsufficientEncryptionPolicyException':
    case 'KmsKeyNotFoundException':
    case 'KmsKeyDisabledException':
      return `CloudTrail cannot use the trail's KMS key${key} (${awsErrorName(error)}): enable the key and allow cloudtrail.amazonaws.com in its policy, then restore the trail.`;
    case 'InsufficientSnsTopicPolicyException':
      return `The trail's SNS topic refuses CloudTrail: fix its topic policy, then restore the trail.`;
    default:
      return undefined;
  }
}

const capture = (target: TrailTarget): Action => ({
  api: 'driftguard:CaptureTrailBaseline',
  params: { trail: target.name, region: target.region, from: target.eventId },
  summary: 'baseline captured',
  brief: 'baseline captured',
});

function compliant(reason: string, bookkeeping: Action[] = []): Decision {
  return { status: 'compliant', reason, findings: [], actions: [], needsHuman: [], bookkeeping };
}

function needsHuman(
  reason: string,
  steps: string[],
  severity: Decision['severity'],
  findings: Finding[] = [],
): Decision {
  return { status: 'drifted', reason, findings, actions: [], needsHuman: steps, ...(severity ? { severity } : {}) };
}

export function decideTrailFixes(state: TrailState): Decision {
  const { target, current, baseline } = state;
  if (target.eventName === 'CreateTrail') {
    if (!current) return { ...compliant(`trail ${target.name} no longer exists`), status: 'ignored' };
    return compliant(`new trail ${target.name}: baseline captured`, [capture(target)]);
  }
  const critical = target.eventName === 'DeleteTrail' || target.eventName === 'StopLogging';
  if (!baseline) {
    return needsHuman(
      `no baseline for trail ${target.name}: the engine cannot tell what it should be`,
      [
        `Check trail ${target.name} in ${target.region} by hand (${target.eventName} by the event's actor), restore what it should be, then capture its baseline (npm run replay of a CreateTrail event, or the sweep).`,
      ],
      critical ? 'critical' : 'high',
    );
  }
  if (!current) return decideRecreate(state, baseline);

  const weakenings = trailWeakenings(baseline.config, current);
  if (weakenings.length === 0) {
    const follows = ACCEPTS_CHANGES.includes(target.eventName);
    return compliant(
      follows
        ? `${target.eventName} does not weaken the trail: accepted, the baseline follows`
        : 'the trail is as its baseline says',
      follows ? [capture(target)] : [],
    );
  }
  // A key that cannot be used blocks only putting that key back; the other fixes still happen.
  const keyBlocked = blockers(state);
  const restorable = keyBlocked.length > 0 ? weakenings.filter((w) => w.attribute !== 'kmsKeyId') : weakenings;
  const stoppedFor = durationText(current.stoppedLoggingAt ?? target.eventTime, state.now);
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
    bookkeeping: ACCEPTS_CHANGES.includes(target.eventName) ? [capture(target)] : [],
  };
}

function restoreActions(baseline: TrailConfig, current: TrailConfig, weakenings: Weakening[]): Action[] {
  const actions: Action[] = [];
  const update: UpdateTrailCommandInput = { Name: current.trailArn };
  const restored: string[] = [];
  for (const { attribute } of weakenings) {
    switch (attribute) {
      case 'isMultiRegionTrail':
        update.IsMultiRegionTrail = true;
        break;
      case 'logFileValidationEnabled':
        update.EnableLogFileValidation = true;
        break;
      case 'includeGlobalServiceEvents':
        update.IncludeGlobalServiceEvents = true;
        break;
      case 'cloudWatchLogs':
        update.CloudWatchLogsLogGroupArn = baseline.cloudWatchLogsLogGroupArn;
        update.CloudWatchLogsRoleArn = baseline.cloudWatchLogsRoleArn;
        break;
      case 'kmsKeyId':
        update.KmsKeyId = baseline.kmsKeyId;
        break;
      case 's3BucketName':
        update.S3BucketName = baseline.s3BucketName;
        break;
      default:
        continue;
    }
    restored.push(attribute);
  }
  if (restored.length > 0) {
    actions.push({
      api: 'cloudtrail:UpdateTrail',
      params: { ...update },
      summary: `${restored.join(', ')} back to the baseline`,
      brief: `${restored.join(', ')} restored`,
    });
  }
  if (weakenings.some((w) => w.attribute === 'managementEvents')) {
    actions.push({
      api: 'cloudtrail:PutEventSelectors',
      params: { ...restoredSelectors(baseline, current) },
      summary: 'management events back to the baseline (data event selectors kept)',
      brief: 'management events restored',
    });
  }
  if (weakenings.some((w) => w.attribute === 'logging')) {
    actions.push({
      api: 'cloudtrail:StartLogging',
      params: { Name: current.trailArn },
      summary: 'logging started',
      brief: 'logging started',
    });
  }
  return actions;
}

function decideRecreate(state: TrailState, baseline: TrailBaseline): Decision {
  const { target } = state;
  const config = baseline.config;
  const gap = durationText(target.eventTime, state.now);
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
  const actions: Action[] = [
    {
      api: 'cloudtrail:CreateTrail',
      params: { ...createTrailInput(config) },
      summary: `trail ${config.name} re-created (bucket ${config.s3BucketName}, multi-region ${yesNo(config.isMultiRegionTrail)}, validation ${yesNo(config.logFileValidationEnabled)}, ${config.tags.length} tags)`,
      brief: 're-created',
    },
  ];
  const selectors = config.advancedEventSelectors?.length
    ? { AdvancedEventSelectors: config.advancedEventSelectors }
    : { EventSelectors: config.eventSelectors ?? [] };
  actions.push({
    api: 'cloudtrail:PutEventSelectors',
    params: { TrailName: config.name, ...selectors },
    summary: 'event selectors as in the baseline',
    brief: '',
  });
  if (config.insightSelectors.length > 0) {
    actions.push({
      api: 'cloudtrail:PutInsightSelectors',
      params: { TrailName: config.name, InsightSelectors: config.insightSelectors },
      summary: `insight selectors ${config.insightSelectors.map((s) => s.InsightType).join(', ')}`,
      brief: '',
    });
  }
  if (config.isLogging) {
    actions.push({
      api: 'cloudtrail:StartLogging',
      params: { Name: config.name },
      summary: 'logging started',
      brief: 'logging',
    });
  }
  return {
    status: 'drifted',
    reason: `trail ${config.name} was deleted`,
    findings,
    actions,
    needsHuman: [],
    severity: 'critical',
  };
}

/** The attributes the read-back differs on, as a human's to-do list (empty when the trail equals its baseline). */
export function unrestoredAttributes(baseline: TrailConfig, now: TrailConfig | undefined): string[] {
  if (!now)
    return [`Trail ${baseline.name} is still missing after the restore: re-create it from the baseline by hand.`];
  const keys: (keyof TrailConfig)[] = [
    's3BucketName',
    's3KeyPrefix',
    'snsTopicName',
    'includeGlobalServiceEvents',
    'isMultiRegionTrail',
    'logFileValidationEnabled',
    'cloudWatchLogsLogGroupArn',
    'cloudWatchLogsRoleArn',
    'kmsKeyId',
    'isOrganizationTrail',
    'eventSelectors',
    'advancedEventSelectors',
    'insightSelectors',
    'tags',
    'isLogging',
  ];
  const canonical = (value: unknown) => JSON.stringify(value ?? null);
  return keys
    .filter((key) => canonical(baseline[key]) !== canonical(now[key]))
    .map((key) => `${key} could not be restored: baseline ${canonical(baseline[key])}, now ${canonical(now[key])}.`);
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

function targetOf(event: CloudTrailEvent): TrailTarget {
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

function store(ctx: RuleContext) {
  return new TrailBaselineStore(ctx.aws, ctx.settings.stateTable);
}

/** Reads a trail's configuration and stores it as its baseline; the sweep, replay and deploy capture reuse this. */
export async function captureTrailBaseline(ctx: RuleContext, name: string, region: string, from: string) {
  const config = await readTrail(ctx.aws, name, region);
  if (!config) return undefined;
  const baseline = { config, capturedAt: new Date().toISOString(), capturedFrom: from };
  await store(ctx).put(baseline);
  // The KMS guard protects the key a trail writes with.
  if (config.kmsKeyId && ctx.settings.stateTable) {
    await new KeyUsageStore(ctx.aws, ctx.settings.stateTable).record(config.kmsKeyId, {
      type: 'trail',
      region,
      id: config.trailArn,
    });
  }
  return baseline;
}

export const trailIntegrity = defineRule<TrailTarget, TrailState>({
  id: 'cloudtrail-trail-integrity',
  title: 'CloudTrail trails keep logging with the configuration they had',
  severity: 'high',
  controls: ['CloudTrail.1', 'CloudTrail.2', 'CloudTrail.4', 'CloudTrail.5'],
  trigger: { source: 'aws.cloudtrail', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...TRAIL_EVENTS] },
  permissions: [
    {
      actions: [
        'cloudtrail:DescribeTrails',
        'cloudtrail:GetTrailStatus',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:GetInsightSelectors',
        'cloudtrail:ListTags',
        'cloudtrail:CreateTrail',
        'cloudtrail:UpdateTrail',
        'cloudtrail:StartLogging',
        'cloudtrail:PutEventSelectors',
        'cloudtrail:PutInsightSelectors',
        'cloudtrail:AddTags',
      ],
      resource: 'arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*',
    },
    { actions: ['kms:DescribeKey'], resource: 'arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*' },
    {
      actions: ['iam:PassRole'],
      resource: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
      condition: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
    },
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resource: 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${StateTable}',
    },
  ],

  target: targetOf,

  describe(target): Resource {
    const { region, name } = target;
    return {
      type: 'trail',
      id: name,
      arn: `arn:aws:cloudtrail:${region}:${target.account}:trail/${name}`,
      region,
      consoleUrl: `https://${region}.console.aws.amazon.com/cloudtrailv2/home?region=${region}#/trails/arn:aws:cloudtrail:${region}:${target.account}:trail/${encodeURIComponent(name)}`,
    };
  },

  async inspect(target, ctx) {
    const current = await readTrail(ctx.aws, target.name, target.region);
    const arn = current?.trailArn ?? this.describe(target).arn ?? '';
    const baseline = target.eventName === 'CreateTrail' ? undefined : await store(ctx).get(arn);
    const dependencies = baseline ? await inspectDependencies(ctx, target, baseline.config, current) : {};
    return { target, current, baseline, dependencies, now: new Date().toISOString() };
  },

  decide: decideTrailFixes,

  async apply(action, target, ctx) {
    const cloudtrail = ctx.aws.client(CloudTrailClient, target.region);
    const params = action.params as never;
    switch (action.api) {
      case 'cloudtrail:CreateTrail':
        await cloudtrail.send(new CreateTrailCommand(params));
        return;
      case 'cloudtrail:UpdateTrail':
        await cloudtrail.send(new UpdateTrailCommand(params));
        return;
      case 'cloudtrail:PutEventSelectors':
        await cloudtrail.send(new PutEventSelectorsCommand(params));
        return;
      case 'cloudtrail:PutInsightSelectors':
        await cloudtrail.send(new PutInsightSelectorsCommand(params));
        return;
      case 'cloudtrail:StartLogging':
        await cloudtrail.send(new StartLoggingCommand(params));
        return;
      case 'driftguard:CaptureTrailBaseline':
        await captureTrailBaseline(ctx, target.name, target.region, target.eventId);
        return;
      default:
        throw new Error(`cloudtrail-trail-integrity cannot apply ${action.api}`);
    }
  },

  explainFailure: explainTrailFailure,

  async verify(target, state, ctx) {
    if (!state.baseline || state.current) return [];
    return unrestoredAttributes(state.baseline.config, await readTrail(ctx.aws, target.name, target.region));
  },
});

/**
 * Captures the baseline of every trail whose home region is one of `regions` (shadow copies of multi-region trails
 * are left to their home region). Used at deploy, by the replay and by the sweep.
 */
export async function captureTrailBaselines(ctx: RuleContext, regions: string[], from = 'capture'): Promise<string[]> {
  const captured: string[] = [];
  for (const region of regions) {
    const { trailList = [] } = await ctx.aws
      .client(CloudTrailClient, region)
      .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
    for (const trail of trailList) {
      if (!trail.Name || (trail.HomeRegion && trail.HomeRegion !== region)) continue;
      if (await captureTrailBaseline(ctx, trail.Name, region, from)) captured.push(trail.TrailARN ?? trail.Name);
    }
  }
  return captured;
}
