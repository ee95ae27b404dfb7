/**
 * The KMS keys that encrypt log groups and trails stay alive and usable: a scheduled deletion is cancelled (and the key
 * enabled again), a disabled key enabled, rotation turned back on, and a key policy that drops what CloudWatch Logs or
 * CloudTrail needs gets that statement back, keeping everything else its author wrote. Other keys are left alone.
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from '../aws.js';
import { configuredKeyArn } from '../configured-key.js';
import { type CloudTrailEvent, NAME_RULES, requireValidName } from '../envelope.js';
import {
  cloudTrailStatements,
  logsStatement,
  mergeRequiredStatements,
  type PolicyDocument,
  parsePolicy,
  type RequiredStatement,
  statementText,
} from '../key-policy.js';
import { type KeyDependent, KeyUsageStore } from '../key-usage.js';
import {
  type ActionOf,
  command,
  type Decision,
  defineRule,
  type Finding,
  noAction,
  type Resource,
  type RuleContext,
  type RuleSweep,
  type Skip,
  STATE_TABLE_ARN,
} from '../rule.js';

export const PROTECTED_TAG = { key: 'driftguard:protected', value: 'true' };

/** A key the guard looks at: named by an event's call, or listed by the sweep (which has no event). */
export interface KeyTarget {
  keyArn: string;
  region: string;
  account: string;
  /** The KMS call the event reports; absent when the sweep lists the key: then everything the guard keeps is read. */
  eventName?: string;
}

export interface KeyState {
  target: KeyTarget;
  /** Why the key is protected, or undefined when it is not. */
  protectedBecause: string | undefined;
  /** The stack's log key needs the CloudWatch Logs statement whatever else uses it. */
  isStackKey?: boolean;
  dependents: KeyDependent[];
  keyState: string | undefined;
  deletionDate: string | undefined;
  /** A multi-Region primary key pending deletion of its replicas: its waiting period, which starts after theirs. */
  pendingWindowDays?: number;
  /** A multi-Region primary key's replicas (key ARNs), read when it is pending their deletion. */
  replicaArns?: string[];
  rotationEnabled: boolean | undefined;
  /** The present key policy (read after PutKeyPolicy, and by the sweep). */
  policy: string | undefined;
}

const KEYS = 'arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*';

const commands = {
  'kms:CancelKeyDeletion': command(KMSClient, CancelKeyDeletionCommand, KEYS),
  'kms:EnableKey': command(KMSClient, EnableKeyCommand, KEYS),
  'kms:EnableKeyRotation': command(KMSClient, EnableKeyRotationCommand, KEYS),
  'kms:PutKeyPolicy': command(KMSClient, PutKeyPolicyCommand, KEYS),
};

export type KeyAction = ActionOf<typeof commands>;

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/;

function targetOf(event: CloudTrailEvent): KeyTarget | Skip {
  const { detail } = event;
  const base = { region: detail.awsRegion, account: event.account, eventName: detail.eventName };
  const fromResources = detail.resources?.find((r) => r.type === 'AWS::KMS::Key' && r.ARN && KEY_ARN.test(r.ARN))?.ARN;
  if (fromResources) return { ...base, keyArn: fromResources, region: arnRegion(fromResources) ?? base.region };
  const keyId = detail.requestParameters?.keyId;
  if (typeof keyId !== 'string' || keyId === '') return { skip: 'the event names no KMS key' };
  if (KEY_ARN.test(keyId)) return { ...base, keyArn: keyId, region: arnRegion(keyId) ?? base.region };
  if (keyId.startsWith('alias/') || keyId.includes(':alias/'))
    return { skip: `${keyId} is an alias: these calls take a key` };
  const id = requireValidName(event, 'detail.requestParameters.keyId', keyId, NAME_RULES.keyId);
  return { ...base, keyArn: `arn:aws:kms:${base.region}:${base.account}:key/${id}` };
}

/** What the key's dependents need in its policy: CloudWatch Logs of the key's region, CloudTrail. */
export function requiredStatements(
  state: Pick<KeyState, 'target' | 'dependents' | 'protectedBecause' | 'isStackKey'>,
): RequiredStatement[] {
  const { target, dependents } = state;
  const needs: RequiredStatement[] = [];
  const isStackKey = state.isStackKey ?? state.protectedBecause?.startsWith('the stack') ?? false;
  if (isStackKey || dependents.some((d) => d.type === 'log-group'))
    needs.push(logsStatement(target.region, target.account));
  if (dependents.some((d) => d.type === 'trail')) needs.push(...cloudTrailStatements(target.account));
  return needs;
}

