/** What every remediation rule declares and does; the registry, patterns, IAM and docs follow from these fields. */
import type { AwsClients, ClientClass } from './aws.js';
import type { CloudTrailEvent } from './envelope.js';
import type { KeyDependent } from './key-usage.js';
import type { Settings } from './settings.js';
import type { SharedReads } from './sweep/once-per-run.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const OUTCOMES = ['remediated', 'compliant', 'ignored', 'planned', 'failed', 'needs-human'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Trigger {
  source: string;
  detailTypes: string[];
  eventNames: string[];
}

/** The engine's state table in IAM (a CloudFormation Fn::Sub template): every role that keeps records names it so. */
export const STATE_TABLE_ARN = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${StateTable}';

/** IAM statement a rule needs; resource is a CloudFormation Fn::Sub template (${AWS::Partition}, ${AWS::AccountId}). */
export interface PermissionDeclaration {
  actions: string[];
  /** One ARN template, or several exact ones (never a wildcard to cover names the rule knows). */
  resource: string | string[];
  /** An IAM condition block, e.g. iam:PassedToService for iam:PassRole. */
  condition?: Record<string, Record<string, string>>;
}

/**
 * A command a rule may send: the SDK client and command classes, and where IAM allows it (a CloudFormation Fn::Sub
 * template). The command's IAM action is the key it is declared under (service:Action).
 */
export interface CommandSpec<Input extends object = object> {
  client: ClientClass<{ send(command: never): Promise<unknown> }>;
  command: new (input: Input) => unknown;
  resource: string | string[];
  condition?: Record<string, Record<string, string>>;
  /** What else IAM authorises the command as (CreateTrail with tags is also AddTags; passing a role is PassRole). */
  alsoNeeds?: PermissionDeclaration[];
}

/** Declares a command, keeping its input type: `command(CloudWatchLogsClient, PutRetentionPolicyCommand, arn)`. */
export function command<Input extends object>(
  client: CommandSpec<Input>['client'],
  commandClass: new (input: Input) => unknown,
  resource: string | string[],
  extra: Pick<CommandSpec, 'condition' | 'alsoNeeds'> = {},
): CommandSpec<Input> {
  return { client, command: commandClass, resource, ...extra };
}

/** What a rule may write: IAM action (service:Action) -> its command. */
export type Commands = Record<string, CommandSpec<never>>;

type InputOf<S> = S extends CommandSpec<infer Input> ? Input : never;

/** One write the engine makes, typed by the rule's declared commands; api is the IAM action (service:Action). */
export type ActionOf<C extends Commands> = {
  [Api in keyof C & string]: {
    api: Api;
    params: InputOf<C[Api]>;
    /** Where the command is sent; the resource's region when absent. */
    region?: string;
    /** Human text for notices, e.g. "retention none -> 365 days". */
    summary: string;
    /** A few words for the notice subject, e.g. "retention 365d". */
    brief: string;
    /**
     * Params only known when the action is sent (the id of a resource an earlier action of the same decision made):
     * called right before sending, in place of `params`, which then shows the placeholder in reports.
     */
    resolve?: (aws: AwsClients, region: string) => Promise<InputOf<C[Api]>>;
  };
}[keyof C & string];

/** Any rule's action, as the pipeline, notices and reports see it. */
export interface Action {
  api: string;
  params: object;
  region?: string;
  summary: string;
  brief: string;
  resolve?: (aws: AwsClients, region: string) => Promise<object>;
}

/**
 * A write to the engine's own state (not a remediation): made after the actions succeed, also in notify mode and when
 * compliant; never in a dry run. Kept by lib/records.ts.
 */
