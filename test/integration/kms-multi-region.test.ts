/**
 * A multi-Region primary key scheduled for deletion while it has replicas (keyState PendingReplicaDeletion) against the
 * emulator: replayed with --reenact (a multi-Region key in use by a log group, replicated, then the event's call), its
 * deletion cancelled and the key enabled again; the replica's own state untouched.
 */
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { runReplay } from '../../scripts/replay.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const SAMPLE = 'events/kms-ScheduleKeyDeletion-multi-Region-primary.json';
const kms = (region: string) => new KMSClient(emulatorClientConfig(testEndpoint(), region));

describe('the emulator’s multi-Region keys (as AWS documents them)', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('schedules a primary with a replica PendingReplicaDeletion, no date; cancelled, it is Disabled', async () => {
    const { KeyMetadata } = await kms('eu-west-1').send(new CreateKeyCommand({ MultiRegion: true }));
    const keyId = String(KeyMetadata?.KeyId);
    await kms('eu-west-1').send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-east-1' }));

    const scheduled = await kms('eu-west-1').send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    const primary = (await kms('eu-west-1').send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    const replica = (await kms('us-east-1').send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;

    expect(keyId).toMatch(/^mrk-/);
    expect(scheduled).toMatchObject({ KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate).toBeUndefined();
    expect(primary).toMatchObject({ KeyState: 'PendingReplicaDeletion', PendingDeletionWindowInDays: 7 });
    expect(primary?.MultiRegionConfiguration?.MultiRegionKeyType).toBe('PRIMARY');
    expect(replica).toMatchObject({ KeyState: 'Enabled', MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } });
    await kms('eu-west-1').send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    const cancelled = (await kms('eu-west-1').send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    expect(cancelled?.KeyState).toBe('Disabled');
  });
});

describe('KMS key guard on a multi-Region primary key', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('cancels the deletion pending the replicas’ and enables the key; the notice says replicas have their own', async () => {
    const report = await runReplay({
      files: [SAMPLE],
      endpoint: testEndpoint(),
      reenact: true,
      json: true,
      print: () => undefined,
    });

    const [item] = report.items;
    const mapped = item?.notes
      .find((note) => note.includes('mapped to emulator key'))
      ?.split('mapped to emulator key ')[1];
    expect(item?.notes).toContainEqual(
      expect.stringMatching(/^replicated multi-Region key arn:aws:kms:eu-west-1:\d{12}:key\/mrk-/),
    );
    expect(item?.result.outcome).toBe('remediated');
    expect(item?.result.actions.map((action) => action.api)).toEqual(['kms:CancelKeyDeletion', 'kms:EnableKey']);
    const primary = (await kms('eu-west-1').send(new DescribeKeyCommand({ KeyId: mapped }))).KeyMetadata;
    expect(primary?.KeyState).toBe('Enabled');
    const replica = (await kms('us-east-1').send(new DescribeKeyCommand({ KeyId: mapped?.split('/').pop() })))
      .KeyMetadata;
    expect(replica).toMatchObject({ KeyState: 'Enabled', MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } });
    const [notice] = await readNotices();
    expect(notice?.attributes).toMatchObject({ severity: 'critical', outcome: 'remediated' });
    expect(notice?.document.findings).toEqual([
      {
        attribute: 'keyState',
        before: 'PendingReplicaDeletion (a multi-Region primary key, deleted after its replicas, then 7 days)',
        after: 'Enabled',
      },
    ]);
    expect(notice?.text).toContain('have their own deletion schedules');
  });
});
