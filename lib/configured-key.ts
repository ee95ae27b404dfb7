/**
 * The KMS key the engine associates with log groups (DRIFTGUARD_LOG_KMS_KEY, the stack's key by default) and what
 * we know of a key. One resolver for the log-group and KMS rules and the sweep: throttling is retried by the SDK's
 * adaptive retry, "no such key" is an answer, any other error surfaces (it never makes a key look unprotected).
 */
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from './aws.js';

/** What we know about a KMS key: its metadata, or why it could not be read. */
export interface KeyFacts {
  arn: string;
  state?: string;
  manager?: string;
  problem?: string;
  /** The key could not be read (access denied): neither kept nor replaced without a human. */
  unverifiable?: boolean;
}

export async function describeKey(kms: KMSClient, keyId: string): Promise<KeyFacts> {
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return { arn: KeyMetadata?.Arn ?? keyId, state: KeyMetadata?.KeyState, manager: KeyMetadata?.KeyManager };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NotFoundException') return { arn: keyId, problem: 'the key does not exist' };
    if (name === 'AccessDeniedException') {
      return { arn: keyId, problem: 'the key could not be read (AccessDeniedException)', unverifiable: true };
    }
    // Throttling outlasting the SDK's retries and service errors are passed up so the event is retried.
    throw error;
  }
}

// Per KMS client (so per account/endpoint and region) and alias: aliases resolve once per cold start.
const aliasCache = new WeakMap<KMSClient, Map<string, KeyFacts>>();

async function describeConfigured(kms: KMSClient, configured: string): Promise<KeyFacts> {
  const cache = aliasCache.get(kms) ?? new Map<string, KeyFacts>();
  aliasCache.set(kms, cache);
  const cached = cache.get(configured);
  if (cached) return cached;
  const facts = await describeKey(kms, configured);
  // Only a usable answer is kept: a key enabled again later must be seen as such.
  if (facts.problem === undefined && facts.state === 'Enabled') cache.set(configured, facts);
  return facts;
}

/**
 * The configured key's ARN as the engine's own key (for protection): a key ARN as is, an alias resolved in `region`
 * whatever the key's state; undefined when nothing is configured or the alias names no key there.
 */
export async function configuredKeyArn(
  kms: KMSClient,
  configured: string | undefined,
  region: string,
): Promise<string | undefined> {
  if (!configured) return undefined;
  if (configured.includes(':key/')) return configured;
  if (configured.startsWith('arn:') && arnRegion(configured) !== region) return undefined;
  const facts = await describeConfigured(kms, configured);
  if (facts.unverifiable) throw new Error(`the configured key ${configured} cannot be read in ${region}`);
  return facts.problem === undefined ? facts.arn : undefined;
}

/** A key a log group may keep: enabled, customer managed, in the group's region. */
export function keyIsUsable(key: KeyFacts, region: string): boolean {
  return (
    key.problem === undefined && key.state === 'Enabled' && key.manager === 'CUSTOMER' && arnRegion(key.arn) === region
  );
}

export function keyDefect(key: KeyFacts, region: string): string {
  if (key.problem) return key.problem;
  if (key.manager !== 'CUSTOMER') return 'not a customer managed key';
  if (arnRegion(key.arn) !== region) return `in ${arnRegion(key.arn)}, not ${region}`;
  return `key state ${key.state}`;
}

/** The configured key for log groups of `region`: its ARN when usable there, or why there is none. */
export async function resolveConfiguredKey(
  kms: KMSClient,
  configured: string | undefined,
  region: string,
): Promise<{ arn: string } | { problem: string }> {
  if (configured === undefined) return { problem: 'no key is configured (DRIFTGUARD_LOG_KMS_KEY)' };
  if (configured.includes(':key/')) {
    const keyRegion = arnRegion(configured);
    return keyRegion === region
      ? { arn: configured }
      : {
          problem: `the configured key ${configured} is in ${keyRegion}; log groups can only use a key of their own region`,
        };
  }
  const aliasRegion = configured.startsWith('arn:') ? arnRegion(configured) : region;
  if (aliasRegion !== region) return { problem: `the configured alias ${configured} is not in ${region}` };
  const facts = await describeConfigured(kms, configured);
  const defect = facts.problem ?? (keyIsUsable(facts, region) ? undefined : keyDefect(facts, region));
  if (defect) return { problem: `the configured key ${configured} cannot be used in ${region}: ${defect}` };
  return { arn: facts.arn };
}