export type EngineRecord =
  | { kind: 'key-usage'; keyArn: string; dependent: Omit<KeyDependent, 'seenAt'>; summary: string }
  | {
      kind: 'trail-baseline';
      trail: string;
      region: string;
      from: string;
      /** `first`: only where the trail has none (a capture); `follow`: replaces it (an accepted change). */
      mode: 'first' | 'follow';
      summary: string;
    }
  /** A region's AWS Config recorder and channel kept as its baseline: `first` a capture, `follow` an accepted change. */
  | {
      kind: 'config-baseline';
      region: string;
      from: string;
      mode: 'first' | 'follow';
      /** `first` only (an event's capture): store the region only if, read again when kept, it meets the policy of this account. */
      onlyIfCompliantFor?: string;
      summary: string;
    }
  /** What a quarantine took (kept before its writes, so that a failed attempt's keys are never lost). */
  | { kind: 'quarantine'; userName: string; since: string; keys: string[]; summary: string }
  /** The quarantine released: its record dropped once everything it took is given back. */
  | { kind: 'quarantine-released'; userName: string; summary: string }
  /** A region's GuardDuty baseline: `first` where the region has none (a capture), `follow` replaces it. */
  | {
      kind: 'guardduty-baseline';
      region: string;
      from: string;
      mode: 'first' | 'follow';
      /** As config-baseline's: an event's first capture stores only a detector that meets the policy of this account. */
      onlyIfCompliantFor?: string;
      summary: string;
    };

/** One attribute that drifted from policy. */
export interface Finding {
  attribute: string;
  before: string;
  after: string;
}

export interface Decision<A extends Action = Action> {
  /** `drifted` means actions fix it; needsHuman lists what the engine cannot fix (may accompany actions). */
  status: 'compliant' | 'ignored' | 'drifted';
  reason: string;
  findings: Finding[];
  actions: A[];
  needsHuman: string[];
  /** Overrides the rule's severity for this finding (a deleted trail is critical where a weakened one is high). */
  severity?: Severity;
  /** The engine's own records (a trail baseline, a key's usage); not reported as remediation. */
  bookkeeping?: EngineRecord[];
}

/** The event is well formed but out of the rule's scope, for the reason given. */
export interface Skip {
  skip: string;
}

export function isSkip(value: unknown): value is Skip {
  return typeof value === 'object' && value !== null && 'skip' in value;
}

export interface Resource {
  type: string;
  id: string;
  arn?: string;
  region: string;
  consoleUrl?: string;
}

export interface RuleContext {
  settings: Settings;
  aws: AwsClients;
}

/** A decision with no action: compliant or ignored, for the reason given. */
export function noAction(
  status: 'compliant' | 'ignored',
  reason: string,
  bookkeeping: EngineRecord[] = [],
): Decision<never> {
  return { status, reason, findings: [], actions: [], needsHuman: [], ...(bookkeeping.length ? { bookkeeping } : {}) };
}

/** What became of a write that failed, as the rule reads the error. */
export type FailureVerdict =
  /** The resource vanished meanwhile: nothing left to fix. */
  | { kind: 'gone' }
  /** What the write was for holds already (e.g. a policy detached meanwhile): counted as done. */
  | { kind: 'done' }
  /** A refusal a human must resolve, as the step to take: the remaining actions are not attempted. */
  | { kind: 'refused'; step: string };

/** A sweep's onlyRegion for the stack's own region (where the sweep runs), whichever it is. */
export const HOME = 'home';

/** What a sweep knows when it looks at a resource (no event: when, who and which event are the sweep's). */
export interface SweepContext extends RuleContext {
  account: string;
  sweepId: string;
  /** ISO-8601 time the sweep started. */
  now: string;
  dryRun: boolean;
  /** Reads of the whole state table this run's regions share (lib/sweep/once-per-run.ts); none: read each time. */
  sharedReads?: SharedReads;
}

/** A resource the sweep looked at: its present state and the rule's decision, or undefined when it is gone. */
export interface SweptResource<State> {
  /** Name in reports (log group name, trail name, key ARN, user name). */
  name: string;
  resource: Resource;
  state: State | undefined;
  decision: Decision;
}

