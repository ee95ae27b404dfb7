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

  // Review #15/#9: CreateExportTask only on the selected groups of the regions backed up; S3 writes only under the
  // prefix of the backup's own buckets, in this account (a squatted bucket name is another account's).
  it('scopes the role to the regions, group prefixes and buckets backed up', () => {
    const stack = backupStack({
      ...options,
      bucket: 'home-backups',
      environment: {
        ...options.environment,
        DRIFTGUARD_BACKUP_BUCKETS: 'eu-west-1=eu-backups',
        DRIFTGUARD_BACKUP_LOG_GROUPS: '/app/,/aws/lambda/',
      },
    });
    const statement = (action: string) => stack.roleStatements.find((s) => s.Action.includes(action));
    const group = (region: string, name: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:logs:${region}:\${AWS::AccountId}:log-group:${name}`,
    });
    expect(statement('logs:CreateExportTask')?.Resource).toEqual([
      group('${AWS::Region}', '/app/*'),
      group('${AWS::Region}', '/aws/lambda/*'),
      group('eu-west-1', '/app/*'),
      group('eu-west-1', '/aws/lambda/*'),
    ]);
    expect(statement('logs:DescribeLogGroups')?.Resource).toEqual([
      group('${AWS::Region}', '*'),
      group('eu-west-1', '*'),
    ]);
    expect(statement('s3:PutObject')).toEqual({
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::home-backups/exported-logs/*' },
        { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::eu-backups/exported-logs/*' },
      ],
      Condition: { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(statement('s3:ListBucket')?.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::home-backups' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::eu-backups' },
    ]);
    expect(stack.roleStatements.flatMap((s) => s.Action).filter((a) => a.startsWith('s3:'))).toEqual([
      's3:PutObject',
      's3:ListBucket',
    ]);
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
