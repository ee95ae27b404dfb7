/**
 * The KMS key an event names, at the endpoint: used as it is when it exists there, else a stand-in the reenactment
 * creates (the emulator chooses key ids, so a key from a real account's event is rarely there).
 */
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { arnRegion, awsErrorName } from '../../lib/aws.js';
import { emulatorClientConfig } from '../emulator/client.js';
import { createLogKey } from '../provision.js';
import type { ReenactContext } from './reenactment.js';

export interface EndpointKey {
  keyId: string;
  arn: string;
}

/** The key as DescribeKey answers for it (id, ARN, alias name or alias ARN) in its region, or undefined if none. */
export async function keyAtEndpoint(
  named: string,
  region: string,
  ctx: ReenactContext,
): Promise<EndpointKey | undefined> {
  const kms = new KMSClient(emulatorClientConfig(ctx.endpoint, arnRegion(named) ?? region));
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: named }));
    if (KeyMetadata?.KeyId && KeyMetadata.Arn) return { keyId: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
    return undefined;
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return undefined;
    throw error;
  }
}

/** Multi-Region keys' ids start so (mrk-...): their stand-in is a multi-Region key too. */
const MULTI_REGION_KEY_PREFIX = 'mrk-';

/** Whether a key id or key ARN names a multi-Region key. */
export function isMultiRegionKey(named: string): boolean {
  return (named.split(':key/').pop() ?? named).startsWith(MULTI_REGION_KEY_PREFIX);
}

/**
 * A customer key CloudWatch Logs may use, standing in for `original` in `region` (multi-Region for a multi-Region
 * original), created once per `cacheKey` and run; `prepare` runs once, on the new key.
 */
export async function standInKey(
  cacheKey: string,
  original: string,
  region: string,
  ctx: ReenactContext,
  prepare: (key: EndpointKey) => Promise<void> = async () => undefined,
): Promise<EndpointKey> {
  let key = ctx.keys.get(cacheKey);
  if (key === undefined) {
    key = await createLogKey(ctx.endpoint, region, ctx.account, `driftguard reenact of ${original}`, {
      multiRegion: isMultiRegionKey(original),
    });
    ctx.keys.set(cacheKey, key);
    await prepare(key);
  }
  return key;
}

/** The event's key as it is when the endpoint has it; else the stand-in `standIn` gives, which the notes name. */
export async function eventKeyAtEndpoint(
  original: string,
  region: string,
  ctx: ReenactContext,
  standIn: () => Promise<EndpointKey>,
): Promise<EndpointKey & { standIn: boolean }> {
  const existing = await keyAtEndpoint(original, region, ctx);
  if (existing) {
    ctx.notes.push(`key ${original} exists at the endpoint: used as it is`);
    return { ...existing, standIn: false };
  }
  const key = await standIn();
  ctx.notes.push(`key ${original} is not at the endpoint: a stand-in is used, mapped to emulator key ${key.arn}`);
  return { ...key, standIn: true };
}