function dependentsText(dependents: KeyDependent[]): string {
  if (dependents.length === 0) return 'nothing recorded';
  const groups = dependents.filter((d) => d.type === 'log-group').map((d) => d.id);
  const trails = dependents.filter((d) => d.type === 'trail').map((d) => d.id);
  return [groups.length ? `log groups ${groups.join(', ')}` : '', trails.length ? `trails ${trails.join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
}

/** The parsed policy, or why it is not one. */
function readablePolicy(text: string): PolicyDocument | string {
  try {
    return parsePolicy(text);
  } catch (error) {
    return (error as Error).message;
  }
}

/** The statements put back, each by its Sid, effect, principal and actions (a notice never carries the document). */
function restoredText(policy: PolicyDocument, sids: string[]): string {
  return sids
    .map((sid) => policy.Statement.find((statement) => statement.Sid === sid))
    .flatMap((statement) => (statement ? [statementText(statement)] : []))
    .join('; ');
}

/** A multi-Region primary key scheduled for deletion while it has replicas: deleted after them (no date yet). */
const PENDING_REPLICA_DELETION = 'PendingReplicaDeletion';

/** The scheduled deletion in words: what the key was waiting for, and what cancelling it does (and does not). */
function scheduledDeletion(state: KeyState): { before: string; summary: string } {
  if (state.keyState !== PENDING_REPLICA_DELETION) {
    return {
      before: `PendingDeletion (deletion date ${state.deletionDate ?? 'unknown'})`,
      summary: `deletion of ${state.deletionDate ?? 'the key'} cancelled`,
    };
  }
  const window = state.pendingWindowDays === undefined ? '' : `, then ${state.pendingWindowDays} days`;
  const replicas = state.replicaArns?.length ? ` (${state.replicaArns.join(', ')})` : '';
  return {
    before: `${PENDING_REPLICA_DELETION} (a multi-Region primary key, deleted after its replicas${window})`,
    summary: `scheduled deletion of the multi-Region primary key cancelled; its replicas${replicas} have their own deletion schedules, which this leaves as they are`,
  };
}

export function decideKeyFixes(state: KeyState): Decision<KeyAction> {
  const { target } = state;
  if (!state.protectedBecause) {
    return noAction(
      'ignored',
      `not-protected: ${target.keyArn} is not used by a guarded log group or trail, not tagged ${PROTECTED_TAG.key}=true, and not the stack's key`,
    );
  }
  if (state.keyState === undefined) return noAction('ignored', `key ${target.keyArn} no longer exists`);
  const findings: Finding[] = [];
  const actions: KeyAction[] = [];
  const needsHuman: string[] = [];
  const KeyId = target.keyArn;
  if (state.keyState === 'PendingDeletion' || state.keyState === PENDING_REPLICA_DELETION) {
    const { before, summary } = scheduledDeletion(state);
    findings.push({ attribute: 'keyState', before, after: 'Enabled' });
    actions.push(
      { api: 'kms:CancelKeyDeletion', params: { KeyId }, summary, brief: 'deletion cancelled' },
      // A cancelled key is left disabled; a protected key is one that log groups or trails are using.
      { api: 'kms:EnableKey', params: { KeyId }, summary: 'key enabled again (it was in use)', brief: 'enabled' },
    );
  } else if (state.keyState === 'Disabled') {
    findings.push({ attribute: 'keyState', before: 'Disabled', after: 'Enabled' });
    actions.push({ api: 'kms:EnableKey', params: { KeyId }, summary: 'key enabled', brief: 'enabled' });
  } else if (state.keyState !== 'Enabled') {
    needsHuman.push(`Key ${KeyId} is ${state.keyState}: the engine only restores Enabled keys; check it by hand.`);
  }
  if (state.rotationEnabled === false) {
    findings.push({ attribute: 'keyRotation', before: 'off', after: 'on' });
    actions.push({
      api: 'kms:EnableKeyRotation',
      params: { KeyId },
      summary: 'automatic rotation turned back on',
      brief: 'rotation on',
    });
  }
  const policy = state.policy === undefined ? undefined : readablePolicy(state.policy);
  if (typeof policy === 'string') {
    needsHuman.push(`The key policy of ${KeyId} cannot be read as a policy (${policy}): fix it by hand.`);
  } else if (policy !== undefined) {
    const merge = mergeRequiredStatements(policy, requiredStatements(state));
    const restored = [...merge.added, ...merge.replaced];
    if (restored.length > 0) {
      findings.push({
        attribute: 'keyPolicy',
        before: `missing ${restored.join(', ')}`,
        after: 'statements put back, the rest as written',
      });
      actions.push({
        api: 'kms:PutKeyPolicy',
        params: { KeyId, PolicyName: 'default', Policy: JSON.stringify(merge.policy) },
        summary: `key policy: ${restoredText(merge.policy, restored)} put back (other statements unchanged)`,
        brief: 'policy statement restored',
      });
    }
    for (const deny of merge.blockingDenies) {
      needsHuman.push(
        `The key policy's ${deny} denies a service that depends on the key: review it (the engine never removes a Deny).`,
      );
    }
  }
  if (actions.length === 0 && needsHuman.length === 0) {
    return noAction('compliant', `key ${KeyId} is enabled and usable by what depends on it`);
  }
  const inUse = state.dependents.length > 0;
  return {
    status: 'drifted',
    reason: `${findings.map((f) => f.attribute).join(', ') || 'key'} drifted; protected: ${state.protectedBecause}`,
    findings,
    actions,
    needsHuman,
    severity: inUse ? 'critical' : 'high',
  };
}

