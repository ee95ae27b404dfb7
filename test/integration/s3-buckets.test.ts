/**
 * The engine's two S3 reads (lib/s3-buckets.ts) against the emulator, through the engine's own clients: ListBuckets
 * by prefix lists the account's buckets that start with it and no other; HeadBucket reads a bucket's region or names
 * the bucket missing; both are counted and seen by the tests' interceptors as every SDK call is; and the backup's bucket
 * check names a bucket of another region as such. (Requests, signing, errors and retries: test/unit/s3-buckets.test.ts.)
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsCallCounter, createAwsClients } from '../../lib/aws.js';
import { sdkBucketApi } from '../../lib/backup/aws.js';
import { HeadBucketCommand, ListBucketsCommand, S3BucketsClient } from '../../lib/s3-buckets.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { freshEngine, testEndpoint } from '../support/emulator.js';
import { type InterceptedCall, interceptedClients } from '../support/intercept.js';

const ACCOUNT = '123456789012';

describe('S3BucketsClient against the emulator', () => {
  beforeAll(async () => {
    await freshEngine();
    const create = (region: string, Bucket: string) =>
      new S3Client({ ...emulatorClientConfig(testEndpoint(), region), forcePathStyle: true }).send(
        new CreateBucketCommand({
          Bucket,
          ...(region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }),
        }),
      );
    await create('us-east-1', 's3b-trail-logs');
    await create('us-east-1', 's3b-trail-logs-archive');
    await create('us-east-1', 's3b-other');
    await create('eu-west-1', 's3b-eu-backup');
  }, 60_000);

  it('lists the buckets that start with the prefix, from any region’s endpoint; counted and intercepted', async () => {
    const seen: InterceptedCall[] = [];
    const aws = interceptedClients(async (call, send) => {
      seen.push(call);
      return send();
    });
    const before = awsCallCounter.calls;
    for (const region of ['us-east-1', 'eu-west-1']) {
      const { Buckets } = await aws
        .client(S3BucketsClient, region)
        .send(new ListBucketsCommand({ Prefix: 's3b-trail' }));
      expect(Buckets.map((bucket) => bucket.Name).sort()).toEqual(['s3b-trail-logs', 's3b-trail-logs-archive']);
    }
    const { Buckets: none } = await aws
      .client(S3BucketsClient, 'us-east-1')
      .send(new ListBucketsCommand({ Prefix: 's3b-absent' }));
    expect(none).toEqual([]);
    expect(awsCallCounter.calls - before).toBe(3);
    expect(seen.map((call) => [call.client, call.command, call.region, call.input.Prefix])).toEqual([
      ['S3', 'ListBuckets', 'us-east-1', 's3b-trail'],
      ['S3', 'ListBuckets', 'eu-west-1', 's3b-trail'],
      ['S3', 'ListBuckets', 'us-east-1', 's3b-absent'],
    ]);
  });

  it('reads a bucket’s region, and names a missing bucket NotFound', async () => {
    const s3 = createAwsClients().client(S3BucketsClient, 'us-east-1');
    const own = await s3.send(new HeadBucketCommand({ Bucket: 's3b-other', ExpectedBucketOwner: ACCOUNT }));
    expect(own.BucketRegion).toBe('us-east-1');
    const away = await s3.send(new HeadBucketCommand({ Bucket: 's3b-eu-backup', ExpectedBucketOwner: ACCOUNT }));
    expect(away.BucketRegion).toBe('eu-west-1');
    await expect(s3.send(new HeadBucketCommand({ Bucket: 's3b-never-made' }))).rejects.toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('is refused 403 when the bucket is not the expected owner’s (the emulator checks the owner as S3 does)', async () => {
    const s3 = createAwsClients().client(S3BucketsClient, 'us-east-1');
    await expect(
      s3.send(new HeadBucketCommand({ Bucket: 's3b-other', ExpectedBucketOwner: '111122223333' })),
    ).rejects.toMatchObject({ name: 'Forbidden', $metadata: { httpStatusCode: 403 } });
  });

  it('the backup’s bucket check: its own region’s bucket passes; another account’s, another region’s and a missing one are named', async () => {
    const buckets = sdkBucketApi(createAwsClients());
    expect(await buckets.problem('us-east-1', 's3b-other', ACCOUNT)).toBeUndefined();
    expect(await buckets.problem('us-east-1', 's3b-eu-backup', ACCOUNT)).toBe(
      'bucket s3b-eu-backup is in eu-west-1, not us-east-1: a log group exports only to a bucket of its own region',
    );
    // The name re-created by another account: the account the backup expects is not the bucket's owner.
    expect(await buckets.problem('us-east-1', 's3b-other', '111122223333')).toBe(
      "bucket s3b-other is not verified as this account's (111122223333) in us-east-1: HeadBucket with ExpectedBucketOwner answered Forbidden (owned by another account, missing, or in another region)",
    );
    expect(await buckets.problem('us-east-1', 's3b-never-made', ACCOUNT)).toBe(
      `bucket s3b-never-made is not verified as this account's (${ACCOUNT}) in us-east-1: HeadBucket with ExpectedBucketOwner answered NotFound (owned by another account, missing, or in another region)`,
    );
  });
});
