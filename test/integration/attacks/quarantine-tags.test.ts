/**
 * Attack: someone with iam:TagUser adds the id of a key that security set Inactive to a quarantined user's tags (where
 * earlier versions kept the list of keys to give back), hoping the release reactivates it. The list lives in the
 * state table, written by the engine alone: release reactivates only the keys the engine deactivated.
 */
import { CreateAccessKeyCommand, TagUserCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import { mfaGuard } from '../../../lib/guards/mfa-guard.js';
import { QUARANTINE_TAG, QUARANTINED_KEYS_TAG } from '../../../lib/iam-users.js';
import { QuarantineRecords } from '../../../lib/mfa/quarantine-records.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorIam, freshEngine, readIamUserState } from '../../support/emulator.js';
import { CallRecorder, contextFor, guardHandler, reenacted, sampleEvent } from '../../support/handler-harness.js';

describe('attack: a key id added to a quarantined user’s tags', () => {
  beforeEach(async () => {
    await freshEngine({ DRIFTGUARD_MFA_DEACTIVATE_KEYS: 'true' });
  });

  it('is never reactivated by the release; only the key the engine deactivated is', async () => {
    // Prepare: bob loses his MFA device and is quarantined, his active key set Inactive and recorded.
    const handler = guardHandler(mfaGuard, new CallRecorder(), loadSettings());
    const lost = await reenacted(sampleEvent('iam-DeactivateMFADevice-iam-user'));
    expect((await handler(lost, contextFor(mfaGuard, lost))).outcome).toBe('remediated');
    const [engineKey] = Object.keys((await readIamUserState('bob')).keys);
    // A key security disabled on purpose, then named in bob's tags as if the engine had recorded it.
    const iam = emulatorIam();
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const disabledKey = String(AccessKey?.AccessKeyId);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: disabledKey, Status: 'Inactive' }));
    await iam.send(
      new TagUserCommand({
        UserName: 'bob',
        Tags: [{ Key: QUARANTINED_KEYS_TAG, Value: `${engineKey} ${disabledKey}` }],
      }),
    );
    const enrolled = await reenacted(sampleEvent('iam-EnableMFADevice'));

    // Act
    const released = await handler(enrolled, contextFor(mfaGuard, enrolled));

    // Assess
    expect(released.outcome).toBe('remediated');
    expect(released.actions.filter((a) => a.api === 'iam:UpdateAccessKey').map((a) => a.params)).toEqual([
      { UserName: 'bob', AccessKeyId: engineKey, Status: 'Active' },
    ]);
    const bob = await readIamUserState('bob');
    expect(bob.keys).toEqual({ [String(engineKey)]: 'Active', [disabledKey]: 'Inactive' });
    expect(bob.tags[QUARANTINE_TAG]).toBeUndefined();
    expect(await new QuarantineRecords(createAwsClients(), loadSettings().stateTable ?? '').get('bob')).toBeUndefined();
  });
});
