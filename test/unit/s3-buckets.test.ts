/**
 * The engine's two S3 reads (lib/s3-buckets.ts) as they go out and as their answers are read, with a request handler
 * standing in for S3: where each request goes in each partition and setting, how it is signed, what S3's error
 * answers become, and that the SDK's retries apply (a 503 retried, a 403 not). The emulator half is in
 * test/integration/s3-buckets.test.ts.
 */
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bucketListed,
  HeadBucketCommand,
  ListBucketsCommand,
  S3BucketsClient,
  S3ServiceError,
  s3Location,
} from '../../lib/s3-buckets.js';
import { quotaFreeRetries } from '../support/intercept.js';

afterEach(() => vi.unstubAllEnvs());

function noEndpoint() {
  vi.stubEnv('AWS_ENDPOINT_URL', '');
  vi.stubEnv('AWS_ENDPOINT_URL_S3', '');
  vi.stubEnv('AWS_USE_FIPS_ENDPOINT', '');
  vi.stubEnv('AWS_USE_DUALSTACK_ENDPOINT', '');
}

describe('s3Location', () => {
  it.each([
    ['us-east-1', undefined, 'https://s3.us-east-1.amazonaws.com/', '/'],
    ['eu-west-1', 'my-bucket', 'https://my-bucket.s3.eu-west-1.amazonaws.com/', '/'],
    ['cn-north-1', 'logs-1', 'https://logs-1.s3.cn-north-1.amazonaws.com.cn/', '/'],
    ['us-gov-west-1', 'logs-1', 'https://logs-1.s3.us-gov-west-1.amazonaws.com/', '/'],
    ['us-iso-east-1', undefined, 'https://s3.us-iso-east-1.c2s.ic.gov/', '/'],
    ['us-isob-east-1', undefined, 'https://s3.us-isob-east-1.sc2s.sgov.gov/', '/'],
    ['eusc-de-east-1', 'logs-1', 'https://logs-1.s3.eusc-de-east-1.amazonaws.eu/', '/'],
    // Names that are no single DNS label go path style: a dot breaks the wildcard certificate, capitals are old names.
    ['us-east-1', 'logs.example.com', 'https://s3.us-east-1.amazonaws.com/', '/logs.example.com'],
    ['us-east-1', 'Old_Bucket', 'https://s3.us-east-1.amazonaws.com/', '/Old_Bucket'],
  ])('%s %s: %s path %s', (region, bucket, url, path) => {
    noEndpoint();
    const location = s3Location(region, bucket);
    expect([location.url.href, location.path]).toEqual([url, path]);
  });

  it.each([
    ['true', '', 'https://b-1.s3-fips.us-east-1.amazonaws.com/'],
    ['', 'true', 'https://b-1.s3.dualstack.us-east-1.amazonaws.com/'],
    ['TRUE', 'true', 'https://b-1.s3-fips.dualstack.us-east-1.amazonaws.com/'],
    ['false', 'false', 'https://b-1.s3.us-east-1.amazonaws.com/'],
  ])('FIPS %j, dual-stack %j: %s', (fips, dualstack, url) => {
    noEndpoint();
    vi.stubEnv('AWS_USE_FIPS_ENDPOINT', fips);
    vi.stubEnv('AWS_USE_DUALSTACK_ENDPOINT', dualstack);
    expect(s3Location('us-east-1', 'b-1').url.href).toBe(url);
  });

  it.each([
    ['cn-north-1', 'AWS_USE_FIPS_ENDPOINT', 'S3: partition aws-cn (cn-north-1) has no FIPS endpoint'],
    ['us-east-1.evil.example', 'AWS_USE_FIPS_ENDPOINT', 'S3: "us-east-1.evil.example" is no region'],
  ])('refuses %s with %s rather than guess a host', (region, setting, message) => {
    noEndpoint();
    vi.stubEnv(setting, 'true');
    expect(() => s3Location(region, 'b-1')).toThrow(message);
  });

  it('goes path style to a configured endpoint, S3’s own before the general one', () => {
    noEndpoint();
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:5000');
    expect(s3Location('eu-west-1', 'my-bucket')).toMatchObject({ path: '/my-bucket' });
    expect(s3Location('eu-west-1', 'my-bucket').url.host).toBe('127.0.0.1:5000');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://localhost:9000/s3/');
    expect(s3Location('eu-west-1', 'my-bucket')).toMatchObject({ path: '/s3/my-bucket' });
    expect(s3Location('eu-west-1')).toMatchObject({ path: '/s3/' });
  });
});

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A client whose requests are answered in turn by `answers`, recording each request as it was sent (signed). */
function clientAnswering(answers: Answer[], region = 'eu-west-1') {
  const sent: HttpRequest[] = [];
  const requestHandler = {
    async handle(request: HttpRequest) {
      sent.push(request);
      const answer = answers[Math.min(sent.length - 1, answers.length - 1)] as Answer;
      const response = {
        statusCode: answer.status,
        headers: answer.headers ?? {},
        body: Readable.from(answer.body ? [Buffer.from(answer.body)] : []),
      } as unknown as HttpResponse;
      return { response };
    },
  };
  const client = new S3BucketsClient({
    region,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    retryStrategy: quotaFreeRetries(3),
    requestHandler,
  });
  return { client, sent };
}

