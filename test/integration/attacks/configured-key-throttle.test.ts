/**
 * Attack: the stack's own log key is disabled while KMS throttles the engine's DescribeKey of the configured alias
 * (an attacker can cause throttling by flooding the account's KMS quota). Resolving the configured key is retried by
 * the SDK, then fails the event, which Lambda retries: the key is never taken for "not protected" and left disabled.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lib/aws.js';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { kmsGuard } from '../../../lib/guards/kms-guard.js';
import { createGuardHandler } from '../../../lib/handler.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig, LOCAL_LOG_KEY_ALIAS } from '../../../scripts/provision.js';
import { freshEngine, readNotices, testEndpoint } from '../../support/emulator.js';
import { contextFor, deliverAsLambda, sampleEvent } from '../../support/handler-harness.js';
import { faultsInsideRetries, throttling } from '../../support/intercept.js';

const REGION = 'eu-west-1';
const SDK_ATTEMPTS = 3;
const SAMPLE_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** DescribeKey of the configured alias throttled inside the SDK's retry loop (each send fails) while `on`. */
const aliasThrottle = { on: true, sends: 0 };

function throttledClients(): AwsClients {
  return faultsInsideRetries(SDK_ATTEMPTS, ({ command, input }) => {
    if (!aliasThrottle.on || command !== 'DescribeKey' || input.KeyId !== LOCAL_LOG_KEY_ALIAS) return undefined;
    aliasThrottle.sends += 1;
    return throttling();
  });
}

/** The stack's log key of the region, disabled by the attacker; the DisableKey event that reports it. */
async function stackKeyDisabled(): Promise<{ keyArn: string; event: CloudTrailEvent }> {
  const kms = new KMSClient(emulatorClientConfig(testEndpoint(), REGION));
  const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: LOCAL_LOG_KEY_ALIAS }));
  const keyArn = String(KeyMetadata?.Arn);
  await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
  const text = JSON.stringify(sampleEvent('kms-DisableKey'))
    .replaceAll(SAMPLE_KEY, keyArn)
    .replaceAll(SAMPLE_KEY.split('/')[1] ?? '', keyArn.split('/')[1] ?? '');
  return { keyArn, event: JSON.parse(text) as CloudTrailEvent };
}

const keyState = async (keyArn: string) =>
  (await new KMSClient(emulatorClientConfig(testEndpoint(), REGION)).send(new DescribeKeyCommand({ KeyId: keyArn })))
    .KeyMetadata?.KeyState;

describe('attack: KMS throttles while the configured key is resolved', () => {
  beforeEach(async () => {
    await freshEngine();
    Object.assign(aliasThrottle, { on: true, sends: 0 });
  });

  it('fails the event after the SDK’s retries, on every attempt, and never calls the stack’s key unprotected', async () => {
    // Prepare
    const { keyArn, event } = await stackKeyDisabled();
    const handler = createGuardHandler(kmsGuard, {
      settings: loadSettings(),
      aws: throttledClients(),
      logger: new Logger({ logLevel: 'SILENT' }),
    });

    // Act
    const throttled = await deliverAsLambda(handler, event, contextFor(kmsGuard, event));
    aliasThrottle.on = false;
    const redelivered = await deliverAsLambda(handler, event, contextFor(kmsGuard, event));

    // Assess: while throttled, each of Lambda's attempts failed after the SDK's own retries; nothing was ignored.
    expect(throttled.deadLettered).toBe(true);
    expect(throttled.attempts.map((attempt) => attempt.error?.name)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ThrottlingException',
    ]);
    expect(aliasThrottle.sends).toBe(throttled.attempts.length * SDK_ATTEMPTS);
    // Once KMS answers, the key is known as the stack's and enabled again.
    expect(redelivered.attempts.map((attempt) => attempt.result?.outcome)).toEqual(['remediated']);
    expect(redelivered.attempts[0]?.result?.reason).toContain("protected: the stack's log key");
    expect(await keyState(keyArn)).toBe('Enabled');
    const notices = await readNotices();
    expect(notices.map((notice) => notice.document.outcome)).toEqual(['remediated']);
  });
});
