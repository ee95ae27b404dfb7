/**
 * Log groups must be encrypted with a customer KMS key and keep a retention policy within bounds.
 * Reads the group once (DescribeLogGroups + tags), writes only what drifted, never touches logGroupClass.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  type LogGroup,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from '../aws.js';
import { describeKey, type KeyFacts, keyDefect, keyIsUsable, resolveConfiguredKey } from '../configured-key.js';
import { type CloudTrailEvent, MalformedEventError, NAME_RULES, requireValidName } from '../envelope.js';
import { recordKeyUsage as keepKeyUsage } from '../key-usage.js';
import { registerRecordKeeper } from '../records.js';
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
import { clampRetention, type Settings } from '../settings.js';

export interface LogGroupTarget {
  name: string;
  region: string;
  account: string;
  /**
   * The event set no key (a retention call): when the group uses the stack's own key (protected as such), its usage
   * is not written again; any other key's usage is (the event that set it may have recorded nothing).
   */
  keyUnchanged?: boolean;
}

/** The calls that change a group's retention only: its key, and so the key's usage, stays as it was. */
const RETENTION_CALLS = new Set(['PutRetentionPolicy', 'DeleteRetentionPolicy']);

export interface LogGroupState {
  target: LogGroupTarget;
  arn: string;
  retentionInDays: number | undefined;
  kmsKeyId: string | undefined;
  exemptByTag: boolean;
  /** The group's own key when it is not the configured one. */
  currentKey: KeyFacts | undefined;
  /** The configured key resolved in the group's region, or why there is none. */
  configuredKey: { arn: string } | { problem: string };
}

const LOG_GROUP_ARN = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:(.+?)(:\*)?$/;

function targetOf(event: CloudTrailEvent): LogGroupTarget | Skip {
  const params = event.detail.requestParameters ?? {};
  const base = {
    region: event.detail.awsRegion,
    account: event.account,
    ...(RETENTION_CALLS.has(event.detail.eventName) ? { keyUnchanged: true } : {}),
  };
  const field = 'detail.requestParameters.logGroupName';
  if (typeof params.logGroupName === 'string' && params.logGroupName !== '')
    return { ...base, name: requireValidName(event, field, params.logGroupName, NAME_RULES.logGroup) };
  const identifier = params.resourceIdentifier;
  const match = typeof identifier === 'string' ? LOG_GROUP_ARN.exec(identifier) : null;
  if (match?.[3]) return { ...base, name: requireValidName(event, field, match[3], NAME_RULES.logGroup) };
  if (typeof identifier === 'string' && identifier !== '') {
    return { skip: `${identifier} is not a log group (query results are out of scope)` };
  }
  throw new MalformedEventError(
    `${event.detail.eventName} event ${event.detail.eventID}: detail.requestParameters has no logGroupName (or log-group resourceIdentifier)`,
  );
}