const LISTED = (names: string[], token?: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>abc</ID></Owner><Buckets>${names
    .map((name) => `<Bucket><Name>${name}</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket>`)
    .join('')}</Buckets>${token ? `<ContinuationToken>${token}</ContinuationToken>` : ''}</ListAllMyBucketsResult>`;

describe('ListBuckets', () => {
  it('sends a signed GET of / with the prefix, for S3 in the client’s region', async () => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status: 200, body: LISTED(['trail-logs']) }]);
    await client.send(new ListBucketsCommand({ Prefix: 'trail-logs' }));
    const request = sent[0] as HttpRequest;
    expect(request).toMatchObject({
      method: 'GET',
      hostname: 's3.eu-west-1.amazonaws.com',
      path: '/',
      query: { 'x-id': 'ListBuckets', prefix: 'trail-logs' },
    });
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^ ]*host[^ ]*x-amz-content-sha256/,
    );
    // The hash of an empty payload: S3 refuses a request without it.
    expect(request.headers['x-amz-content-sha256']).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it.each([
    [[], []],
    [['one'], ['one']],
    [
      ['one', 'one-2', 'one.logs'],
      ['one', 'one-2', 'one.logs'],
    ],
  ])('reads the buckets listed: %j', async (names, read) => {
    noEndpoint();
    const { client } = clientAnswering([{ status: 200, body: LISTED(names) }]);
    const output = await client.send(new ListBucketsCommand({ Prefix: 'one' }));
    expect(output.Buckets.map((bucket) => bucket.Name)).toEqual(read);
    expect(output.ContinuationToken).toBeUndefined();
    expect(output.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
  });

  it('passes the continuation token on and reads the next one', async () => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status: 200, body: LISTED(['a'], 'page-3') }]);
    const output = await client.send(new ListBucketsCommand({ Prefix: 'a', ContinuationToken: 'page-2' }));
    expect(sent[0]?.query).toMatchObject({ 'continuation-token': 'page-2' });
    expect(output.ContinuationToken).toBe('page-3');
  });

  it('retries a 503 SlowDown as the SDK does, signing each attempt again', async () => {
    noEndpoint();
    const slow = '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
    const { client, sent } = clientAnswering([
      { status: 503, body: slow },
      { status: 200, body: LISTED(['b']) },
    ]);
    const output = await client.send(new ListBucketsCommand({ Prefix: 'b' }));
    expect(output.Buckets).toEqual([{ Name: 'b' }]);
    expect(output.$metadata.attempts).toBe(2);
    expect(sent).toHaveLength(2);
    expect(sent.every((request) => typeof request.headers.authorization === 'string')).toBe(true);
  });

  it('does not retry AccessDenied: the error is S3’s, named by its code', async () => {
    noEndpoint();
    const denied = '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    const { client, sent } = clientAnswering([{ status: 403, body: denied, headers: { 'x-amz-request-id': 'R1' } }]);
    const error = await client.send(new ListBucketsCommand({})).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3ServiceError);
    expect(error).toMatchObject({
      name: 'AccessDenied',
      message: 'Access Denied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, requestId: 'R1' },
    });
    expect(sent).toHaveLength(1);
  });

  it.each([
    [
      'an error document',
      '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
    ],
    ['nothing', ''],
    ['a page that is no XML', '<html><body>gateway'],
  ])('takes a 200 with %s for a 500: retried, then named InternalError', async (_label, body) => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status: 200, body }]);
    await expect(client.send(new ListBucketsCommand({}))).rejects.toMatchObject({
      name: 'InternalError',
      message: 'ListBuckets answered 200 without a bucket list',
      $metadata: { httpStatusCode: 500 },
    });
    expect(sent).toHaveLength(3);
  });

  it('corrects a skewed clock from S3’s Date header, and signs the retry with S3’s time', async () => {
    noEndpoint();
    const serverTime = Date.now() + 3_600_000;
    const skewed = '<Error><Code>RequestTimeTooSkewed</Code><Message>The difference is too large.</Message></Error>';
    const date = new Date(serverTime).toUTCString();
    const { client, sent } = clientAnswering([
      { status: 403, body: skewed, headers: { date } },
      { status: 200, body: LISTED(['c']), headers: { date } },
    ]);
    const output = await client.send(new ListBucketsCommand({ Prefix: 'c' }));
    expect(output.$metadata.attempts).toBe(2);
    const stamp = (request: HttpRequest | undefined) =>
      Date.parse(
        String(request?.headers['x-amz-date']).replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          '$1-$2-$3T$4:$5:$6Z',
        ),
      );
    expect(Math.abs(stamp(sent[0]) - Date.now())).toBeLessThan(60_000);
    expect(Math.abs(stamp(sent[1]) - serverTime)).toBeLessThan(60_000);
  });
});

describe('bucketListed', () => {
  it('follows the continuation token to the page that lists the bucket', async () => {
    noEndpoint();
    const { client, sent } = clientAnswering([
      { status: 200, body: LISTED(['trail-logs-a'], 'page-2') },
      { status: 200, body: LISTED(['trail-logs']) },
    ]);
    expect(await bucketListed(client, 'trail-logs')).toBe(true);
    expect(sent.map((request) => request.query['continuation-token'])).toEqual([undefined, 'page-2']);
  });

  it('answers false when no page lists it, and only the exact name counts', async () => {
    noEndpoint();
    const { client } = clientAnswering([{ status: 200, body: LISTED(['trail-logs-old', 'trail-logsx']) }]);
    expect(await bucketListed(client, 'trail-logs')).toBe(false);
  });

  it('stops at a token answered twice, by name', async () => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status: 200, body: LISTED(['x-1'], 'again') }]);
    await expect(bucketListed(client, 'x')).rejects.toThrow('ListBuckets for x did not end: 2 pages, token again');
    expect(sent).toHaveLength(2);
  });
});

describe('HeadBucket', () => {
  it('sends a signed HEAD of the bucket with the expected owner, and reads the bucket’s region', async () => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status: 200, headers: { 'x-amz-bucket-region': 'eu-west-1' } }]);
    const output = await client.send(
      new HeadBucketCommand({ Bucket: 'backup-1', ExpectedBucketOwner: '111122223333' }),
    );
    expect(output.BucketRegion).toBe('eu-west-1');
    expect(sent[0]).toMatchObject({
      method: 'HEAD',
      hostname: 'backup-1.s3.eu-west-1.amazonaws.com',
      path: '/',
      headers: { 'x-amz-expected-bucket-owner': '111122223333' },
    });
    expect(sent[0]?.headers.authorization).toMatch(/SignedHeaders=[^ ]*x-amz-expected-bucket-owner/);
  });

  it.each([
    [403, {}, 'Forbidden', undefined],
    [404, {}, 'NotFound', undefined],
    [301, { 'x-amz-bucket-region': 'ap-south-1' }, 'PermanentRedirect', 'ap-south-1'],
    [400, { 'x-amz-bucket-region': 'us-west-2' }, 'BadRequest', 'us-west-2'],
    [307, {}, 'TemporaryRedirect', undefined],
  ])('a body-less %i is %s (bucket region %s)', async (status, headers, name, bucketRegion) => {
    noEndpoint();
    const { client, sent } = clientAnswering([{ status, headers }]);
    const error = await client.send(new HeadBucketCommand({ Bucket: 'backup-1' })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name, BucketRegion: bucketRegion, $metadata: { httpStatusCode: status } });
    expect(sent).toHaveLength(1);
  });

  it.each(['', '12345678901', '1234567890123', 'account'])(
    'refuses the expected owner %j (an empty one would check no owner) before sending anything',
    async (ExpectedBucketOwner) => {
      const { client, sent } = clientAnswering([{ status: 200 }]);
      await expect(client.send(new HeadBucketCommand({ Bucket: 'b-1', ExpectedBucketOwner }))).rejects.toThrow(
        `HeadBucket's ExpectedBucketOwner must be an account id, not ${JSON.stringify(ExpectedBucketOwner)}`,
      );
      expect(sent).toHaveLength(0);
    },
  );

  it.each(['', 'a/../b', '..', 'name?x=1', 'a b', 'b#c'])(
    'refuses %j as a bucket name before sending anything (it could change the request’s path)',
    async (Bucket) => {
      const { client, sent } = clientAnswering([{ status: 200 }]);
      await expect(client.send(new HeadBucketCommand({ Bucket }))).rejects.toThrow(
        `HeadBucket needs a bucket name, not ${JSON.stringify(Bucket)}`,
      );
      expect(sent).toHaveLength(0);
    },
  );
});
