/**
 * One stack covers every region: in each other region the account uses, EventBridge rules on the default bus
 * (DRIFTGUARD_FORWARDER_NAME, deployed as driftguard-<stage>-forward, then -2, -3... when the guards' events need more
 * than one pattern) send the guards' events to the home region's default bus, with the stack's forward role
 * (DRIFTGUARD_FORWARD_ROLE_ARN), where the guards' own rules take them.
 * Created at deploy by a custom resource the sweep function serves, removed with the stack, and kept in place by the
 * sweep: a forwarder deleted, disabled, narrowed, or given another target is put back exactly. No event reports those
 * changes reliably (a deleted or disabled forwarder carries nothing home), so no event triggers this rule.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { type AwsClients, awsErrorName, homeRegion } from '../aws.js';
import { canonicalJson } from '../canonical-json.js';
import { answerRequest, type CustomResourceRequest, foreignRequestReason } from '../custom-resource.js';
import { MalformedEventError } from '../envelope.js';
import { type EventPattern, triggersBySource } from '../manifest.js';
import { settleDecision } from '../pipeline.js';
import {
  type ActionOf,
  command,
  type Decision,
  type Finding,
  noAction,
  type Resource,
  type RuleContext,
  type SweepOnlyRule,
  type Trigger,
} from '../rule.js';
import type { Settings } from '../settings.js';

/** The id of the forwarder's one target: the home region's default bus. */
export const HOME_BUS_TARGET_ID = 'driftguard-home-bus';

/** EventBridge's default event-pattern size quota, in characters (adjustable up to 4,096 on request only). */
export const PATTERN_LIMIT = 2048;

/**
 * The most forwarders a region may need: the role's permissions name each one exactly. The template refuses guards
 * whose events need more (forwardPatterns throws).
 */
export const MAX_FORWARDERS = 4;

/** The forwarders' names: the first is DRIFTGUARD_FORWARDER_NAME itself, the next ones end in -2, -3... */
export function forwarderNames(base: string, count = MAX_FORWARDERS): string[] {
  return Array.from({ length: count }, (_, index) => (index === 0 ? base : `${base}-${index + 1}`));
}

// The forwarders bear the forward role's name (driftguard-<stage>-forward): one name the template defines once.
const FORWARDER_ARNS = forwarderNames('${ForwardRole}').map(
  (name) => `arn:\${AWS::Partition}:events:*:\${AWS::AccountId}:rule/${name}`,
);
const FORWARD_ROLE_ARN = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ForwardRole}';

const COMMANDS = {
  'events:PutRule': command(EventBridgeClient, PutRuleCommand, FORWARDER_ARNS),
  'events:EnableRule': command(EventBridgeClient, EnableRuleCommand, FORWARDER_ARNS),
  'events:PutTargets': command(EventBridgeClient, PutTargetsCommand, FORWARDER_ARNS, {
    // The target names the forward role: EventBridge may assume it, nothing else.
    alsoNeeds: [
      {
        actions: ['iam:PassRole'],
        resource: FORWARD_ROLE_ARN,
        condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      },
    ],
  }),
  'events:RemoveTargets': command(EventBridgeClient, RemoveTargetsCommand, FORWARDER_ARNS),
  'events:DeleteRule': command(EventBridgeClient, DeleteRuleCommand, FORWARDER_ARNS),
};

export type ForwarderAction = ActionOf<typeof COMMANDS>;

/** The forwarder a region should have: its rule and its one target. */
export interface ForwarderSpec {
  name: string;
  region: string;
  /** The event pattern as sent to EventBridge (JSON). */
  eventPattern: string;
  description: string;
  target: { Id: string; Arn: string; RoleArn: string };
}

/** The forwarder as a region has it: the rule (undefined when there is none) and its targets. */
export interface ForwarderState {
  spec: ForwarderSpec;
  rule: { state: string | undefined; eventPattern: string | undefined; description: string | undefined } | undefined;
  targets: Target[];
}

