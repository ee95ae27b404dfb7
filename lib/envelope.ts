/** The EventBridge envelope of a CloudTrail record, parsed at the edge so no code below guesses at shapes. */
import * as z from 'zod/mini';
import { actingRegion, GLOBAL_REGION } from './aws.js';

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** A record's own region: a region, or "global" (GLOBAL_REGION) on some console sign-ins. */
const RECORDED_REGION = /^(global|[a-z]{2}(-[a-z]+)+-\d{1,2})$/;

const sessionIssuerSchema = z.looseObject({
  type: z.optional(z.string()),
  arn: z.optional(z.string()),
  userName: z.optional(z.string()),
});

const userIdentitySchema = z.looseObject({
  type: z.string(),
  principalId: z.optional(z.string()),
  arn: z.optional(z.string()),
  accountId: z.optional(z.string()),
  userName: z.optional(z.string()),
  invokedBy: z.optional(z.string()),
  /** IdentityCenterUser: the Identity Center user the call was made for. */
  onBehalfOf: z.optional(z.looseObject({ userId: z.optional(z.string()) })),
  sessionContext: z.optional(z.looseObject({ sessionIssuer: z.optional(sessionIssuerSchema) })),
});

export const cloudTrailDetailSchema = z.looseObject({
  eventVersion: z.optional(z.string()),
  userIdentity: userIdentitySchema,
  eventTime: z.string(),
  eventSource: z
    .string()
    .check(z.regex(/^[a-z0-9-]+\.amazonaws\.com$/, 'must be a service host like logs.amazonaws.com')),
  eventName: z.string().check(z.regex(/^[A-Za-z0-9]{1,128}$/, 'must be an API name like CreateLogGroup')),
  // Console sign-ins have been delivered with "global": resolved to the envelope's region once parsed.
  awsRegion: z.string().check(z.regex(RECORDED_REGION, `must be an AWS region like eu-west-1, or ${GLOBAL_REGION}`)),
  sourceIPAddress: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  errorCode: z.optional(z.string()),
  errorMessage: z.optional(z.string()),
  requestParameters: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  responseElements: z.optional(z.nullable(z.unknown())),
  additionalEventData: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  eventID: z.string().check(z.minLength(1), z.maxLength(128)),
  eventType: z.optional(z.string()),
  recipientAccountId: z.optional(z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit account id'))),
  resources: z.optional(
    z.array(
      z.looseObject({ ARN: z.optional(z.string()), type: z.optional(z.string()), accountId: z.optional(z.string()) }),
    ),
  ),
});

export const cloudTrailEnvelopeSchema = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.string().check(z.regex(/via CloudTrail$/, 'must be a CloudTrail detail-type (… via CloudTrail)')),
  source: z.string().check(z.regex(/^aws\.[a-z0-9-]+$/, 'must be an AWS service source like aws.logs')),
  account: z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit account id')),
  time: z.string(),
  region: z.string().check(z.regex(REGION, 'must be an AWS region like eu-west-1')),
  resources: z.array(z.string()),
  detail: cloudTrailDetailSchema,
});

export type CloudTrailEvent = z.infer<typeof cloudTrailEnvelopeSchema>;
export type CloudTrailDetail = CloudTrailEvent['detail'];
export type UserIdentity = CloudTrailDetail['userIdentity'];

/** A value that is not a CloudTrail event in its EventBridge envelope; the message names each problem by path. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

export function parseCloudTrailEvent(input: unknown): CloudTrailEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new MalformedEventError(`not a CloudTrail event: expected a JSON object, got ${describe(input)}`);
  }
  const parsed = cloudTrailEnvelopeSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return withActingRegion(parsed.data);
  const problems = parsed.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length === 0 ? '(event)' : issue.path.map(String).join('.');
    return `${path}: ${explain(issue)}`;
  });
  const more = parsed.error.issues.length > 5 ? ` (+${parsed.error.issues.length - 5} more)` : '';
  throw new MalformedEventError(`not a CloudTrail event: ${problems.join('; ')}${more}`, { cause: parsed.error });
}

/** A global event acts in the envelope's region, so that no client or ARN below is ever built for "global". */
function withActingRegion(event: CloudTrailEvent): CloudTrailEvent {
  const awsRegion = actingRegion(event.detail.awsRegion, event.region);
  return awsRegion === event.detail.awsRegion ? event : { ...event, detail: { ...event.detail, awsRegion } };
}

function explain(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return issue.message;
  if (issue.input === undefined) return `missing (expected ${issue.expected})`;
  return `expected ${issue.expected}, got ${describe(issue.input)}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** AWS's own constraints on the names the guards act on: a name outside them is a malformed event, never sent to AWS. */
export const NAME_RULES = {
  logGroup: { pattern: /^[.\-_/#A-Za-z0-9]{1,512}$/, text: 'log group name (1-512 of A-Z a-z 0-9 . - _ / #)' },
  trail: { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/, text: 'trail name (3-128 of A-Z a-z 0-9 . _ -)' },
  keyId: { pattern: /^(mrk-)?[A-Za-z0-9-]{1,64}$/, text: 'KMS key id' },
  iamUser: { pattern: /^[\w+=,.@-]{1,64}$/, text: 'IAM user name (1-64 of letters, digits, + = , . @ _ -)' },
} as const;

/** The value, when it satisfies the named rule; otherwise a MalformedEventError naming the field (not echoing it all). */
export function requireValidName(
  event: CloudTrailEvent,
  field: string,
  value: string,
  rule: (typeof NAME_RULES)[keyof typeof NAME_RULES],
): string {
  if (rule.pattern.test(value)) return value;
  const shown =
    value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}... (${value.length} characters)` : JSON.stringify(value);
  throw new MalformedEventError(
    `${event.detail.eventName} event ${event.detail.eventID}: ${field} ${shown} is not a valid ${rule.text}`,
  );
}

/** A string request parameter the rule needs; its absence is a malformed event, not a guess. */
export function requireStringParameter(event: CloudTrailEvent, name: string): string {
  const value = event.detail.requestParameters?.[name];
  if (typeof value !== 'string' || value === '') {
    throw new MalformedEventError(
      `${event.detail.eventName} event ${event.detail.eventID}: detail.requestParameters.${name} must be a non-empty string, got ${value === '' ? 'an empty string' : describe(value)}`,
    );
  }
  return value;
}
