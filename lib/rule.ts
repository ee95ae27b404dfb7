/** What every remediation rule declares and does; the registry, patterns, IAM and docs follow from these fields. */
import type { AwsClients } from './aws.js';
import type { CloudTrailEvent } from './envelope.js';
import type { Settings } from './settings.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const OUTCOMES = ['remediated', 'compliant', 'ignored', 'planned', 'failed', 'needs-human'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Trigger {
  source: string;
  detailTypes: string[];
  eventNames: string[];
}

/** IAM statement a rule needs; resource is a CloudFormation Fn::Sub template (${AWS::Partition}, ${AWS::AccountId}). */
export interface PermissionDeclaration {
  actions: string[];
  resource: string;
  /** An IAM condition block, e.g. iam:PassedToService for iam:PassRole. */
  condition?: Record<string, Record<string, string>>;
}

/** One write the engine makes; api is also the IAM action it needs (service:Action). */
export interface Action {
  api: string;
  params: Record<string, unknown>;
  /** Human text for notices, e.g. "retention none -> 365 days". */
  summary: string;
  /** A few words for the notice subject, e.g. "retention 365d". */
  brief: string;
}

/** One attribute that drifted from policy. */
export interface Finding {
  attribute: string;
  before: string;
  after: string;
}

export interface Decision {
  /** `drifted` means actions fix it; needsHuman lists what the engine cannot fix (may accompany actions). */
  status: 'compliant' | 'ignored' | 'drifted';
  reason: string;
  findings: Finding[];
  actions: Action[];
  needsHuman: string[];
  /** Overrides the rule's severity for this finding (a deleted trail is critical where a weakened one is high). */
  severity?: Severity;
  /**
   * Writes to the engine's own state (e.g. a trail baseline), made after the actions succeed, also in notify mode
   * and when compliant; never in a dry run. Not reported as remediation.
   */
  bookkeeping?: Action[];
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

/** Inspection result: the resource's present state, or `undefined` when it no longer exists. */
export interface Rule<Target = unknown, State = unknown> {
  id: string;
  title: string;
  severity: Severity;
  /** AWS Security Hub controls the rule serves, e.g. CloudWatch.16. */
  controls: string[];
  trigger: Trigger;
  permissions: PermissionDeclaration[];
  /**
   * Which resource the event touched (name or ARN, normalised), or a Skip when the event concerns something the rule
   * does not guard; throws MalformedEventError when the event lacks what the rule needs.
   */
  target(event: CloudTrailEvent): Target | Skip;
  describe(target: Target): Resource;
  /** A decision that needs no AWS call (e.g. exempt by name); undefined means inspect. */
  preScreen?(target: Target, settings: Settings): Decision | undefined;
  inspect(target: Target, ctx: RuleContext): Promise<State | undefined>;
  decide(state: State, settings: Settings): Decision;
  apply(action: Action, target: Target, ctx: RuleContext): Promise<void>;
  /** After the actions: what could not be restored (read back and compared), as steps for a human. */
  verify?(target: Target, state: State, ctx: RuleContext): Promise<string[]>;
  /**
   * A refusal a human must resolve (e.g. the trail's bucket is gone), as the step to take; the remaining actions are
   * not attempted and the outcome is needs-human. Undefined for a plain failure.
   */
  explainFailure?(action: Action, error: unknown): string | undefined;
  /** True when an apply error means the resource vanished meanwhile (nothing left to fix). */
  isGone?(error: unknown): boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds rules of different Target/State types
export type AnyRule = Rule<any, any>;

/** Identity function that keeps a rule's Target and State types tied together. */
export function defineRule<Target, State>(rule: Rule<Target, State>): Rule<Target, State> {
  return rule;
}