/** A guard's events, all the forwarders need of it (a Guard is one; the sweep's plan holds them as data). */
export type GuardEvents = { rules: readonly { trigger: Trigger }[] };

type SourceBranch = { source: string; detailTypes: string[]; eventNames: string[] };

/** Failed calls change nothing: no forwarder carries them. The engine's own calls are left to the home rules. */
const FAILED_CALLS_EXCLUDED = { errorCode: [{ exists: false }] };

function branchesPattern(branches: readonly SourceBranch[]): EventPattern {
  return {
    source: [...new Set(branches.map(({ source }) => source))],
    detail: FAILED_CALLS_EXCLUDED,
    $or: branches.map(({ source, detailTypes, eventNames }) => ({
      source: [source],
      'detail-type': detailTypes,
      detail: { eventName: eventNames },
    })),
  };
}

const fits = (branches: readonly SourceBranch[]) => JSON.stringify(branchesPattern(branches)).length <= PATTERN_LIMIT;

/** A source whose event names alone overflow a pattern, in pieces that each fit. */
function splitToFit(branch: SourceBranch): SourceBranch[] {
  if (fits([branch]) || branch.eventNames.length < 2) return [branch];
  const half = Math.ceil(branch.eventNames.length / 2);
  return [
    ...splitToFit({ ...branch, eventNames: branch.eventNames.slice(0, half) }),
    ...splitToFit({ ...branch, eventNames: branch.eventNames.slice(half) }),
  ];
}

/**
 * The patterns that carry all the guards' events (a rule holds one pattern of at most PATTERN_LIMIT characters): each
 * lists its sources at the top and each source's event names under $or, sources packed in order. Failed calls are
 * left out. The engine's own calls are not: its roles' ARNs would make the patterns' size depend on the stage, the
 * home rules and the handler drop them, and they are few. Deterministic for a set of guards.
 */
export function forwardPatterns(guards: readonly GuardEvents[]): EventPattern[] {
  const branches = triggersBySource(guards.flatMap((guard) => guard.rules))
    .sort((a, b) => a.source.localeCompare(b.source))
    .flatMap(splitToFit);
  const packed: SourceBranch[][] = [];
  for (const branch of branches) {
    const last = packed.at(-1);
    if (last !== undefined && fits([...last, branch])) last.push(branch);
    else packed.push([branch]);
  }
  if (packed.length > MAX_FORWARDERS) {
    throw new Error(
      `the guards' events need ${packed.length} forwarders per region; MAX_FORWARDERS allows ${MAX_FORWARDERS}: raise it`,
    );
  }
  return packed.map(branchesPattern);
}

/** The partition of an ARN (aws, aws-cn, aws-us-gov). */
function partitionOf(arn: string): string {
  return arn.split(':')[1] ?? 'aws';
}

/** Where forwarders go: every region the sweep covers (or DRIFTGUARD_FORWARD_REGIONS) but home; none without a role. */
export function forwardsFrom(region: string, settings: Settings, home = homeRegion()): boolean {
  if (settings.forwardRoleArn === undefined || region === home) return false;
  return settings.forwardRegions === undefined || settings.forwardRegions.includes(region);
}

/** The forwarders a region should have, in order; none when forwarding is off (no forward role). */
export function forwarderSpecs(
  guards: readonly GuardEvents[],
  settings: Settings,
  where: { region: string; home: string; account: string },
): ForwarderSpec[] {
  const roleArn = settings.forwardRoleArn;
  if (roleArn === undefined) return [];
  const patterns = forwardPatterns(guards);
  const names = forwarderNames(settings.forwarderName, patterns.length);
  return patterns.map((pattern, index) => ({
    name: names[index] as string,
    region: where.region,
    eventPattern: JSON.stringify(pattern),
    description: `driftguard: forwards the guards' events to ${where.home}, where the stack is (kept in place by its sweep)${
      patterns.length > 1 ? ` (part ${index + 1} of ${patterns.length})` : ''
    }`,
    target: {
      Id: HOME_BUS_TARGET_ID,
      Arn: `arn:${partitionOf(roleArn)}:events:${where.home}:${where.account}:event-bus/default`,
      RoleArn: roleArn,
    },
  }));
}