function consoleUrl({ name, region }: LogGroupTarget): string {
  // The console double-encodes the group name in its fragment ($252F for "/").
  const encoded = encodeURIComponent(name).replace(/%/g, '$25');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encoded}`;
}

const LOG_GROUP_ARN_TEMPLATE = 'arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*';

const COMMANDS = {
  'logs:AssociateKmsKey': command(CloudWatchLogsClient, AssociateKmsKeyCommand, LOG_GROUP_ARN_TEMPLATE),
  'logs:PutRetentionPolicy': command(CloudWatchLogsClient, PutRetentionPolicyCommand, LOG_GROUP_ARN_TEMPLATE),
};
type LogGroupAction = ActionOf<typeof COMMANDS>;

export function decideLogGroupFixes(state: LogGroupState, settings: Settings): Decision<LogGroupAction> {
  const { target } = state;
  if (state.exemptByTag) {
    return noAction('ignored', `exempt: tagged ${settings.exemptTag}`);
  }
  const findings: Finding[] = [];
  const actions: LogGroupAction[] = [];
  const needsHuman: string[] = [];

  const keyDrift = encryptionDrift(state);
  if (state.currentKey?.unverifiable) {
    needsHuman.push(
      `Check that ${state.kmsKeyId}, the key of ${target.name}, is an enabled customer managed key of ${target.region}: the engine may not read it.`,
    );
  } else if (keyDrift !== undefined) {
    if ('arn' in state.configuredKey) {
      findings.push({ attribute: 'kmsKeyId', before: keyDrift, after: state.configuredKey.arn });
      actions.push({
        api: 'logs:AssociateKmsKey',
        params: { logGroupName: target.name, kmsKeyId: state.configuredKey.arn },
        summary: `KMS key ${keyDrift} -> ${state.configuredKey.arn}`,
        brief: 'encrypted',
      });
    } else {
      findings.push({ attribute: 'kmsKeyId', before: keyDrift, after: 'a customer managed key (none available)' });
      needsHuman.push(
        `Associate a customer managed KMS key of ${target.region} with ${target.name}: ${state.configuredKey.problem}.`,
      );
    }
  }

  const wanted =
    state.retentionInDays === undefined
      ? settings.logRetentionDays
      : clampRetention(state.retentionInDays, settings.logRetentionMinDays, settings.logRetentionMaxDays);
  if (wanted !== state.retentionInDays) {
    const before = state.retentionInDays === undefined ? 'none (never expire)' : `${state.retentionInDays} days`;
    findings.push({ attribute: 'retentionInDays', before, after: `${wanted} days` });
    actions.push({
      api: 'logs:PutRetentionPolicy',
      params: { logGroupName: target.name, retentionInDays: wanted },
      summary: `retention ${before} -> ${wanted} days`,
      brief: `retention ${wanted}d`,
    });
  }

  const keyInUse =
    keyDrift === undefined ? state.kmsKeyId : 'arn' in state.configuredKey ? state.configuredKey.arn : undefined;
  // The stack's own key is protected as such (the KMS guard's isStackKey): a retention event on a group that uses it
  // writes no usage. Any other key's usage is written again, since the event that set it may have recorded nothing
  // (exempt by tag then, notify mode, a dead-lettered event, a group older than the engine).
  const stackKey = 'arn' in state.configuredKey && keyInUse === state.configuredKey.arn;
  const keyChanges = keyDrift !== undefined || target.keyUnchanged !== true || !stackKey;
  const bookkeeping = keyInUse && keyChanges && settings.stateTable ? [recordKeyUsage(target, keyInUse)] : [];
  if (actions.length === 0 && needsHuman.length === 0) {
    return noAction(
      'compliant',
      `encrypted with ${state.kmsKeyId} and retained ${state.retentionInDays} days${boundsText(settings)}`,
      bookkeeping,
    );
  }
  const reason = findings.map((f) =>
    f.attribute === 'kmsKeyId' ? `encryption: ${f.before}` : `retention: ${f.before}`,
  );
  return { status: 'drifted', reason: reason.join('; '), findings, actions, needsHuman, bookkeeping };
}

/** The KMS guard protects the keys that log groups use: the guard records what it saw. */
function recordKeyUsage(target: LogGroupTarget, keyArn: string): EngineRecord {
  return {
    kind: 'key-usage',
    keyArn,
    dependent: { type: 'log-group', region: target.region, id: target.name },
    summary: `key usage recorded: ${target.name} uses ${keyArn}`,
  };
}

/** Undefined when encryption is compliant; otherwise the "before" text of the drift. */
function encryptionDrift(state: LogGroupState): string | undefined {
  if (state.kmsKeyId === undefined) return 'none';
  if ('arn' in state.configuredKey && state.kmsKeyId === state.configuredKey.arn) return undefined;
  const key = state.currentKey ?? { arn: state.kmsKeyId };
  return keyIsUsable(key, state.target.region)
    ? undefined
    : `${state.kmsKeyId} (${keyDefect(key, state.target.region)})`;
}

function boundsText(settings: Settings): string {
  const { logRetentionMinDays: min, logRetentionMaxDays: max } = settings;
  return min === undefined && max === undefined ? '' : ` (bounds ${min ?? 1}..${max ?? 3653})`;
}

/** A listed group's state: its tags, and the keys it uses or should use (the sweep lists groups page by page). */
export async function logGroupState(
  target: LogGroupTarget,
  group: LogGroup,
  { aws, settings }: RuleContext,
): Promise<LogGroupState | undefined> {
  const logs = aws.client(CloudWatchLogsClient, target.region);
  const arn =
    group.logGroupArn ??
    group.arn?.replace(/:\*$/, '') ??
    `arn:aws:logs:${target.region}:${target.account}:log-group:${target.name}`;
  let tags: Record<string, string>;
  try {
    tags = (await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? {};
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  const state: LogGroupState = {
    target,
    arn,
    retentionInDays: group.retentionInDays,
    kmsKeyId: group.kmsKeyId,
    exemptByTag: Object.hasOwn(tags, settings.exemptTag) && tags[settings.exemptTag] !== 'false',
    currentKey: undefined,
    configuredKey: { problem: 'not resolved' },
  };
  if (state.exemptByTag) return state;
  const kms = aws.client(KMSClient, target.region);
  state.configuredKey = await resolveConfiguredKey(kms, settings.logKmsKey, target.region);
  if (group.kmsKeyId !== undefined && !('arn' in state.configuredKey && state.configuredKey.arn === group.kmsKeyId)) {
    state.currentKey = await describeKey(
      aws.client(KMSClient, arnRegion(group.kmsKeyId) ?? target.region),
      group.kmsKeyId,
    );
  }
  return state;
}

function exemptByName(target: LogGroupTarget, settings: Settings): Decision<never> | undefined {
  const prefix = settings.exemptLogGroupPrefixes.find((p) => target.name.startsWith(p));
  return prefix === undefined ? undefined : noAction('ignored', `exempt: name starts with ${prefix}`);
}

function describeLogGroup(target: LogGroupTarget): Resource {
  return {
    type: 'log group',
    id: target.name,
    arn: `arn:aws:logs:${target.region}:${target.account}:log-group:${target.name}`,
    region: target.region,
    consoleUrl: consoleUrl(target),
  };
}

export const logGroupEncryptionRetention = defineRule<LogGroupTarget, LogGroupState, typeof COMMANDS>({
  id: 'log-group-encryption-retention',
  title: 'CloudWatch log groups are encrypted with a customer KMS key and keep a retention policy',
  severity: 'medium',
  controls: ['CloudWatch.16'],
  trigger: {
    source: 'aws.logs',
    detailTypes: ['AWS API Call via CloudTrail'],
    eventNames: [
      'CreateLogGroup',
      'PutRetentionPolicy',
      'DeleteRetentionPolicy',
      'AssociateKmsKey',
      'DisassociateKmsKey',
    ],
  },
  commands: COMMANDS,
  reads: [
    { actions: ['logs:DescribeLogGroups', 'logs:ListTagsForResource'], resource: LOG_GROUP_ARN_TEMPLATE },
    { actions: ['kms:DescribeKey'], resource: 'arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*' },
    {
      actions: ['dynamodb:PutItem'],
      resource: STATE_TABLE_ARN,
    },
  ],

  target: targetOf,

  describe: describeLogGroup,

  preScreen: exemptByName,

  async inspect(target, ctx) {
    const logs = ctx.aws.client(CloudWatchLogsClient, target.region);
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: target.name, limit: 1 }));
    const group = logGroups?.find((g) => g.logGroupName === target.name);
    return group === undefined ? undefined : logGroupState(target, group, ctx);
  },

  decide: decideLogGroupFixes,

  classifyFailure: async (_action, error) =>
    awsErrorName(error) === 'ResourceNotFoundException' ? { kind: 'gone' } : undefined,

  sweep: {
    pass: 'log-groups',
    async list(region, token, { aws }) {
      const page = await aws
        .client(CloudWatchLogsClient, region)
        .send(new DescribeLogGroupsCommand({ nextToken: token, limit: 50 }));
      return { items: page.logGroups ?? [], next: page.nextToken };
    },
    async assess(group: LogGroup, region, ctx) {
      if (group.logGroupName === undefined) return undefined;
      const target = { name: group.logGroupName, region, account: ctx.account };
      const resource = describeLogGroup(target);
      const exempt = exemptByName(target, ctx.settings);
      if (exempt) return { name: target.name, resource, state: undefined, decision: exempt };
      const state = await logGroupState(target, group, ctx);
      return state && { name: target.name, resource, state, decision: decideLogGroupFixes(state, ctx.settings) };
    },
  },
});

// The sweep and replays keep this rule's key-usage records through this (lib/records.ts); an event's settle writes
// them itself, in its own transaction (lib/pipeline.ts).
registerRecordKeeper('key-usage', async (record, ctx) => {
  if (ctx.settings.stateTable) await keepKeyUsage(ctx.aws, ctx.settings.stateTable, record.keyArn, record.dependent);
  return undefined;
});
