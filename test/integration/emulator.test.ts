// The embedded emulator's patches to moto, proved through the real SDK v3 serialisation over HTTP.
import {
  AddTagsCommand,
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  PutEventSelectorsCommand,
  PutInsightSelectorsCommand,
  RemoveTagsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ConfigServiceClient, PutConfigurationRecorderCommand } from '@aws-sdk/client-config-service';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_ACCOUNT_ID, type RunningEmulator, startEmulator } from '../../scripts/emulator/launcher.js';
import { cloudTrailBucketPolicy } from '../../scripts/reenact/trails.js';

const region = 'us-east-1';
let emulator: RunningEmulator | undefined;
let url = '';
let logs: CloudWatchLogsClient;
let kms: KMSClient;
let events: EventBridgeClient;
let cloudtrail: CloudTrailClient;

beforeAll(async () => {
  // A private emulator, not the shared DRIFTGUARD_TEST_ENDPOINT: other files reset that one while this file runs.
  emulator = await startEmulator();
  url = emulator.url;
  const config = { region, endpoint: url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  logs = new CloudWatchLogsClient(config);
  kms = new KMSClient(config);
  events = new EventBridgeClient(config);
  cloudtrail = new CloudTrailClient(config);
}, 30_000);

afterAll(async () => {
  await emulator?.stop();
});

let counter = 0;
/** Names unique per test, so no test depends on another's leftovers. */
function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

async function createKeyArn(): Promise<string> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'driftguard emulator test' }));
  if (!KeyMetadata?.Arn) throw new Error('CreateKey returned no ARN');
  return KeyMetadata.Arn;
}

async function keyMetadata(keyId: string) {
  const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  return KeyMetadata;
}

async function logGroupKmsKey(name: string): Promise<string | undefined> {
  const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const group = logGroups?.find((g) => g.logGroupName === name);
  if (!group) throw new Error(`log group ${name} not found`);
  return group.kmsKeyId;
}