const notFound = (error: unknown) => awsErrorName(error) === 'ResourceNotFoundException';

/** Reads the forwarder of the spec's region: the rule on the default bus and every target it has. */
export async function readForwarder(spec: ForwarderSpec, aws: AwsClients): Promise<ForwarderState> {
  const events = aws.client(EventBridgeClient, spec.region);
  const rule = await events.send(new DescribeRuleCommand({ Name: spec.name })).catch((error: unknown) => {
    if (notFound(error)) return undefined;
    throw error;
  });
  if (rule === undefined) return { spec, rule: undefined, targets: [] };
  const targets: Target[] = [];
  let token: string | undefined;
  do {
    const page = await events.send(new ListTargetsByRuleCommand({ Rule: spec.name, NextToken: token }));
    targets.push(...(page.Targets ?? []));
    token = page.NextToken;
  } while (token);
  return {
    spec,
    rule: { state: rule.State, eventPattern: rule.EventPattern, description: rule.Description },
    targets,
  };
}

/** A pattern as JSON with keys in order: EventBridge may hand it back with its keys reordered or its spacing changed. */
function canonicalPattern(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    return text;
  }
}

/** Ours exactly: the home bus with the forward role, the event passed unchanged (no input, transformer or path). */
function isHomeTarget(target: Target, spec: ForwarderSpec): boolean {
  return (
    target.Arn === spec.target.Arn &&
    target.RoleArn === spec.target.RoleArn &&
    target.Input === undefined &&
    target.InputPath === undefined &&
    target.InputTransformer === undefined
  );
}

function putRule(spec: ForwarderSpec, summary: string, brief: string): ForwarderAction {
  return {
    api: 'events:PutRule',
    params: { Name: spec.name, EventPattern: spec.eventPattern, State: 'ENABLED', Description: spec.description },
    summary,
    brief,
  };
}

function putTarget(spec: ForwarderSpec, summary: string): ForwarderAction {
  return { api: 'events:PutTargets', params: { Rule: spec.name, Targets: [spec.target] }, summary, brief: 'target' };
}

const describeTarget = (target: Target) => `${target.Id} -> ${target.Arn}`;

/** The writes that make a region's forwarder what the spec says (pure: state in, decision out). */
export function decideForwarderFixes(state: ForwarderState): Decision<ForwarderAction> {
  const { spec, rule, targets } = state;
  const where = `forwarder ${spec.name} in ${spec.region}`;
  const home = `${spec.target.Arn} (role ${spec.target.RoleArn})`;
  if (rule === undefined) {
    return {
      status: 'drifted',
      reason: `${where} is missing: the guards see none of ${spec.region}'s events`,
      findings: [{ attribute: 'forwarder', before: 'missing', after: `ENABLED, forwarding to ${home}` }],
      actions: [
        putRule(spec, `created ${spec.name} (ENABLED) with the guards' pattern`, 'created'),
        putTarget(spec, `target ${HOME_BUS_TARGET_ID} -> ${home}`),
      ],
      needsHuman: [],
    };
  }
  const findings: Finding[] = [];
  const actions: ForwarderAction[] = [];
  const patternChanged = canonicalPattern(rule.eventPattern) !== canonicalPattern(spec.eventPattern);
  const descriptionChanged = rule.description !== spec.description;
  const disabled = rule.state !== 'ENABLED';
  if (patternChanged) findings.push({ attribute: 'eventPattern', before: 'changed', after: "the guards' pattern" });
  if (descriptionChanged) {
    findings.push({ attribute: 'description', before: rule.description ?? 'none', after: spec.description });
  }
  if (disabled) findings.push({ attribute: 'state', before: rule.state ?? 'unknown', after: 'ENABLED' });
  if (patternChanged || descriptionChanged) {
    // PutRule replaces the pattern and the state together: one write restores both.
    actions.push(putRule(spec, `restored the pattern${disabled ? ' and ENABLED' : ''}`, 'pattern restored'));
  } else if (disabled) {
    actions.push({
      api: 'events:EnableRule',
      params: { Name: spec.name },
      summary: `${rule.state ?? 'unknown'} -> ENABLED`,
      brief: 'enabled',
    });
  }
  const ours = targets.find((target) => target.Id === HOME_BUS_TARGET_ID);
  if (ours === undefined || !isHomeTarget(ours, spec)) {
    findings.push({ attribute: 'target', before: ours ? describeTarget(ours) : 'missing', after: home });
    actions.push(putTarget(spec, `target ${HOME_BUS_TARGET_ID} ${ours ? 'restored' : 'added'} -> ${home}`));
  }
  // Anything else the forwarder sends to would receive the account's security events: not ours to keep.
  const foreign = targets.filter((target) => target.Id !== HOME_BUS_TARGET_ID);
  if (foreign.length > 0) {
    findings.push({ attribute: 'otherTargets', before: foreign.map(describeTarget).join(', '), after: 'none' });
    actions.push({
      api: 'events:RemoveTargets',
      params: { Rule: spec.name, Ids: foreign.map((target) => String(target.Id)) },
      summary: `removed ${foreign.map(describeTarget).join(', ')}`,
      brief: 'other targets removed',
    });
  }
  if (actions.length === 0) return noAction('compliant', `${where} forwards the guards' events to ${home}`);
  return {
    status: 'drifted',
    reason: `${where} was changed: ${findings.map((finding) => finding.attribute).join(', ')}`,
    findings,
    actions,
    needsHuman: [],
  };
}

