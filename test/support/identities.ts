/** CloudTrail identities for tests: who made an event, in the shapes CloudTrail records. */
import type { CloudTrailEvent, UserIdentity } from '../../lib/envelope.js';

/** The account of the emulator and of every sample event. */
const SAMPLE_ACCOUNT = '123456789012';

/**
 * A session of an IAM role (type AssumedRole), with its session issuer (the role's ARN and name) unless `issuer` is
 * false (some records carry only the assumed-role ARN).
 */
export function assumedRole(
  role: string,
  session: string,
  { issuer = true, account = SAMPLE_ACCOUNT }: { issuer?: boolean; account?: string } = {},
): UserIdentity {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLEROLEID0001:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    ...(issuer
      ? {
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              principalId: 'AROAEXAMPLEROLEID0001',
              arn: `arn:aws:iam::${account}:role/${role}`,
              accountId: account,
              userName: role,
            },
          },
        }
      : {}),
  };
}

/** The event as made by another identity. */
export function madeBy(event: CloudTrailEvent, userIdentity: UserIdentity): CloudTrailEvent {
  return { ...event, detail: { ...event.detail, userIdentity } };
}
