/** The backup's part of the stack from its params: its own bucket or the one named, and bad params named at packaging. */
import { describe, expect, it } from 'vitest';
import { backupStack } from '../../lib/backup/stack.js';

const options = {
  stage: 'prod',
  functionName: 'driftguard-prod-backup',
  bucket: '',
  schedule: 'cron(15 0 * * ? *)',
  coldAfterDays: 30,
  environment: { DRIFTGUARD_BACKUP_BUCKETS: '', DRIFTGUARD_BACKUP_LOG_GROUPS: '', DRIFTGUARD_BACKUP_SINCE_DAYS: '1' },
};

describe('backupStack', () => {
  it('creates the bucket and its policy when backupBucket is empty, and points the function at it', () => {
    const stack = backupStack(options);
    expect(Object.keys(stack.resources).sort()).toEqual(['BackupBucket', 'BackupBucketPolicy']);
    expect(stack.function.environment.DRIFTGUARD_BACKUP_BUCKET).toEqual({ Ref: 'BackupBucket' });
  });

  it('creates no bucket when backupBucket names one, and uses it', () => {
    const stack = backupStack({ ...options, bucket: 'my-backups' });
    expect(stack.resources).toEqual({});
    expect(stack.function.environment.DRIFTGUARD_BACKUP_BUCKET).toBe('my-backups');
  });

  it.each([
    [{ bucket: 'My_Backups' }, 'DRIFTGUARD_BACKUP_BUCKET="My_Backups" is invalid'],
    [
      { environment: { ...options.environment, DRIFTGUARD_BACKUP_BUCKETS: 'eu-west-1' } },
      'DRIFTGUARD_BACKUP_BUCKETS="eu-west-1" is invalid',
    ],
    [
      { environment: { ...options.environment, DRIFTGUARD_BACKUP_SINCE_DAYS: '0' } },
      'DRIFTGUARD_BACKUP_SINCE_DAYS="0" is invalid',
    ],
    [{ coldAfterDays: Number('soon') }, 'backupColdAfterDays=NaN is invalid: allowed values are whole days from 0'],
    [{ coldAfterDays: 1.5 }, 'backupColdAfterDays=1.5 is invalid'],
  ])('refuses %j at packaging, naming it', (change, message) => {
    expect(() => backupStack({ ...options, ...change })).toThrow(message);
  });
});