export function describeForwarder(spec: ForwarderSpec, account: string): Resource {
  return {
    type: 'EventBridge rule',
    id: spec.name,
    arn: `arn:${partitionOf(spec.target.RoleArn)}:events:${spec.region}:${account}:rule/${spec.name}`,
    region: spec.region,
    consoleUrl: `https://${spec.region}.console.aws.amazon.com/events/home?region=${spec.region}#/eventbus/default/rules/${encodeURIComponent(spec.name)}`,
  };
}

export type RegionForwardersRule = SweepOnlyRule<ForwarderState, typeof COMMANDS> & {
  /**
   * Puts the region's forwarders in place and removes those the guards no longer need (the deploy's custom
   * resource); the settled outcomes and reasons.
   */
  ensure(region: string, account: string, ctx: RuleContext): Promise<{ outcome: string; reason: string }>;
};

/** The region-forwarders rule for these guards' events (the registry passes every guard). */
export function regionForwardersRule(guards: readonly GuardEvents[]): RegionForwardersRule {
  const rule: RegionForwardersRule = {
    id: 'region-forwarders',
    title: "Every other region forwards the guards' events to the home region's default event bus",
    severity: 'high',
    // No Security Hub control covers forwarding: it is what lets the guards serve theirs outside home.
    controls: [],
    commands: COMMANDS,
    reads: [{ actions: ['events:DescribeRule', 'events:ListTargetsByRule'], resource: FORWARDER_ARNS }],
    // The forwarders are the engine's own plumbing: notify mode needs them to see anything outside home.
    ownInfrastructure: true,
    sweep: {
      pass: 'region-forwarders',
      // One item per forwarder the region should have: its place in forwarderSpecs.
      async list(region, _token, { settings }) {
        return { items: forwardsFrom(region, settings) ? forwardPatterns(guards).map((_, index) => index) : [] };
      },
      assess: (index: number, region, ctx) => assessForwarder(region, ctx.account, ctx, index),
    },
    async ensure(region, account, ctx) {
      const specs = forwarderSpecs(guards, ctx.settings, { region, home: homeRegion(), account });
      if (specs.length === 0) return { outcome: 'ignored', reason: 'DRIFTGUARD_FORWARD_ROLE_ARN is not set' };
      const settled = [];
      for (const index of specs.keys()) {
        const swept = await assessForwarder(region, account, ctx, index);
        if (swept === undefined) continue;
        const one = await settleDecision(rule, swept.resource, swept.state, swept.decision, { ...ctx, dryRun: false });
        if (one.failures.length > 0) {
          throw new Error(`${one.reason}: ${one.failures.map((failure) => failure.error).join('; ')}`);
        }
        settled.push(one);
      }
      // Forwarders a larger set of guards needed: their events are carried by the ones above now.
      for (const stale of forwarderNames(ctx.settings.forwarderName).slice(specs.length)) {
        await removeForwarder(stale, region, ctx.aws);
      }
      return {
        outcome: settled.every((one) => one.outcome === 'compliant') ? 'compliant' : 'remediated',
        reason: settled.map((one) => one.reason).join('; '),
      };
    },
  };
  /** A forwarder of the region as it is, and what would put it back; undefined when forwarding is off. */
  async function assessForwarder(region: string, account: string, ctx: RuleContext, index: number) {
    const spec = forwarderSpecs(guards, ctx.settings, { region, home: homeRegion(), account })[index];
    if (spec === undefined) return undefined;
    const state = await readForwarder(spec, ctx.aws);
    return {
      name: spec.name,
      resource: describeForwarder(spec, account),
      state,
      decision: decideForwarderFixes(state),
    };
  }
  return rule;
}