describe('CloudWatch Logs AssociateKmsKey / DisassociateKmsKey', () => {
  it('associates a key ARN, shows it in DescribeLogGroups, and disassociates it', async () => {
    const keyArn = await createKeyArn();
    const name = uniqueName('/driftguard/assoc');
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));

    await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: keyArn }));
    expect(await logGroupKmsKey(name)).toBe(keyArn);

    await logs.send(new DisassociateKmsKeyCommand({ logGroupName: name }));
    expect(await logGroupKmsKey(name)).toBeUndefined();
  });

  it('targets a log group by resourceIdentifier (its ARN) too', async () => {
    const keyArn = await createKeyArn();
    const name = uniqueName('/driftguard/by-arn');
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    const resourceIdentifier = `arn:aws:logs:${region}:${EMULATOR_ACCOUNT_ID}:log-group:${name}`;

    await logs.send(new AssociateKmsKeyCommand({ resourceIdentifier, kmsKeyId: keyArn }));
    expect(await logGroupKmsKey(name)).toBe(keyArn);
    await logs.send(new DisassociateKmsKeyCommand({ resourceIdentifier }));
    expect(await logGroupKmsKey(name)).toBeUndefined();
  });

  it('rejects an unknown key, a bare key id, and a disabled key with InvalidParameterException', async () => {
    const keyArn = await createKeyArn();
    const name = uniqueName('/driftguard/bad-key');
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    const unknownArn = keyArn.replace(/key\/.*$/, 'key/00000000-0000-0000-0000-000000000000');
    const bareId = keyArn.split('/').pop();

    for (const kmsKeyId of [unknownArn, bareId]) {
      await expect(logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    }
    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    await expect(logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: keyArn }))).rejects.toMatchObject(
      { name: 'InvalidParameterException', message: expect.stringContaining('disabled') },
    );
    expect(await logGroupKmsKey(name)).toBeUndefined();
  });

  it('answers ResourceNotFoundException for an unknown log group', async () => {
    const keyArn = await createKeyArn();
    const logGroupName = uniqueName('/driftguard/missing');
    await expect(logs.send(new AssociateKmsKeyCommand({ logGroupName, kmsKeyId: keyArn }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
    await expect(logs.send(new DisassociateKmsKeyCommand({ logGroupName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('refuses logGroupName and resourceIdentifier together', async () => {
    const keyArn = await createKeyArn();
    const name = uniqueName('/driftguard/both');
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    const resourceIdentifier = `arn:aws:logs:${region}:${EMULATOR_ACCOUNT_ID}:log-group:${name}`;
    await expect(
      logs.send(new AssociateKmsKeyCommand({ logGroupName: name, resourceIdentifier, kmsKeyId: keyArn })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('validates the key of CreateLogGroup the same way', async () => {
    const keyArn = await createKeyArn();
    const encrypted = uniqueName('/driftguard/create-ok');
    await logs.send(new CreateLogGroupCommand({ logGroupName: encrypted, kmsKeyId: keyArn }));
    expect(await logGroupKmsKey(encrypted)).toBe(keyArn);

    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    const refused = uniqueName('/driftguard/create-disabled');
    await expect(
      logs.send(new CreateLogGroupCommand({ logGroupName: refused, kmsKeyId: keyArn })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: refused }));
    expect(logGroups).toEqual([]);
  });
});

describe('EventBridge TestEventPattern', () => {
  const engineRole = 'driftguard-prod-engine';
  const iamUser = {
    type: 'IAMUser',
    principalId: 'AIDAEXAMPLE',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    userName: 'alice',
  };
  const assumedRole = (roleName: string) => ({
    type: 'AssumedRole',
    arn: `arn:aws:sts::111122223333:assumed-role/${roleName}/session`,
    sessionContext: { sessionIssuer: { type: 'Role', userName: roleName } },
  });
  const envelope = (detail: Record<string, unknown> = {}) => ({
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.logs',
    account: '111122223333',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventSource: 'logs.amazonaws.com',
      eventName: 'CreateLogGroup',
      sourceIPAddress: '198.51.100.7',
      userIdentity: iamUser,
      requestParameters: { logGroupName: '/app/web', retentionInDays: 30 },
      responseElements: null,
      additionalEventData: { MFAUsed: 'YES' },
      resources: [{ type: 'AWS::KMS::Key', ARN: 'arn:aws:kms:us-east-1:111122223333:key/abc' }],
      readOnly: false,
      vpcEndpointId: '',
      ...detail,
    },
  });
  const loopAvoidance = {
    source: ['aws.logs'],
    detail: {
      errorCode: [{ exists: false }],
      $or: [
        { userIdentity: { sessionContext: { sessionIssuer: { userName: [{ exists: false }] } } } },
        {
          userIdentity: {
            sessionContext: { sessionIssuer: { userName: [{ 'anything-but': { prefix: 'driftguard-' } }] } },
          },
        },
      ],
    },
  };

  async function matches(pattern: unknown, event: unknown): Promise<boolean | undefined> {
    const { Result } = await events.send(
      new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) }),
    );
    return Result;
  }

  it.each([
    ['arrays are OR', { source: ['aws.kms', 'aws.logs'] }, envelope(), true],
    ['keys are AND', { source: ['aws.logs'], detail: { eventName: ['DeleteLogGroup'] } }, envelope(), false],
    ['nested objects', { detail: { userIdentity: { type: ['IAMUser'] } } }, envelope(), true],
    ['prefix', { detail: { eventName: [{ prefix: 'Create' }] } }, envelope(), true],
    [
      'prefix, ignoring case',
      { detail: { eventName: [{ prefix: { 'equals-ignore-case': 'create' } }] } },
      envelope(),
      true,
    ],
    ['suffix', { detail: { requestParameters: { logGroupName: [{ suffix: '/web' }] } } }, envelope(), true],
    [
      'equals-ignore-case',
      { detail: { additionalEventData: { MFAUsed: [{ 'equals-ignore-case': 'yes' }] } } },
      envelope(),
      true,
    ],
    ['wildcard', { detail: { userIdentity: { arn: [{ wildcard: 'arn:aws:iam::*:user/a*' }] } } }, envelope(), true],
    ['anything-but a value', { detail: { userIdentity: { type: [{ 'anything-but': 'Root' }] } } }, envelope(), true],
    [
      'anything-but a list',
      { detail: { eventName: [{ 'anything-but': ['CreateLogGroup', 'DeleteLogGroup'] }] } },
      envelope(),
      false,
    ],
    [
      'anything-but prefix',
      { detail: { userIdentity: { arn: [{ 'anything-but': { prefix: 'arn:aws:sts::' } }] } } },
      envelope(),
      true,
    ],
    [
      'anything-but suffix',
      { detail: { requestParameters: { logGroupName: [{ 'anything-but': { suffix: '/web' } }] } } },
      envelope(),
      false,
    ],
    [
      'anything-but wildcard',
      { detail: { userIdentity: { arn: [{ 'anything-but': { wildcard: '*/alice' } }] } } },
      envelope(),
      false,
    ],
    [
      'anything-but equals-ignore-case',
      { detail: { additionalEventData: { MFAUsed: [{ 'anything-but': { 'equals-ignore-case': 'yes' } }] } } },
      envelope(),
      false,
    ],
    [
      'anything-but does not match an absent field',
      {
        detail: { userIdentity: { sessionContext: { sessionIssuer: { userName: [{ 'anything-but': engineRole }] } } } },
      },
      envelope(),
      false,
    ],
    [
      'anything-but matches an explicit null',
      { detail: { responseElements: [{ 'anything-but': 'x' }] } },
      envelope(),
      true,
    ],
    ['exists false on an absent field', { detail: { errorCode: [{ exists: false }] } }, envelope(), true],
    ['exists true on an absent field', { detail: { errorCode: [{ exists: true }] } }, envelope(), false],
    ['exists true on a null field', { detail: { responseElements: [{ exists: true }] } }, envelope(), true],
    [
      'numeric range',
      { detail: { requestParameters: { retentionInDays: [{ numeric: ['>', 0, '<=', 30] }] } } },
      envelope(),
      true,
    ],
    [
      'numeric out of range',
      { detail: { requestParameters: { retentionInDays: [{ numeric: ['<', 30] }] } } },
      envelope(),
      false,
    ],
    ['cidr inside', { detail: { sourceIPAddress: [{ cidr: '198.51.100.0/24' }] } }, envelope(), true],
    ['cidr outside', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/8' }] } }, envelope(), false],
    ['null', { detail: { responseElements: [null] } }, envelope(), true],
    ['empty string', { detail: { vpcEndpointId: [''] } }, envelope(), true],
    ['$or', { $or: [{ detail: { eventName: ['DeleteLogGroup'] } }, { source: ['aws.logs'] }] }, envelope(), true],
    ['arrays of objects', { detail: { resources: { ARN: [{ prefix: 'arn:aws:kms:' }] } } }, envelope(), true],
    ['false is not 0', { detail: { readOnly: [0] } }, envelope(), false],
    ['false is false', { detail: { readOnly: [false] } }, envelope(), true],
    ['loop avoidance: an IAM user (no session issuer) matches', loopAvoidance, envelope(), true],
    ['loop avoidance: another role matches', loopAvoidance, envelope({ userIdentity: assumedRole('ops-admin') }), true],
    [
      'loop avoidance: the engine role does not',
      loopAvoidance,
      envelope({ userIdentity: assumedRole(engineRole) }),
      false,
    ],
    ['loop avoidance: a failed call does not', loopAvoidance, envelope({ errorCode: 'AccessDenied' }), false],
  ])('%s', async (_name, pattern, event, expected) => {
    expect(await matches(pattern, event)).toBe(expected);
  });

  it.each([
    ['not JSON', '{"source": ['],
    ['a scalar where an array belongs', '{"source": "aws.logs"}'],
    ['an unknown operator', '{"source": [{"starts-with": "aws."}]}'],
    ['exists that is not a boolean', '{"detail": {"errorCode": [{"exists": "no"}]}}'],
    ['an empty array', '{"source": []}'],
  ])('rejects a pattern with %s as InvalidEventPatternException', async (_name, pattern) => {
    await expect(
      events.send(new TestEventPatternCommand({ EventPattern: pattern, Event: JSON.stringify(envelope()) })),
    ).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
  });

  it('rejects an event without the envelope fields as ValidationException', async () => {
    const { detail } = envelope();
    await expect(
      events.send(
        new TestEventPatternCommand({ EventPattern: '{"source": ["aws.logs"]}', Event: JSON.stringify({ detail }) }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

/** CreateTrail needs a bucket whose policy lets CloudTrail write. */
async function trailBucket(prefix: string, policy = true): Promise<string> {
  const bucket = uniqueName(prefix).toLowerCase();
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    forcePathStyle: true,
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (policy) {
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket, EMULATOR_ACCOUNT_ID) }),
    );
  }
  return bucket;
}

describe('CloudTrail checks the trail bucket as AWS does', () => {
  it('refuses a bucket whose policy does not let CloudTrail write, on CreateTrail and UpdateTrail', async () => {
    const open = await trailBucket('driftguard-open');
    const closed = await trailBucket('driftguard-closed', false);
    await expect(
      cloudtrail.send(new CreateTrailCommand({ Name: uniqueName('driftguard-refused'), S3BucketName: closed })),
    ).rejects.toMatchObject({ name: 'InsufficientS3BucketPolicyException' });
    const name = uniqueName('driftguard-moved');
    await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: open }));
    await expect(cloudtrail.send(new UpdateTrailCommand({ Name: name, S3BucketName: closed }))).rejects.toMatchObject({
      name: 'InsufficientS3BucketPolicyException',
    });
    await expect(
      cloudtrail.send(new UpdateTrailCommand({ Name: name, S3BucketName: 'driftguard-no-such-bucket' })),
    ).rejects.toMatchObject({ name: 'S3BucketDoesNotExistException' });
  });
});

describe.each(['name', 'ARN'] as const)('CloudTrail by trail %s', (form) => {
  let bucket = '';

  async function createTrail(): Promise<{ name: string; arn: string; ref: string }> {
    const name = uniqueName('driftguard-trail');
    const { TrailARN } = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket }));
    if (!TrailARN) throw new Error('CreateTrail returned no ARN');
    return { name, arn: TrailARN, ref: form === 'name' ? name : TrailARN };
  }

  beforeAll(async () => {
    bucket = await trailBucket('driftguard-trail-bucket');
  });

  it('StartLogging, StopLogging and GetTrailStatus', async () => {
    const trail = await createTrail();
    await cloudtrail.send(new StartLoggingCommand({ Name: trail.ref }));
    expect((await cloudtrail.send(new GetTrailStatusCommand({ Name: trail.ref }))).IsLogging).toBe(true);
    await cloudtrail.send(new StopLoggingCommand({ Name: trail.ref }));
    expect((await cloudtrail.send(new GetTrailStatusCommand({ Name: trail.ref }))).IsLogging).toBe(false);
  });

  it('UpdateTrail', async () => {
    const trail = await createTrail();
    const updated = await cloudtrail.send(new UpdateTrailCommand({ Name: trail.ref, EnableLogFileValidation: true }));
    expect(updated).toMatchObject({ TrailARN: trail.arn, LogFileValidationEnabled: true });
  });

  it('PutEventSelectors and GetEventSelectors', async () => {
    const trail = await createTrail();
    const EventSelectors = [{ ReadWriteType: 'WriteOnly' as const, IncludeManagementEvents: true }];
    await cloudtrail.send(new PutEventSelectorsCommand({ TrailName: trail.ref, EventSelectors }));
    const read = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: trail.ref }));
    expect(read).toMatchObject({ TrailARN: trail.arn, EventSelectors });
  });

  it('PutInsightSelectors and GetInsightSelectors', async () => {
    const trail = await createTrail();
    const InsightSelectors = [{ InsightType: 'ApiCallRateInsight' as const }];
    await cloudtrail.send(new PutInsightSelectorsCommand({ TrailName: trail.ref, InsightSelectors }));
    const read = await cloudtrail.send(new GetInsightSelectorsCommand({ TrailName: trail.ref }));
    expect(read).toMatchObject({ TrailARN: trail.arn, InsightSelectors });
  });

  it('DescribeTrails with a trailNameList', async () => {
    const trail = await createTrail();
    await createTrail();
    const { trailList } = await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: [trail.ref] }));
    expect(trailList?.map((t) => t.TrailARN)).toEqual([trail.arn]);
  });

  it('DeleteTrail', async () => {
    const trail = await createTrail();
    await cloudtrail.send(new DeleteTrailCommand({ Name: trail.ref }));
    const { trailList } = await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: [trail.arn] }));
    expect(trailList).toEqual([]);
    await expect(cloudtrail.send(new GetTrailStatusCommand({ Name: trail.ref }))).rejects.toMatchObject({
      name: 'TrailNotFoundException',
    });
  });

  it('answers TrailNotFoundException for an unknown trail', async () => {
    const name = uniqueName('driftguard-missing');
    const ref = form === 'name' ? name : `arn:aws:cloudtrail:${region}:${EMULATOR_ACCOUNT_ID}:trail/${name}`;
    const calls: Array<() => Promise<unknown>> = [
      () => cloudtrail.send(new DeleteTrailCommand({ Name: ref })),
      () => cloudtrail.send(new StartLoggingCommand({ Name: ref })),
      () => cloudtrail.send(new StopLoggingCommand({ Name: ref })),
      () => cloudtrail.send(new GetTrailStatusCommand({ Name: ref })),
      () => cloudtrail.send(new UpdateTrailCommand({ Name: ref, EnableLogFileValidation: true })),
      () => cloudtrail.send(new GetEventSelectorsCommand({ TrailName: ref })),
      () => cloudtrail.send(new GetInsightSelectorsCommand({ TrailName: ref })),
    ];
    for (const call of calls) {
      await expect(call()).rejects.toMatchObject({ name: 'TrailNotFoundException' });
    }
  });
});

