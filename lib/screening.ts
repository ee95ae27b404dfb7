/** Screening before anything else: calls that changed nothing, the engine's own calls, other accounts. */
import type { CloudTrailEvent, UserIdentity } from './envelope.js';

export interface ScreeningContext {
  /** The account the engine acts in. */
  accountId: string;
  /** The exact ARNs of the engine's own roles (never a name prefix: anyone may name a role like ours). */
  engineRoleArns: readonly string[];
  /** Further principals that are the engine itself (the replay's own caller identity). */
  ownPrincipalArns: readonly string[];
}

export type ScreenReasonCode = 'failed-call' | 'engine-own-call' | 'other-account';

export interface ScreenVerdict {
  code: ScreenReasonCode;
  reason: string;
}

/**
 * The role ARN behind an identity: the session issuer's, or the role of an assumed-role ARN
 * (arn:aws:sts::<account>:assumed-role/<name>/<session> -> arn:aws:iam::<account>:role/<name>).
 */
export function actorRoleArn(identity: UserIdentity): string | undefined {
  const issuer = identity.sessionContext?.sessionIssuer;
  if (issuer?.type === 'Role' && issuer.arn) return issuer.arn;
  const assumed = identity.arn?.match(/^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : undefined;
}

function isEngine(identity: UserIdentity, ctx: ScreeningContext): boolean {
  const role = actorRoleArn(identity);
  if (role !== undefined && ctx.engineRoleArns.includes(role)) return true;
  const arns = [identity.arn, identity.sessionContext?.sessionIssuer?.arn].filter((arn) => arn !== undefined);
  return arns.some((arn) => ctx.ownPrincipalArns.includes(arn));
}

/** Undefined when the event should be acted on; otherwise why it is ignored. */
export function screenEvent(event: CloudTrailEvent, ctx: ScreeningContext): ScreenVerdict | undefined {
  const { detail } = event;
  if (detail.errorCode !== undefined) {
    return {
      code: 'failed-call',
      reason: `the call failed (${detail.errorCode}), so nothing changed`,
    };
  }
  const accounts = new Set([event.account, detail.recipientAccountId ?? event.account]);
  if (accounts.size !== 1 || !accounts.has(ctx.accountId)) {
    return {
      code: 'other-account',
      reason: `event of account ${[...accounts].join('/')}, the engine acts only in ${ctx.accountId}`,
    };
  }
  if (isEngine(detail.userIdentity, ctx)) {
    return {
      code: 'engine-own-call',
      reason: `made by the engine itself (${detail.userIdentity.arn ?? actorRoleArn(detail.userIdentity)}): no loop`,
    };
  }
  return undefined;
}

/** Who did it, in a few words: user name, role session, or the ARN's last part. */
export function actorName(identity: UserIdentity): string {
  if (identity.type === 'Root') return 'root';
  if (identity.userName) return identity.userName;
  // Neither has an ARN: another account's caller, and an Identity Center user (by its user id).
  if (identity.type === 'AWSAccount' && identity.accountId) return `account ${identity.accountId}`;
  if (identity.onBehalfOf?.userId) return identity.onBehalfOf.userId;
  const session = identity.arn?.match(/:assumed-role\/[^/]+\/(.+)$/)?.[1];
  if (session) return session;
  return identity.arn?.split('/').pop() ?? identity.invokedBy ?? identity.principalId ?? identity.type;
}
