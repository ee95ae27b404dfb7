/**
 * KMS key policies: the statements a service needs, whether a policy grants them, and a merge that puts a missing or
 * changed one back while keeping every other statement the author wrote exactly as written.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

const listOf = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

/** A statement named for a notice: Sid, effect, principal and actions (not the whole document). */
export function statementText(statement: PolicyStatement): string {
  const { Principal } = statement;
  const principals =
    Principal === undefined
      ? ['(no principal)']
      : Principal === '*'
        ? ['*']
        : [...listOf(Principal.Service), ...listOf(Principal.AWS)];
  const actions =
    statement.Action !== undefined ? listOf(statement.Action) : listOf(statement.NotAction).map((a) => `not ${a}`);
  return `${statement.Sid ?? '(no Sid)'}: ${statement.Effect} ${principals.join(', ')} ${actions.join(', ')}`;
}

/** A statement a service needs, under the Sid the engine writes it with. */
export interface RequiredStatement {
  service: string;
  actions: string[];
  statement: PolicyStatement;
}

export const LOGS_STATEMENT_SID = 'CloudWatchLogsUsesKeyForThisAccountsLogGroups';
export const CLOUDTRAIL_STATEMENT_SID = 'CloudTrailEncryptsThisAccountsTrails';
export const CLOUDTRAIL_DESCRIBE_SID = 'CloudTrailDescribesKey';

const LOGS_ACTIONS = ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'];

/** CloudWatch Logs may use the key for this account's log groups in the key's region (AWS's documented statement). */
export function logsStatement(region: string, account: string, partition = 'aws'): RequiredStatement {
  const service = `logs.${region}.amazonaws.com`;
  return {
    service,
    actions: LOGS_ACTIONS,
    statement: {
      Sid: LOGS_STATEMENT_SID,
      Effect: 'Allow',
      Principal: { Service: service },
      Action: LOGS_ACTIONS,
      Resource: '*',
      Condition: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` },
      },
    },
  };
}

/** CloudTrail may encrypt this account's trail logs, and describe the key (AWS's documented statements). */
export function cloudTrailStatements(account: string, partition = 'aws'): RequiredStatement[] {
  const service = 'cloudtrail.amazonaws.com';
  return [
    {
      service,
      actions: ['kms:GenerateDataKey*'],
      statement: {
        Sid: CLOUDTRAIL_STATEMENT_SID,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {
          StringLike: {
            'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${partition}:cloudtrail:*:${account}:trail/*`,
          },
        },
      },
    },
    {
      service,
      actions: ['kms:DescribeKey'],
      statement: {
        Sid: CLOUDTRAIL_DESCRIBE_SID,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'kms:DescribeKey',
        Resource: '*',
      },
    },
  ];
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Whether the statement applies to the service principal: named, '*', AWS '*', or not excluded by NotPrincipal. */
function appliesTo(statement: PolicyStatement & { NotPrincipal?: unknown }, service: string): boolean {
  if (statement.Principal === '*') return true;
  if (statement.Principal) {
    return list(statement.Principal.Service).includes(service) || list(statement.Principal.AWS).includes('*');
  }
  if (statement.NotPrincipal && typeof statement.NotPrincipal === 'object') {
    return !list((statement.NotPrincipal as { Service?: string | string[] }).Service).includes(service);
  }
  return false;
}

/** Whether an IAM action pattern (kms:*, kms:GenerateDataKey*, exact) covers an action (itself maybe a pattern). */
function covers(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  if (p === '*' || p === a) return true;
  return p.endsWith('*') && a.startsWith(p.slice(0, -1));
}

function allows(statement: PolicyStatement, required: RequiredStatement): boolean {
  if (statement.Effect !== 'Allow' || statement.NotAction !== undefined) return false;
  if (!appliesTo(statement, required.service)) return false;
  const actions = list(statement.Action);
  return required.actions.every((needed) => actions.some((granted) => covers(granted, needed)));
}

/** A Deny that takes away any part of what the service needs (overlapping patterns, or a NotAction that spares it not). */
function denies(statement: PolicyStatement, required: RequiredStatement): boolean {
  if (statement.Effect !== 'Deny' || !appliesTo(statement, required.service)) return false;
  if (statement.NotAction !== undefined) {
    const spared = list(statement.NotAction);
    return required.actions.some((needed) => !spared.some((s) => covers(s, needed)));
  }
  return required.actions.some((needed) =>
    list(statement.Action).some((denied) => covers(denied, needed) || covers(needed, denied)),
  );
}

export interface PolicyMerge {
  policy: PolicyDocument;
  /** Sids added because nothing granted them. */
  added: string[];
  /** Sids the engine owns that had been changed so they no longer grant what the service needs. */
  replaced: string[];
  /** Deny statements that block a service: left to a human, never removed by the engine. */
  blockingDenies: string[];
}

/** Parses a key policy (the JSON string KMS returns); throws with the reason when it is not a policy document. */
export function parsePolicy(text: string): PolicyDocument {
  const parsed = JSON.parse(text) as { Statement?: unknown } | null;
  const statement = parsed?.Statement;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (!parsed || typeof parsed !== 'object' || statements.some((s) => !s || typeof s !== 'object')) {
    throw new SyntaxError('the key policy has no Statement');
  }
  return {
    ...(parsed as PolicyDocument),
    Statement: (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[],
  };
}

/** Puts back each required statement that no statement grants; every other statement stays as the author wrote it. */
export function mergeRequiredStatements(policy: PolicyDocument, required: RequiredStatement[]): PolicyMerge {
  const statements = [...policy.Statement];
  const added: string[] = [];
  const replaced: string[] = [];
  const blockingDenies: string[] = [];
  for (const need of required) {
    const sid = need.statement.Sid ?? '';
    // Our own Sid turned into a Deny is replaced below, not reported.
    const blocking = statements.filter((s) => s.Sid !== sid && denies(s, need));
    for (const deny of blocking) blockingDenies.push(deny.Sid ?? `Deny for ${need.service}`);
    if (statements.some((s) => allows(s, need))) continue;
    const own = statements.findIndex((s) => s.Sid === sid);
    if (own >= 0) {
      statements[own] = need.statement;
      replaced.push(sid);
    } else {
      statements.push(need.statement);
      added.push(sid);
    }
  }
  return {
    policy: { ...policy, Statement: statements },
    added,
    replaced,
    blockingDenies: [...new Set(blockingDenies)],
  };
}
