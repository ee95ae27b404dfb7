/**
 * What the sweep must see without any event: a trail it never saw, stopped (started, its baseline captured logging,
 * a human told what it lacks), and a disabled key tagged driftguard:protected=true that nothing recorded (enabled).
 */
import { DescribeKeyCommand, DisableKeyCommand, KMSClient, TagResourceCommand } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { RULES } from '../../lib/registry.js';
import { loadSettings } from '../../lib/settings.js';
import { runSweep } from '../../lib/sweep/sweep.js';
import { TrailBaselineStore } from '../../lib/trail-baselines.js';
import { readTrail } from '../../lib/trails.js';
import { createLogKey, emulatorClientConfig } from '../../scripts/provision.js';
import { freshEngine, testEndpoint } from '../support/emulator.js';
import { trailWithoutBaseline } from '../support/trails.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/team-trail`;
const engine = () => ({ settings: loadSettings(), aws: createAwsClients() });
const kms = () => new KMSClient(emulatorClientConfig(testEndpoint(), REGION));

/** A stopped trail the engine never saw, and a disabled key tagged protected that no record names. */
async function seedUnseenDrift() {
  await trailWithoutBaseline(REGION, 'team-trail', ACCOUNT);
  const { arn } = await createLogKey(testEndpoint(), REGION, ACCOUNT, 'tagged protected, used by nothing recorded');
  await kms().send(
    new TagResourceCommand({ KeyId: arn, Tags: [{ TagKey: 'driftguard:protected', TagValue: 'true' }] }),
  );
  await kms().send(new DisableKeyCommand({ KeyId: arn }));
  return { keyArn: arn };
}

describe('what the sweep sees without an event', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('starts a stopped trail it never saw and enables a disabled tagged key', async () => {
    // Prepare
    const { keyArn } = await seedUnseenDrift();

    // Act
    const report = await runSweep(engine(), { rules: RULES, regions: [REGION], account: ACCOUNT });

    // Assess
    expect((await readTrail(createAwsClients(), 'team-trail', REGION))?.isLogging).toBe(true);
    const baseline = await new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(TRAIL_ARN);
    expect(baseline?.config.isLogging).toBe(true);
    const [trail] = report.first['cloudtrail-trail-integrity#needs-human'] ?? [];
    expect(trail?.actions).toEqual(['logging started']);
    expect(trail?.reason).toMatch(/first seen by the sweep: .*isMultiRegionTrail off/);
    expect((await kms().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect(report.first['kms-key-protection#remediated']?.map((item) => item.resource)).toContain(keyArn);
  });

  it('says in a dry run what it would capture, and captures nothing', async () => {
    // Prepare
    await seedUnseenDrift();

    // Act
    const report = await runSweep(engine(), { rules: RULES, regions: [REGION], account: ACCOUNT, dryRun: true });

    // Assess
    const [trail] = report.first['cloudtrail-trail-integrity#planned'] ?? [];
    expect(trail?.reason).toContain('would capture its baseline (dry run)');
    expect(trail?.reason).not.toContain('baseline captured');
    expect(await new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(TRAIL_ARN)).toBeUndefined();
  });
});