/** Removes a region's forwarder: its targets first (EventBridge refuses to delete a rule that has any), then the rule. */
export async function removeForwarder(name: string, region: string, aws: AwsClients): Promise<boolean> {
  const events = aws.client(EventBridgeClient, region);
  try {
    for (;;) {
      const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule: name }));
      if (Targets.length === 0) break;
      await events.send(new RemoveTargetsCommand({ Rule: name, Ids: Targets.map((target) => String(target.Id)) }));
    }
    await events.send(new DeleteRuleCommand({ Name: name }));
    return true;
  } catch (error) {
    if (notFound(error)) return false;
    throw error;
  }
}

/** Removes every forwarder a region may have (each name the role's permissions allow). */
async function removeForwarders(base: string, region: string, aws: AwsClients): Promise<void> {
  for (const name of forwarderNames(base)) await removeForwarder(name, region, aws);
}

export interface ForwardersResourceScope {
  account: string;
  /** The regions that get a forwarder (home among them is skipped). */
  regions: string[];
  /** Every region enabled in the account: a Delete (and an Update that drops regions) removes forwarders there. */
  enabledRegions: string[];
}

/** Runs `work` in each region at once; the regions whose work failed, with why. */
async function inEachRegion(regions: string[], work: (region: string) => Promise<unknown>) {
  const results = await Promise.allSettled(regions.map(work));
  return results.flatMap((result, i) =>
    result.status === 'rejected' ? [`${regions[i]}: ${(result.reason as Error).message}`] : [],
  );
}

/** The custom resource's logical id in the stack: requests for any other resource are not the forwarders'. */
export const FORWARDERS_RESOURCE_ID = 'RegionForwarders';

/**
 * Custom::RegionForwarders, served by the sweep function. Create and Update put a forwarder in every covered region
 * (an Update also removes those of regions no longer covered); Delete removes them all and always answers SUCCESS, so
 * that removing the stack never sticks on a region that refuses.
 */