/**
 * How the sweep lists a rule's resources in a region, page by page (resumable from the page token), and looks at each.
 * The sweep is a loop over the rules that declare one.
 */
export interface RuleSweep<Item, State> {
  /** The pass's name in the report and the cursor, e.g. "log-groups". */
  pass: string;
  /** A global service's resources are swept once, from this region (HOME: the stack's), whichever regions are swept. */
  onlyRegion?: string;
  /** One page: the items, and the token of the next page (undefined when the region is done). */
  list(region: string, token: string | undefined, ctx: SweepContext): Promise<{ items: Item[]; next?: string }>;
  /** Reads the item's present state and decides; undefined when there is nothing to report (gone meanwhile). */
  assess(item: Item, region: string, ctx: SweepContext): Promise<SweptResource<State> | undefined>;
}

/** What every rule declares, whether events trigger it or the sweep alone finds its drift. */
export interface RuleDeclaration<State = unknown, C extends Commands = Commands> {
  id: string;
  title: string;
  severity: Severity;
  /** AWS Security Hub controls the rule serves, e.g. CloudWatch.16. */
  controls: string[];
  /** The writes the rule may make; the role's write actions derive from these. */
  commands: C;
  /** The reads (and other calls made outside actions, e.g. state-table records) the role needs. */
  reads: PermissionDeclaration[];
  /** After the actions: what could not be restored (read back and compared), as steps for a human. */
  verify?(state: State, ctx: RuleContext): Promise<string[]>;
  /** Reads a failed write's error (the write was sent in `region`); undefined for a plain failure. */
  classifyFailure?(
    action: ActionOf<C>,
    error: unknown,
    ctx: RuleContext,
    region: string,
  ): Promise<FailureVerdict | undefined>;
  /** How the sweep finds what no event reported. */
  // biome-ignore lint/suspicious/noExplicitAny: each rule lists items of its own type
  sweep?: RuleSweep<any, State>;
  /** Its writes keep the engine's own plumbing (not the account's resources) in place: made in notify mode too. */
  ownInfrastructure?: boolean;
}

/** A rule that events trigger: a guard runs it on each matching event (inspection result: undefined when gone). */
export interface Rule<Target = unknown, State = unknown, C extends Commands = Commands>
  extends RuleDeclaration<State, C> {
  trigger: Trigger;
  /**
   * Which resource the event touched (name or ARN, normalised), or a Skip when the event concerns something the rule
   * does not guard; throws MalformedEventError when the event lacks what the rule needs.
   */
  target(event: CloudTrailEvent): Target | Skip;
  describe(target: Target): Resource;
  /** A decision that needs no AWS call (e.g. exempt by name); undefined means inspect. */
  preScreen?(target: Target, settings: Settings): Decision<ActionOf<C>> | undefined;
  inspect(target: Target, ctx: RuleContext): Promise<State | undefined>;
  decide(state: State, settings: Settings): Decision<ActionOf<C>>;
}

/**
 * A rule no event can report on (a deleted or disabled forwarder carries no event home): the sweep is how it finds
 * its drift, and it belongs to no guard.
 */
export interface SweepOnlyRule<State = unknown, C extends Commands = Commands> extends RuleDeclaration<State, C> {
  // biome-ignore lint/suspicious/noExplicitAny: each rule lists items of its own type
  sweep: RuleSweep<any, State>;
}

// biome-ignore lint/suspicious/noExplicitAny: the sweep and the roles hold rules of different State/command types
export type AnyRuleDeclaration = RuleDeclaration<any, any>;

// biome-ignore lint/suspicious/noExplicitAny: the registry holds rules of different Target/State types
export type AnyRule = Rule<any, any, any>;

/** Identity function that keeps a rule's Target, State and command types tied together. */
export function defineRule<Target, State, C extends Commands>(rule: Rule<Target, State, C>): Rule<Target, State, C> {
  return rule;
}