describe('CloudTrail tags by trail ARN', () => {
  it('AddTags, ListTags and RemoveTags take the trail ARN', async () => {
    const bucket = await trailBucket('driftguard-tags-bucket');
    const name = uniqueName('driftguard-tagged');
    const { TrailARN } = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket }));

    await cloudtrail.send(new AddTagsCommand({ ResourceId: TrailARN, TagsList: [{ Key: 'owner', Value: 'sec' }] }));
    const listed = await cloudtrail.send(new ListTagsCommand({ ResourceIdList: [TrailARN ?? ''] }));
    expect(listed.ResourceTagList).toEqual([{ ResourceId: TrailARN, TagsList: [{ Key: 'owner', Value: 'sec' }] }]);
    await cloudtrail.send(new RemoveTagsCommand({ ResourceId: TrailARN, TagsList: [{ Key: 'owner', Value: 'sec' }] }));
    const after = await cloudtrail.send(new ListTagsCommand({ ResourceIdList: [TrailARN ?? ''] }));
    expect(after.ResourceTagList?.[0]?.TagsList ?? []).toEqual([]);

    await expect(
      cloudtrail.send(new AddTagsCommand({ ResourceId: name, TagsList: [{ Key: 'k', Value: 'v' }] })),
    ).rejects.toMatchObject({ name: 'CloudTrailARNInvalidException' });
    await expect(
      cloudtrail.send(new ListTagsCommand({ ResourceIdList: [`${TrailARN}-missing`] })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe.each(['key id', 'key ARN'] as const)('KMS by %s', (form) => {
  async function createKey(): Promise<{ arn: string; ref: string }> {
    const arn = await createKeyArn();
    return { arn, ref: form === 'key ARN' ? arn : (arn.split('/').pop() ?? '') };
  }

  it('DisableKey and EnableKey', async () => {
    const key = await createKey();
    await kms.send(new DisableKeyCommand({ KeyId: key.ref }));
    expect(await keyMetadata(key.arn)).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    await kms.send(new EnableKeyCommand({ KeyId: key.ref }));
    expect(await keyMetadata(key.arn)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
  });

  it('ScheduleKeyDeletion sets PendingDeletion and a DeletionDate; CancelKeyDeletion leaves the key Disabled', async () => {
    const key = await createKey();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.ref, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: key.arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate).toBeInstanceOf(Date);
    const pending = await keyMetadata(key.ref);
    expect(pending).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false });
    expect(pending?.DeletionDate).toBeInstanceOf(Date);
    await expect(kms.send(new EnableKeyCommand({ KeyId: key.ref }))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });

    const cancelled = await kms.send(new CancelKeyDeletionCommand({ KeyId: key.ref }));
    expect(cancelled.KeyId).toBe(key.arn);
    const after = await keyMetadata(key.ref);
    expect(after).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(after?.DeletionDate).toBeUndefined();
    await expect(kms.send(new CancelKeyDeletionCommand({ KeyId: key.ref }))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });
  });

  it('rejects a pending window outside 7..30 days', async () => {
    const key = await createKey();
    await expect(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.ref, PendingWindowInDays: 3 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await keyMetadata(key.ref)).toMatchObject({ KeyState: 'Enabled' });
  });

  it('EnableKeyRotation, DisableKeyRotation and GetKeyRotationStatus', async () => {
    const key = await createKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.ref }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.ref }))).KeyRotationEnabled).toBe(true);
    await kms.send(new DisableKeyRotationCommand({ KeyId: key.ref }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.ref }))).KeyRotationEnabled).toBe(false);
  });

  it('PutKeyPolicy and GetKeyPolicy (PolicyName optional)', async () => {
    const key = await createKey();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.ref, PolicyName: 'default', Policy: policy }));
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.ref, PolicyName: 'default' }))).Policy).toBe(policy);
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.ref }))).Policy).toBe(policy);
  });

  it('TagResource and ListResourceTags', async () => {
    const key = await createKey();
    await kms.send(new TagResourceCommand({ KeyId: key.ref, Tags: [{ TagKey: 'owner', TagValue: 'sec' }] }));
    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: key.ref }));
    expect(Tags).toEqual([{ TagKey: 'owner', TagValue: 'sec' }]);
  });
});