/** Why the key is protected (the stack's key, in use, tagged), or undefined; a KMS error surfaces, never "no". */
async function protection(ctx: RuleContext, target: KeyTarget, kms: KMSClient) {
  const dependents = ctx.settings.stateTable
    ? await new KeyUsageStore(ctx.aws, ctx.settings.stateTable).dependents(target.keyArn)
    : [];
  const isStackKey = (await configuredKeyArn(kms, ctx.settings.logKmsKey, target.region)) === target.keyArn;
  if (isStackKey) return { dependents, isStackKey, because: "the stack's log key" };
  if (dependents.length > 0) return { dependents, isStackKey, because: `in use by ${dependentsText(dependents)}` };
  const { Tags = [] } = await kms.send(new ListResourceTagsCommand({ KeyId: target.keyArn }));
  if (Tags.some(isProtectedTag)) {
    return { dependents, isStackKey, because: `tagged ${PROTECTED_TAG.key}=true` };
  }
  return { dependents, isStackKey, because: undefined as string | undefined };
}

/** Reads the key, why it is protected, and (when protected) what the event's call may have changed. */
async function inspectKey(target: KeyTarget, ctx: RuleContext): Promise<KeyState> {
  const kms = ctx.aws.client(KMSClient, target.region);
  let metadata: KeyMetadata | undefined;
  try {
    metadata = (await kms.send(new DescribeKeyCommand({ KeyId: target.keyArn }))).KeyMetadata;
  } catch (error) {
    if (awsErrorName(error) !== 'NotFoundException') throw error;
  }
  const { dependents, because, isStackKey } = metadata
    ? await protection(ctx, target, kms)
    : { dependents: [], because: 'unknown (the key is gone)', isStackKey: false };
  const state: KeyState = {
    target,
    protectedBecause: because,
    isStackKey,
    dependents,
    keyState: metadata?.KeyState,
    deletionDate: metadata?.DeletionDate?.toISOString(),
    rotationEnabled: undefined,
    policy: undefined,
  };
  if (metadata?.KeyState === PENDING_REPLICA_DELETION) {
    state.pendingWindowDays = metadata.PendingDeletionWindowInDays;
    state.replicaArns = (metadata.MultiRegionConfiguration?.ReplicaKeys ?? []).flatMap(({ Arn }) => (Arn ? [Arn] : []));
  }
  if (!because || !metadata) return state;
  // The sweep, no event to go by, reads everything the guard keeps.
  const swept = target.eventName === undefined;
  if (swept || target.eventName === 'DisableKeyRotation') {
    // Rotation of a disabled key cannot be read; it is read again after the key is enabled.
    const readable = metadata.KeyState === 'Enabled';
    state.rotationEnabled = readable
      ? (await kms.send(new GetKeyRotationStatusCommand({ KeyId: target.keyArn }))).KeyRotationEnabled
      : false;
  }
  if (swept || target.eventName === 'PutKeyPolicy') {
    state.policy = (await kms.send(new GetKeyPolicyCommand({ KeyId: target.keyArn, PolicyName: 'default' }))).Policy;
  }
  return state;
}

