/**
 * AWS Config keeps recording everything it recorded, in every region: a stopped recorder is started, a deleted recorder
 * or channel is put back from the region's baseline, a narrowed recording (fewer types, no global types, daily instead
 * of continuous, another role) is undone, a channel pointed elsewhere is pointed back. Widening changes are accepted and
 * the baseline follows. Service-linked recorders are their owning service's, and left alone. Reading and comparing is
 * lib/config-recording.ts, the baselines lib/config-baselines.ts.
 */
import {
  ConfigServiceClient,
  PutConfigurationRecorderCommand,
  PutDeliveryChannelCommand,
  StartConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { awsErrorName } from '../aws.js';
import { type ConfigBaseline, ConfigBaselineStore } from '../config-baselines.js';
import {
  type ChannelConfig,
  channelNarrowings,
  isServiceLinkedRecorder,
  type Narrowing,
  putChannelInput,
  putRecorderInput,
  type RecorderConfig,
  type RegionRecording,
  readRegionRecording,
  recorderNarrowings,
  recordingGaps,
  restoredChannel,
  restoredRecorder,
} from '../config-recording.js';
import { type CloudTrailEvent, MalformedEventError } from '../envelope.js';
import {
  type ActionOf,
  command,
  type Decision,
  defineRule,
  type EngineRecord,
  type Finding,
  noAction,
  type Resource,
  type RuleContext,
  type Skip,
  STATE_TABLE_ARN,
} from '../rule.js';

export const CONFIG_EVENTS = [
  'StopConfigurationRecorder',
  'DeleteConfigurationRecorder',
  'DeleteDeliveryChannel',
  'PutConfigurationRecorder',
  'PutDeliveryChannel',
] as const;

/** The calls that may widen what is recorded: when nothing is narrowed, the baseline follows them. */
const ACCEPTS_CHANGES: readonly string[] = ['PutConfigurationRecorder', 'PutDeliveryChannel'];

/** The customer-managed recorders of any region (IAM's ConfigurationRecorder resource type). */
const RECORDER_ARNS = 'arn:${AWS::Partition}:config:*:${AWS::AccountId}:configuration-recorder/*';
/** IAM defines no resource type for the delivery-channel calls: "*" only (Service Authorization Reference). */
const CHANNELS = '*';

export const CONFIG_COMMANDS = {
  'config:PutConfigurationRecorder': command(ConfigServiceClient, PutConfigurationRecorderCommand, RECORDER_ARNS, {
    // The recorder's role is handed to Config, and only to Config.
    alsoNeeds: [
      {
        actions: ['iam:PassRole'],
        resource: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
        condition: { StringEquals: { 'iam:PassedToService': 'config.amazonaws.com' } },
      },
    ],
  }),
  'config:PutDeliveryChannel': command(ConfigServiceClient, PutDeliveryChannelCommand, CHANNELS),
  'config:StartConfigurationRecorder': command(ConfigServiceClient, StartConfigurationRecorderCommand, RECORDER_ARNS),
};

export type ConfigAction = ActionOf<typeof CONFIG_COMMANDS>;

interface RegionReference {
  region: string;
  account: string;
}

/** What an event touched: the region's recorder (named by recorder events) or its channel (named by channel events). */
export interface ConfigEventTarget extends RegionReference {
  recorderName?: string;
  channelName?: string;
  eventName: string;
  eventId: string;
  eventTime: string;
}

/** The sweep's item: one region. */
export interface ConfigSweepTarget extends RegionReference {
  sweepId: string;
}

export type ConfigTarget = ConfigEventTarget | ConfigSweepTarget;

export interface ConfigState {
  target: ConfigTarget;
  current: RegionRecording;
  baseline: ConfigBaseline | undefined;
  /** Read time, so that decide() stays pure. */
  now: string;
}

const eventOf = (target: ConfigTarget): ConfigEventTarget | undefined => ('eventName' in target ? target : undefined);

function baselineRecord(target: ConfigTarget, mode: 'first' | 'follow'): EngineRecord {
  const event = eventOf(target);
  return {
    kind: 'config-baseline',
    region: target.region,
    from: event ? event.eventId : (target as ConfigSweepTarget).sweepId,
    mode,
    // An event's first capture stores only a region that meets the policy when it is read again (after the writes).
    ...(mode === 'first' && event ? { onlyIfCompliantFor: event.account } : {}),
    summary: mode === 'first' ? 'baseline captured' : 'the baseline follows',
  };
}

const putRecorder = (recorder: RecorderConfig, summary: string): ConfigAction => ({
  api: 'config:PutConfigurationRecorder',
  params: putRecorderInput(recorder),
  summary,
  brief: 'recorder restored',
});

const putChannel = (channel: ChannelConfig, summary: string): ConfigAction => ({
  api: 'config:PutDeliveryChannel',
  params: putChannelInput(channel),
  summary,
  brief: 'channel restored',
});

const startRecorder = (name: string): ConfigAction => ({
  api: 'config:StartConfigurationRecorder',
  params: { ConfigurationRecorderName: name },
  summary: `recorder ${name} started`,
  brief: 'recording started',
});

/** The exact steps to turn Config on where the engine has nothing to restore from (it invents no bucket or role). */
export function turnOnSteps(region: string, account: string): string[] {
  const role = `arn:aws:iam::${account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`;
  return [
    `AWS Config has no recorder in ${region} and the engine has no baseline to restore one from. Turn it on: aws iam create-service-linked-role --aws-service-name config.amazonaws.com (once per account, if missing); ` +
      `aws configservice put-configuration-recorder --region ${region} --configuration-recorder name=default,roleARN=${role} --recording-group allSupported=true,includeGlobalResourceTypes=true; ` +
      `aws configservice put-delivery-channel --region ${region} --delivery-channel name=default,s3BucketName=<a bucket whose policy lets config.amazonaws.com call s3:GetBucketAcl, s3:ListBucket and s3:PutObject>; ` +
      `aws configservice start-configuration-recorder --region ${region} --configuration-recorder-name default. The sweep then captures its baseline.`,
  ];
}

function needsHuman(reason: string, steps: string[], findings: Finding[] = []): Decision<never> {
  return { status: 'drifted', reason, findings, actions: [], needsHuman: steps };
}

/** No baseline: the sweep captures one (starting a stopped recorder first); an event cannot tell what was meant. */
function decideWithoutBaseline(state: ConfigState): Decision<ConfigAction> {
  const { target, current } = state;
  const { recorder, channel } = current;
  if (!recorder)
    return needsHuman(
      `no AWS Config recorder in ${target.region}`,
      turnOnSteps(target.region, target.account),
      recordingGaps(current, target.account),
    );
  const gaps = recordingGaps(current, target.account);
  const start = !current.recording && channel ? [startRecorder(recorder.name)] : [];
  const findings: Finding[] = [
    ...(current.recording
      ? []
      : [{ attribute: 'recording', before: 'off', after: channel ? 'on' : 'off (no channel)' }]),
    ...gaps,
  ];
  const event = eventOf(target);
  // An event (the attacker's own, maybe) captures only a region that fully meets the policy, recording or started
  // here (and checked again when kept); otherwise only the sweep captures the region as it is, and says what it lacks.
  const meetsPolicy = gaps.length === 0 && (current.recording || start.length > 0);
  const capture = event === undefined || meetsPolicy ? [baselineRecord(target, 'first')] : [];
  const gapText = gaps.map((g) => `${g.attribute} ${g.before}`).join(', ');
  const steps = gaps.length
    ? [
        event
          ? `Recorder ${recorder.name} in ${target.region} has no baseline and records ${gapText}: the engine cannot tell what it should be. Set it as it should be (all supported types with global types, continuous, the service-linked role AWSServiceRoleForConfig, a delivery channel with the account's own key and topic, no failure); the sweep then captures its baseline.`
          : `Recorder ${recorder.name} in ${target.region} was first seen by the sweep with ${gapText}: its baseline records it as it is; widen it if that is not intended (the baseline follows).`,
      ]
    : [];
  if (findings.length === 0) {
    return noAction('compliant', `recorder ${recorder.name} records everything`, capture);
  }
  return {
    status: 'drifted',
    reason: `${event ? 'no baseline' : 'first seen by the sweep'}: ${findings.map((f) => f.attribute).join(', ')} short of the policy`,
    findings,
    actions: start,
    needsHuman: steps,
    bookkeeping: capture,
  };
}

const findingText = (n: Narrowing) => `${n.attribute} ${n.before} -> ${n.after}`;

/** What one part of the region (recorder, channel, recording) needs: its findings, writes and steps for a human. */
interface Fixes {
  findings: Finding[];
  actions: ConfigAction[];
  suspicious: string[];
  steps: string[];
}

const noFixes = (): Fixes => ({ findings: [], actions: [], suspicious: [], steps: [] });

const sinceEvent = (target: ConfigTarget) => {
  const event = eventOf(target);
  return event ? ` since ${event.eventTime}` : '';
};

/** The recorder: put back when gone, or when narrowed (what the change widened is kept). */
function recorderFixes({ target, current, baseline }: ConfigState & { baseline: ConfigBaseline }): Fixes {
  const fixes = noFixes();
  if (!current.recorder) {
    fixes.findings.push({
      attribute: 'recorder',
      before: `deleted (nothing recorded${sinceEvent(target)})`,
      after: `re-created from the baseline of ${baseline.capturedAt}`,
    });
    fixes.actions.push(
      putRecorder(
        baseline.recorder,
        `recorder ${baseline.recorder.name} re-created as in the baseline (role ${baseline.recorder.roleArn})`,
      ),
    );
    return fixes;
  }
  const narrowed = recorderNarrowings(baseline.recorder, current.recorder);
  if (narrowed.length > 0) {
    fixes.findings.push(...narrowed);
    fixes.suspicious.push(...narrowed.filter((n) => n.suspicious).map(findingText));
    fixes.actions.push(
      putRecorder(
        restoredRecorder(baseline.recorder, current.recorder),
        `${narrowed.map((n) => n.attribute).join(', ')} back to the baseline (what the change widened is kept)`,
      ),
    );
  }
  return fixes;
}

/** The channel: put back when gone, or pointed back at the baseline's destinations (it needs the recorder first). */
function channelFixes({ target, current, baseline }: ConfigState & { baseline: ConfigBaseline }): Fixes {
  const fixes = noFixes();
  if (!baseline.channel) {
    if (!current.channel) {
      const name = current.recorder?.name ?? baseline.recorder.name;
      fixes.steps.push(
        `Recorder ${name} in ${target.region} has no delivery channel and its baseline names none: create one (aws configservice put-delivery-channel --region ${target.region} --delivery-channel name=default,s3BucketName=<a bucket with Config's bucket policy>); Config records nothing without it.`,
      );
    }
    return fixes;
  }
  if (!current.channel) {
    fixes.findings.push({
      attribute: 'delivery channel',
      before: 'deleted',
      after: `re-created to bucket ${baseline.channel.s3BucketName}`,
    });
    fixes.actions.push(
      putChannel(
        baseline.channel,
        `delivery channel ${baseline.channel.name} re-created as in the baseline (bucket ${baseline.channel.s3BucketName})`,
      ),
    );
    return fixes;
  }
  const changed = channelNarrowings(baseline.channel, current.channel);
  if (changed.length > 0) {
    fixes.findings.push(...changed);
    fixes.suspicious.push(...changed.filter((n) => n.suspicious).map(findingText));
    fixes.actions.push(
      putChannel(
        restoredChannel(baseline.channel, current.channel),
        `delivery channel back to the baseline's destinations (bucket ${baseline.channel.s3BucketName})`,
      ),
    );
  }
  return fixes;
}

/** Recording on (it needs a channel: after the channel's write). */
function recordingFixes({ target, current, baseline }: ConfigState & { baseline: ConfigBaseline }): Fixes {
  const fixes = noFixes();
  const hasChannel = current.channel !== undefined || baseline.channel !== undefined;
  const recreated = !current.recorder;
  if ((recreated || !current.recording) && hasChannel) {
    fixes.findings.push({
      attribute: 'recording',
      before: recreated ? 'off (recorder deleted)' : `off (stopped${sinceEvent(target)})`,
      after: 'on',
    });
    fixes.actions.push(startRecorder(current.recorder?.name ?? baseline.recorder.name));
  } else if (!current.recording) {
    fixes.findings.push({ attribute: 'recording', before: 'off', after: 'off (no delivery channel)' });
  }
  return fixes;
}

export function decideConfigFixes(state: ConfigState): Decision<ConfigAction> {
  const { target, current, baseline } = state;
  const event = eventOf(target);
  if (!baseline) return decideWithoutBaseline(state);
  const withBaseline = { ...state, baseline };
  // In the order AWS requires: the recorder, then the channel, then recording.
  const parts = [recorderFixes(withBaseline), channelFixes(withBaseline), recordingFixes(withBaseline)];
  const findings = parts.flatMap((p) => p.findings);
  const actions = parts.flatMap((p) => p.actions);
  const suspicious = parts.flatMap((p) => p.suspicious);
  const steps = parts.flatMap((p) => p.steps);
  const recorderName = current.recorder?.name ?? baseline.recorder.name;

  if (current.recorderError) {
    steps.push(
      `Recorder ${recorderName} in ${target.region} is on but fails to record (${current.recorderError}): Config records nothing. Check that its role ${current.recorder?.roleArn ?? baseline.recorder.roleArn} still trusts config.amazonaws.com and keeps the AWS_ConfigRole policy with no Deny, and who changed it.`,
    );
  }
  if (current.deliveryError) {
    steps.push(
      `Delivery channel ${current.channel?.name} in ${target.region} fails to deliver (${current.deliveryError}): check that its bucket's policy lets config.amazonaws.com write, and its KMS key lets Config use it.`,
    );
  }
  if (suspicious.length > 0) {
    steps.unshift(
      `Find out why ${suspicious.join('; ')}: pointing Config at another role, bucket, key or topic is how its record gets diverted. The baseline's were put back.`,
    );
  }
  const follows =
    event !== undefined && ACCEPTS_CHANGES.includes(event.eventName) ? [baselineRecord(target, 'follow')] : [];
  if (actions.length === 0 && findings.length === 0) {
    return steps.length
      ? {
          ...needsHuman(`recorder ${recorderName}: as its baseline says, but not all is well`, steps),
          bookkeeping: follows,
        }
      : noAction(
          'compliant',
          follows.length ? `${event?.eventName} narrows nothing: accepted` : 'recording as its baseline says',
          follows,
        );
  }
  return {
    status: 'drifted',
    reason: `${findings.map((f) => f.attribute).join(', ')} weakened${suspicious.length ? ` (suspicious: ${suspicious.join('; ')})` : ''}`,
    findings,
    actions,
    needsHuman: steps,
    ...(follows.length ? { bookkeeping: follows } : {}),
  };
}

/** A name CloudTrail recorded in requestParameters (at `path`), or a MalformedEventError naming the field. */
function requireName(event: CloudTrailEvent, path: string[]): string {
  let value: unknown = event.detail.requestParameters;
  for (const key of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  // AWS's own constraint on recorder and channel names (1-256 characters, pattern .*\S.*): the name is a label only,
  // the rule reads the region's present state.
  if (typeof value !== 'string' || value.length > 256 || !/\S/.test(value)) {
    throw new MalformedEventError(
      `${event.detail.eventName} event ${event.detail.eventID}: detail.requestParameters.${path.join('.')} must be a recorder or channel name (1-256 characters, not all blank), got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}`,
    );
  }
  return value;
}

function targetOf(event: CloudTrailEvent): ConfigEventTarget | Skip {
  const { eventName, eventID, eventTime, awsRegion } = event.detail;
  const base = { region: awsRegion, account: event.account, eventName, eventId: eventID, eventTime };
  switch (eventName) {
    case 'DeleteDeliveryChannel':
      return { ...base, channelName: requireName(event, ['deliveryChannelName']) };
    case 'PutDeliveryChannel':
      return { ...base, channelName: requireName(event, ['deliveryChannel', 'name']) };
    default: {
      const recorderName =
        eventName === 'PutConfigurationRecorder'
          ? requireName(event, ['configurationRecorder', 'name'])
          : requireName(event, ['configurationRecorderName']);
      if (isServiceLinkedRecorder(recorderName)) {
        return { skip: `${recorderName} is a service-linked recorder: its owning service sets it, not the account` };
      }
      return { ...base, recorderName };
    }
  }
}

function describeRecording(target: ConfigTarget): Resource {
  const { region } = target;
  const event = eventOf(target);
  return {
    type: 'config-recorder',
    id: event?.recorderName ?? (event?.channelName ? `channel ${event.channelName}` : `recorder in ${region}`),
    region,
    consoleUrl: `https://${region}.console.aws.amazon.com/config/home?region=${region}#/settings`,
  };
}

const baselineStore = (ctx: RuleContext) => new ConfigBaselineStore(ctx.aws, ctx.settings.stateTable);

async function inspectRegion(target: ConfigTarget, ctx: RuleContext): Promise<ConfigState> {
  const current = await readRegionRecording(ctx.aws, target.region);
  const baseline = await baselineStore(ctx).get(target.region);
  return { target, current, baseline, now: new Date().toISOString() };
}

/** Config's refusals that a human must resolve: what to do about each. */
export function explainConfigFailure(action: ConfigAction, error: unknown): string | undefined {
  const bucket = action.api === 'config:PutDeliveryChannel' ? action.params.DeliveryChannel?.s3BucketName : undefined;
  const role =
    action.api === 'config:PutConfigurationRecorder' ? action.params.ConfigurationRecorder?.roleARN : undefined;
  switch (awsErrorName(error)) {
    case 'NoSuchBucketException':
      return `The delivery channel's S3 bucket ${bucket ?? ''} is gone: create it with Config's bucket policy (or choose another bucket and let the baseline follow), then run the sweep.`;
    case 'InsufficientDeliveryPolicyException':
      return `The S3 bucket ${bucket ?? ''} refuses Config: its policy must let config.amazonaws.com call s3:GetBucketAcl, s3:ListBucket and s3:PutObject; fix it, then run the sweep.`;
    case 'InvalidRoleException':
      return `Config refuses the baseline's recorder role ${role ?? ''}: re-create it (or the service-linked role AWSServiceRoleForConfig), then run the sweep.`;
    case 'MaxNumberOfConfigurationRecordersExceededException':
    case 'MaxNumberOfDeliveryChannelsExceededException':
      return `Another recorder or channel now exists in the region: check it by hand, then delete it or let the baseline follow it.`;
    case 'NoAvailableDeliveryChannelException':
      return `The recorder cannot start without a delivery channel: create one (aws configservice put-delivery-channel), then start it.`;
    default:
      return undefined;
  }
}

export const configRecorderOn = defineRule<ConfigTarget, ConfigState, typeof CONFIG_COMMANDS>({
  id: 'config-recorder-on',
  title: 'AWS Config keeps recording everything it recorded, with its delivery channel',
  severity: 'high',
  controls: ['Config.1'],
  trigger: { source: 'aws.config', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...CONFIG_EVENTS] },
  commands: CONFIG_COMMANDS,
  reads: [
    // The reads name no recorder (DescribeConfigurationRecorders({}) answers the account's customer-managed one): a
    // grant on configuration-recorder/* may not match such a request, so these read-only calls are granted on "*".
    {
      actions: [
        'config:DescribeConfigurationRecorders',
        'config:DescribeConfigurationRecorderStatus',
        'config:DescribeDeliveryChannels',
        'config:DescribeDeliveryChannelStatus',
      ],
      resource: CHANNELS,
    },
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resource: STATE_TABLE_ARN,
    },
  ],

  target: targetOf,
  describe: describeRecording,
  inspect: inspectRegion,
  decide: decideConfigFixes,

  async classifyFailure(action, error) {
    const step = explainConfigFailure(action, error);
    return step === undefined ? undefined : { kind: 'refused', step };
  },

  async verify(state, ctx) {
    const { baseline } = state;
    if (!baseline) return [];
    const now = await readRegionRecording(ctx.aws, state.target.region);
    const left: string[] = [];
    if (!now.recorder)
      left.push(`Recorder ${baseline.recorder.name} in ${state.target.region} is still missing: re-create it by hand.`);
    if (baseline.channel && !now.channel)
      left.push(
        `Delivery channel ${baseline.channel.name} in ${state.target.region} is still missing: re-create it by hand.`,
      );
    if (now.recorder && !now.recording && now.channel)
      left.push(`Recorder ${now.recorder.name} in ${state.target.region} is still stopped: start it by hand.`);
    return left;
  },

  sweep: {
    pass: 'config-recorders',
    async list(region, _token, ctx) {
      return { items: [{ region, account: ctx.account, sweepId: ctx.sweepId } satisfies ConfigSweepTarget] };
    },
    async assess(target: ConfigSweepTarget, _region, ctx) {
      const state = await inspectRegion(target, ctx);
      return {
        name: `config ${target.region}`,
        resource: describeRecording(target),
        state,
        decision: decideConfigFixes(state),
      };
    },
  },
});