describe('KMS DescribeKey', () => {
  it('accepts a key id, key ARN, alias name and alias ARN', async () => {
    const arn = await createKeyArn();
    const alias = `alias/${uniqueName('driftguard')}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }));
    const aliasArn = `arn:aws:kms:${region}:${EMULATOR_ACCOUNT_ID}:${alias}`;
    for (const keyId of [arn.split('/').pop(), arn, alias, aliasArn]) {
      expect((await keyMetadata(keyId ?? ''))?.Arn).toBe(arn);
    }
  });

  it('answers NotFoundException for a key ARN of another account', async () => {
    const arn = await createKeyArn();
    const foreign = arn.replace(EMULATOR_ACCOUNT_ID, '111122223333');
    await expect(kms.send(new DisableKeyCommand({ KeyId: foreign }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });
});

describe('AWS Config PutConfigurationRecorder', () => {
  it('answers InvalidConfigurationRecorderNameException for the prefix reserved to service-linked recorders', async () => {
    const config = new ConfigServiceClient({
      region: 'eu-west-1',
      endpoint: url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const put = config.send(
      new PutConfigurationRecorderCommand({
        ConfigurationRecorder: {
          name: 'AWSConfigurationRecorderForTeam',
          roleARN: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/config`,
          recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
        },
      }),
    );
    await expect(put).rejects.toMatchObject({ name: 'InvalidConfigurationRecorderNameException' });
  });
});