export async function handleForwardersResource(
  request: CustomResourceRequest,
  rule: RegionForwardersRule,
  ctx: RuleContext,
  findScope: () => Promise<ForwardersResourceScope>,
  logger: Logger,
  send?: (url: string, body: string) => Promise<unknown>,
) {
  // A forged request would otherwise remove the forwarders, or carry an answer to any URL.
  const foreign = foreignRequestReason(request, FORWARDERS_RESOURCE_ID, ctx.settings.customResource);
  if (foreign !== undefined) {
    logger.error('malformed custom resource request: forwarders left as they are, no answer', { reason: foreign });
    throw new MalformedEventError(`custom resource request ${String(request.RequestId)}: ${foreign}`);
  }
  const home = homeRegion();
  const name = ctx.settings.forwarderName;
  let failed: string[] = [];
  let covered: string[] = [];
  let reason: string;
  try {
    const scope = await findScope();
    covered = scope.regions.filter((region) => forwardsFrom(region, ctx.settings, home));
    const uncovered = [...new Set([...scope.enabledRegions, ...scope.regions])].filter(
      (region) => region !== home && !covered.includes(region),
    );
    if (request.RequestType === 'Delete') {
      failed = await inEachRegion([...covered, ...uncovered], (region) => removeForwarders(name, region, ctx.aws));
      reason = `forwarders removed${failed.length ? `; left in place: ${failed.join('; ')}` : ''}`;
    } else {
      failed = await inEachRegion(covered, (region) => rule.ensure(region, scope.account, ctx));
      if (request.RequestType === 'Update') {
        failed.push(...(await inEachRegion(uncovered, (region) => removeForwarders(name, region, ctx.aws))));
      }
      reason = failed.length
        ? `forwarders failed in ${failed.join('; ')} (a region your policies deny can be left out with the regions param)`
        : `forwarders in place in ${covered.length} regions: ${covered.join(', ') || 'none'}`;
    }
  } catch (error) {
    failed = [(error as Error).message];
    reason = `the regions to cover could not be read: ${(error as Error).message}`;
  }
  if (failed.length) logger.error('region forwarders', { requestType: request.RequestType, failed });
  const status = failed.length > 0 && request.RequestType !== 'Delete' ? 'FAILED' : 'SUCCESS';
  await answerRequest(
    request,
    {
      Status: status,
      // CloudFormation takes an answer of up to 4 KB.
      Reason: reason.length > 1000 ? `${reason.slice(0, 997)}...` : reason,
      PhysicalResourceId: request.PhysicalResourceId ?? `${name}@${home}`,
      Data: { Regions: covered.join(',') },
    },
    logger,
    send,
  );
  return { status, reason, regions: covered };
}

/**
 * The forward role's trust (EventBridge, for this account only) and its one permission (PutEvents on the home bus);
 * values are strings on the emulator, CloudFormation expressions in the template.
 */
export function forwardRoleDocuments(account: unknown, homeBusArn: unknown) {
  return {
    trust: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ],
    },
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: homeBusArn }],
    },
  };
}

/**
 * What the stack adds for the forwarders (scripts/serverless-manifest.ts): the forward role, which may only put
 * events on the home region's default bus; the custom resource that puts the forwarders in place at deploy (served
 * by the sweep function); and the sweep's settings. The sweep role's events and PassRole permissions come from the
 * rule's declared commands, like every rule's.
 */
export function forwardersTemplate({
  stage,
  regions,
  guards,
}: {
  stage: string;
  regions: string;
  guards: readonly GuardEvents[];
}) {
  const name = `driftguard-${stage}-forward`;
  // A change of the guards' events is an Update of the custom resource: the forwarders follow at deploy.
  const triggers = guards.flatMap((guard) => guard.rules.map(({ trigger }) => trigger));
  const digest = createHash('sha256').update(JSON.stringify(triggers)).digest('hex').slice(0, 16);
  const documents = forwardRoleDocuments(
    { Ref: 'AWS::AccountId' },
    { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
  );
  return {
    resources: {
      ForwardRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: name,
          Description: `driftguard ${stage}: EventBridge forwards the other regions' events to this region's default bus`,
          AssumeRolePolicyDocument: documents.trust,
          Policies: [{ PolicyName: 'put-events-home', PolicyDocument: documents.policy }],
        },
      },
      [FORWARDERS_RESOURCE_ID]: {
        Type: 'Custom::RegionForwarders',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] },
          Regions: regions,
          Triggers: digest,
        },
      },
    },
    /** The sweep function's settings for the forwarders. */
    environment: {
      DRIFTGUARD_FORWARD_ROLE_ARN: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
      DRIFTGUARD_FORWARDER_NAME: name,
      DRIFTGUARD_FORWARD_REGIONS: regions,
    },
  };
}
