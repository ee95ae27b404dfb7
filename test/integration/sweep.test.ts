/**
 * The sweep against an emulator seeded with drift that no event announced: log groups in two regions, a stopped
 * trail, a disabled protected key, a user without MFA. One sweep leaves everything compliant (read back), with one
 * digest notice; a second finds nothing to do; a sweep cut off half-way resumes and finishes.
 */

import { readFileSync } from 'node:fs';
import { CloudTrailClient, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateLoginProfileCommand,
  CreateUserCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { recordKeyUsage } from '../../lib/key-usage.js';
import { RULES } from '../../lib/registry.js';
import { loadSettings } from '../../lib/settings.js';
import { publishDigest, runSweep } from '../../lib/sweep/sweep.js';
import { createLogKey, emulatorClientConfig } from '../../scripts/provision.js';
import { trailReenactments } from '../../scripts/reenact/trails.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const ACCOUNT = '123456789012';
const REGIONS = ['us-east-1', 'eu-west-1'];
const config = (region: string) => emulatorClientConfig(testEndpoint(), region);

function engine() {
  return { settings: loadSettings(), aws: createAwsClients() };
}

async function seedGroups(region: string, count: number) {
  const logs = new CloudWatchLogsClient(config(region));
  for (let i = 0; i < count; i++) {
    await logs.send(
      new CreateLogGroupCommand({ logGroupName: `/sweep/${region}/service-${String(i).padStart(3, '0')}` }),
    );
  }
}

async function seedDrift() {
  await seedGroups('us-east-1', 3);
  await seedGroups('eu-west-1', 3);
  // A trail whose baseline the engine captured, then stopped with no event seen.
  const event = JSON.parse(readFileSync('events/cloudtrail-StopLogging.json', 'utf8'));
  await trailReenactments['aws.cloudtrail:StopLogging']?.(event, {
    endpoint: testEndpoint(),
    account: ACCOUNT,
    notes: [],
    engine: engine(),
    keys: new Map(),
  });
  // A key a log group uses (recorded), disabled.
  const { arn } = await createLogKey(testEndpoint(), 'eu-west-1', ACCOUNT, 'used by a log group');
  await recordKeyUsage(createAwsClients(), String(loadSettings().stateTable), arn, {
    type: 'log-group',
    region: 'eu-west-1',
    id: '/app/keyed',
  });
  await new KMSClient(config('eu-west-1')).send(new DisableKeyCommand({ KeyId: arn }));
  // A user with a console password and no MFA device.
  const iam = new IAMClient(config('us-east-1'));
  await iam.send(new CreateUserCommand({ UserName: 'carol' }));
  await iam.send(new CreateLoginProfileCommand({ UserName: 'carol', Password: 'Correct-Horse-9!' }));
  return { keyArn: arn };
}

describe('the sweep against the emulator', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('leaves seeded drift compliant with one digest, and finds nothing the second time', async () => {
    const { keyArn } = await seedDrift();
    const first = await runSweep(engine(), { rules: RULES, regions: REGIONS, account: ACCOUNT });
    expect(first.complete).toBe(true);
    await publishDigest(engine(), first, ACCOUNT);

    for (const region of REGIONS) {
      const { logGroups = [] } = await new CloudWatchLogsClient(config(region)).send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: `/sweep/${region}/` }),
      );
      expect(logGroups).toHaveLength(3);
      for (const group of logGroups) {
        expect(group.kmsKeyId).toMatch(new RegExp(`^arn:aws:kms:${region}:`));
        expect(group.retentionInDays).toBe(365);
      }
    }
    const status = await new CloudTrailClient(config('eu-west-1')).send(
      new GetTrailStatusCommand({ Name: 'org-audit-trail' }),
    );
    expect(status.IsLogging).toBe(true);
    const key = await new KMSClient(config('eu-west-1')).send(new DescribeKeyCommand({ KeyId: keyArn }));
    expect(key.KeyMetadata?.KeyState).toBe('Enabled');
    const { AttachedPolicies = [] } = await new IAMClient(config('us-east-1')).send(
      new ListAttachedUserPoliciesCommand({ UserName: 'carol' }),
    );
    expect(AttachedPolicies.map((p) => p.PolicyName)).toEqual(['driftguard-local-mfa-quarantine']);

    // Six seeded groups, and the trail's own CloudWatch Logs group (created unencrypted by the reenactment).
    expect(first.counts['log-group-encryption-retention']?.remediated).toBe(7);
    expect(first.counts['cloudtrail-trail-integrity']?.remediated).toBe(1);
    // The disabled key, and the trail's key (protected since the trail uses it) whose rotation was never on.
    expect(first.counts['kms-key-protection']?.remediated).toBe(2);
    expect(first.counts['iam-user-mfa-quarantine']?.remediated).toBe(1);
    // No detector in either region: GuardDuty enabled in both (DRIFTGUARD_GUARDDUTY_ENABLE_MISSING defaults to true).
    expect(first.counts['guardduty-enabled']?.remediated).toBe(2);
    const notices = await readNotices();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.attributes).toMatchObject({ rule: 'sweep', outcome: 'digest' });
    // Neither region has AWS Config, and the engine has no baseline to turn it on from: a human is asked, in each.
    // GuardDuty is enabled in each (2 of the 13 fixed).
    expect(first.counts['config-recorder-on']).toEqual({ 'needs-human': 2 });
    expect(notices[0]?.subject).toMatch(/^\[driftguard\] sweep of 2 regions: 13 fixed, 2 need a human, 0 failed$/);

    const second = await runSweep(engine(), { rules: RULES, regions: REGIONS, account: ACCOUNT });
    const acted = Object.values(second.counts).flatMap((counts) =>
      Object.entries(counts).filter(([outcome]) => outcome !== 'compliant' && outcome !== 'ignored'),
    );
    // Only what the engine cannot do itself is told again.
    expect(acted).toEqual([['needs-human', 2]]);
  });

  it('re-creates a trail deleted while no event was seen, from its baseline', async () => {
    const event = JSON.parse(readFileSync('events/cloudtrail-DeleteTrail-by-name.json', 'utf8'));
    await trailReenactments['aws.cloudtrail:DeleteTrail']?.(event, {
      endpoint: testEndpoint(),
      account: ACCOUNT,
      notes: [],
      engine: engine(),
      keys: new Map(),
    });
    const report = await runSweep(engine(), { rules: RULES, regions: ['eu-west-1'], account: ACCOUNT });
    expect(report.counts['cloudtrail-trail-integrity']?.remediated).toBe(1);
    const [item] = report.first['cloudtrail-trail-integrity#remediated'] ?? [];
    expect(item?.resource).toBe('org-audit-trail');
    const status = await new CloudTrailClient(config('eu-west-1')).send(
      new GetTrailStatusCommand({ Name: 'org-audit-trail' }),
    );
    expect(status.IsLogging).toBe(true);
  });

  it('stops at its deadline with a cursor and the next run finishes where it stopped', async () => {
    await seedGroups('eu-west-1', 120);
    const cut = await runSweep(engine(), {
      rules: RULES,
      regions: ['eu-west-1'],
      account: ACCOUNT,
      deadline: Date.now(),
    });
    expect(cut.complete).toBe(false);
    expect(cut.seen['log-groups']).toBe(50);
    const resumed = await runSweep(engine(), { rules: RULES, regions: ['eu-west-1'], account: ACCOUNT });
    expect(resumed.complete).toBe(true);
    expect(resumed.sweepId).toBe(cut.sweepId);
    expect(resumed.seen['log-groups']).toBe(120);
    expect(resumed.counts['log-group-encryption-retention']?.remediated).toBe(120);
    expect((await describeGroup('/sweep/eu-west-1/service-119'))?.retentionInDays).toBe(365);
  });

  it('sweeps IAM users once, from us-east-1, even when the sweep covers other regions only (IAM is global)', async () => {
    const iam = new IAMClient(config('us-east-1'));
    await iam.send(new CreateUserCommand({ UserName: 'dave' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'dave', Password: 'Correct-Horse-9!' }));

    const report = await runSweep(engine(), { rules: RULES, regions: ['eu-west-1', 'eu-north-1'], account: ACCOUNT });

    expect(report.counts['iam-user-mfa-quarantine']).toEqual({ remediated: 1 });
    expect(report.first['iam-user-mfa-quarantine#remediated']?.map((item) => [item.region, item.resource])).toEqual([
      ['us-east-1', 'dave'],
    ]);
  });

  it('fixes nothing in a dry run or in notify mode, and reports what it would fix', async () => {
    await seedGroups('eu-west-1', 2);
    const dry = await runSweep(engine(), { rules: RULES, regions: ['eu-west-1'], account: ACCOUNT, dryRun: true });
    expect(dry.counts['log-group-encryption-retention']?.planned).toBe(2);
    await freshEngine({ DRIFTGUARD_MODE: 'notify' });
    await seedGroups('eu-west-1', 2);
    const notify = await runSweep(engine(), { rules: RULES, regions: ['eu-west-1'], account: ACCOUNT });
    expect(notify.counts['log-group-encryption-retention']?.planned).toBe(2);
    expect((await describeGroup('/sweep/eu-west-1/service-000'))?.retentionInDays).toBeUndefined();
  });
});