function describeKeyResource(target: KeyTarget): Resource {
  const id = target.keyArn.split('/').pop() ?? target.keyArn;
  return {
    type: 'KMS key',
    id,
    arn: target.keyArn,
    region: target.region,
    consoleUrl: `https://${target.region}.console.aws.amazon.com/kms/home?region=${target.region}#/kms/keys/${id}`,
  };
}

const isProtectedTag = (tag: { TagKey?: string; TagValue?: string }) =>
  tag.TagKey === PROTECTED_TAG.key && tag.TagValue === PROTECTED_TAG.value;

/**
 * The keys of one ListKeys page tagged driftguard:protected=true, each key's tags read. A key whose tags the engine
 * may not read (its policy keeps the engine out) may be protected: it is listed too, and looking at it fails loudly as
 * one item of the sweep, never passed over in silence.
 */
async function taggedKeys(kms: KMSClient, marker: string | undefined): Promise<{ tagged: string[]; next?: string }> {
  const page = await kms.send(new ListKeysCommand({ Marker: marker }));
  const tagged: string[] = [];
  for (const { KeyArn } of page.Keys ?? []) {
    if (KeyArn === undefined) continue;
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: KeyArn })).catch((error: unknown) => {
      if (awsErrorName(error) === 'AccessDeniedException') return undefined;
      throw error;
    });
    if (tags === undefined || (tags.Tags ?? []).some(isProtectedTag)) tagged.push(KeyArn);
  }
  return { tagged, ...(page.Truncated && page.NextMarker ? { next: page.NextMarker } : {}) };
}

/**
 * The sweep's pass over keys: those recorded as used by a log group or trail and the stack's key (on the first page),
 * then those tagged driftguard:protected=true, one ListKeys page at a time (a region may hold hundreds of keys, and a
 * page must end within its guard's time). A key both recorded and tagged may be looked at twice (on the first page
 * and on its ListKeys page): never not at all. Each is read in full, as no event says what changed.
 */
export const keySweep: RuleSweep<string, KeyState> = {
  pass: 'keys',
  async list(region, token, ctx) {
    const kms = ctx.aws.client(KMSClient, region);
    const keys = new Set<string>();
    if (token === undefined) {
      if (ctx.settings.stateTable) {
        const store = new KeyUsageStore(ctx.aws, ctx.settings.stateTable);
        for (const keyArn of await store.keysInRegion(region, ctx.sharedReads)) keys.add(keyArn);
      }
      const stackKey = await configuredKeyArn(kms, ctx.settings.logKmsKey, region);
      if (stackKey && arnRegion(stackKey) === region) keys.add(stackKey);
    }
    const { tagged, next } = await taggedKeys(kms, token);
    for (const keyArn of tagged) keys.add(keyArn);
    return { items: [...keys], ...(next ? { next } : {}) };
  },
  async assess(keyArn, region, ctx) {
    const target: KeyTarget = { keyArn, region, account: ctx.account };
    const state = await inspectKey(target, ctx);
    return { name: keyArn, resource: describeKeyResource(target), state, decision: decideKeyFixes(state) };
  },
};

export const keyProtection = defineRule<KeyTarget, KeyState, typeof commands>({
  id: 'kms-key-protection',
  title: 'KMS keys that encrypt log groups and trails stay enabled, rotating and usable by those services',
  severity: 'high',
  controls: ['KMS.3', 'KMS.4'],
  trigger: {
    source: 'aws.kms',
    detailTypes: ['AWS API Call via CloudTrail'],
    eventNames: ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'DisableKeyRotation'],
  },
  commands,
  reads: [
    {
      actions: ['kms:DescribeKey', 'kms:ListResourceTags', 'kms:GetKeyRotationStatus', 'kms:GetKeyPolicy'],
      resource: KEYS,
    },
    // Query: a key's dependents; Scan: the sweep's keys in use (lib/key-usage.ts keysInRegion).
    { actions: ['dynamodb:Query', 'dynamodb:Scan'], resource: STATE_TABLE_ARN },
    // The sweep lists the region's keys to find the tagged ones.
    { actions: ['kms:ListKeys'], resource: '*' },
  ],
  target: targetOf,
  describe: describeKeyResource,
  inspect: inspectKey,
  decide: decideKeyFixes,
  sweep: keySweep,
});
