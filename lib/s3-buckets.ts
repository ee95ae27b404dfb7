/**
 * The two S3 reads the engine makes, and nothing else of S3: ListBuckets (is a trail's bucket among this account's?)
 * and HeadBucket with ExpectedBucketOwner (is the backup's bucket this account's, and in which region?).
 *
 * Sent through the SDK's own client core: its middleware stack (so the engine's call counter and the tests'
 * interceptors see them as they see every call), its retry strategies (adaptive by default, as every client), SigV4
 * and the node HTTP handler. What it leaves out is @aws-sdk/client-s3 itself: its endpoint rules, REST-XML protocol and
 * S3 features (Express sessions, multi-region signing, checksums, redirects followed) made a fifth of the trail
 * guard's bundle, for a GET of `/` and a HEAD of one bucket.
 *
 * Endpoints: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (an emulator: path style), else the region's S3 endpoint of its
 * partition (the SDK's partition table), FIPS and dual-stack as AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT ask. A bucket is addressed
 * virtual-hosted when its name is a DNS label without dots, else path style (as the SDK does).
 */
import { partition } from '@aws-sdk/core/client';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { parseXML } from '@aws-sdk/xml-builder';
import { Sha256 } from '@smithy/core/checksum';
import { Client, Command, ServiceException } from '@smithy/core/client';
import { HttpRequest, type HttpResponse } from '@smithy/core/protocols';
import { getRetryPlugin, resolveRetryConfig } from '@smithy/core/retry';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpHandlerOptions, RequestHandler } from '@smithy/types';
import type { ClientConfig } from './aws.js';

/** The SDK clients' configuration (the node HTTP handler unless one is given). */
export type S3BucketsConfig = ClientConfig;

export interface ListBucketsInput {
  Prefix?: string;
  ContinuationToken?: string;
}

export interface HeadBucketInput {
  Bucket: string;
  ExpectedBucketOwner?: string;
}

interface Metadata {
  $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number; totalRetryDelay?: number };
}

export interface ListBucketsOutput extends Metadata {
  Buckets: { Name: string }[];
  ContinuationToken?: string;
}

export interface HeadBucketOutput extends Metadata {
  BucketRegion?: string;
}

/** S3's error, named by its code (AccessDenied, NoSuchBucket; for a HEAD, which has no body: NotFound, Forbidden...). */
export class S3ServiceError extends ServiceException {
  /** The region S3 names for the bucket (x-amz-bucket-region), when it answered one (a 301 from another region). */
  readonly BucketRegion?: string;
  constructor(name: string, message: string, status: number, headers: Record<string, string>) {
    super({
      name,
      message,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status, requestId: headers['x-amz-request-id'] },
    });
    this.BucketRegion = headers['x-amz-bucket-region'];
  }
}

/** What S3 calls a body-less status (HEAD answers carry no error document). */
const STATUS_NAMES: Record<number, string> = {
  301: 'PermanentRedirect',
  307: 'TemporaryRedirect',
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'SlowDown',
  504: 'GatewayTimeout',
};

const DNS_LABEL = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function flag(name: string): boolean {
  return process.env[name]?.trim().toLowerCase() === 'true';
}

/** Where a request for `bucket` (none: the service) goes in `region`. */
export function s3Location(region: string, bucket?: string): { url: URL; path: string } {
  const custom = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  if (custom) {
    const url = new URL(custom);
    return { url, path: `${url.pathname.replace(/\/$/, '')}/${bucket ?? ''}` };
  }
  // The SDK's partition table (aws, aws-cn, aws-us-gov, aws-eusc, the iso partitions), as its S3 rules read it.
  if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`S3: ${JSON.stringify(region)} is no region`);
  const { dnsSuffix, name, supportsFIPS, supportsDualStack } = partition(region);
  const fips = flag('AWS_USE_FIPS_ENDPOINT');
  const dualstack = flag('AWS_USE_DUALSTACK_ENDPOINT');
  // S3 has no FIPS endpoints in China, though the partition has (S3's own endpoint rules say so).
  const noFips = fips && (!supportsFIPS || name === 'aws-cn');
  if (noFips || (dualstack && !supportsDualStack))
    throw new Error(`S3: partition ${name} (${region}) has no ${noFips ? 'FIPS' : 'dual-stack'} endpoint`);
  const host = `s3${fips ? '-fips' : ''}${dualstack ? '.dualstack' : ''}.${region}.${dnsSuffix}`;
  if (bucket !== undefined && DNS_LABEL.test(bucket)) return { url: new URL(`https://${bucket}.${host}`), path: '/' };
  return { url: new URL(`https://${host}`), path: `/${bucket ?? ''}` };
}

type Resolved = ReturnType<typeof resolveRetryConfig<S3BucketsConfig>> & {
  /** S3's time minus ours, from its answers' Date header (ms). */
  clockOffset: number;
  requestHandler: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
  signer: SignatureV4;
  apiVersion: string;
};

type Input = ListBucketsInput | HeadBucketInput;
type Output = ListBucketsOutput | HeadBucketOutput;
type Stack = Client<HttpHandlerOptions, Input, Output, Resolved>['middlewareStack'];

/** The request of one command, and the output read from its answer. */
interface Operation<I, O> {
  request(input: I, region: string): HttpRequest;
  output(headers: Record<string, string>, body: string): O;
}

const LIST_BUCKETS: Operation<ListBucketsInput, Omit<ListBucketsOutput, '$metadata'>> = {
  request(input, region) {
    const { url, path } = s3Location(region);
    const query: Record<string, string> = { 'x-id': 'ListBuckets' };
    if (input.Prefix !== undefined) query.prefix = input.Prefix;
    if (input.ContinuationToken !== undefined) query['continuation-token'] = input.ContinuationToken;
    return httpRequest('GET', url, path, query, {});
  },
  output(_headers, body) {
    const result = (parseXMLOrNothing(body) as { ListAllMyBucketsResult?: Record<string, unknown> })
      .ListAllMyBucketsResult;
    // S3 may answer 200 with an error document: a 500 for the SDK too, retried.
    if (!result) throw new S3ServiceError('InternalError', 'ListBuckets answered 200 without a bucket list', 500, {});
    const listed = (result.Buckets as { Bucket?: unknown } | undefined)?.Bucket;
    const buckets = (Array.isArray(listed) ? listed : listed ? [listed] : []) as { Name?: unknown }[];
    const token = result.ContinuationToken;
    return {
      Buckets: buckets.map((bucket) => ({ Name: String(bucket.Name ?? '') })),
      ...(typeof token === 'string' && token ? { ContinuationToken: token } : {}),
    };
  },
};

const HEAD_BUCKET: Operation<HeadBucketInput, Omit<HeadBucketOutput, '$metadata'>> = {
  request(input, region) {
    // S3's names, old ones included (capitals, underscores): nothing that could change the request's path.
    if (!/^[A-Za-z0-9._-]{1,255}$/.test(input.Bucket) || /^\.+$/.test(input.Bucket))
      throw new Error(`HeadBucket needs a bucket name, not ${JSON.stringify(input.Bucket)}`);
    const { url, path } = s3Location(region, input.Bucket);
    const headers: Record<string, string> = {};
    if (input.ExpectedBucketOwner !== undefined) {
      // An empty owner would send no check at all: refused, as any value that is no account id.
      if (!/^\d{12}$/.test(input.ExpectedBucketOwner))
        throw new Error(
          `HeadBucket's ExpectedBucketOwner must be an account id, not ${JSON.stringify(input.ExpectedBucketOwner)}`,
        );
      headers['x-amz-expected-bucket-owner'] = input.ExpectedBucketOwner;
    }
    return httpRequest('HEAD', url, path, {}, headers);
  },
  output(headers) {
    const region = headers['x-amz-bucket-region'];
    return region ? { BucketRegion: region } : {};
  },
};

function httpRequest(
  method: string,
  url: URL,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
): HttpRequest {
  return new HttpRequest({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path,
    query,
    headers: { ...headers, host: url.host },
  });
}

function parseXMLOrNothing(body: string): unknown {
  try {
    return parseXML(body);
  } catch {
    return {};
  }
}

function errorOf(status: number, headers: Record<string, string>, body: string): S3ServiceError {
  // S3's error document names it; a HEAD's empty body, or a page that is no XML (a proxy's), leaves it to the status.
  const error = (parseXMLOrNothing(body) as { Error?: { Code?: unknown; Message?: unknown } }).Error;
  const code = error?.Code ? String(error.Code) : (STATUS_NAMES[status] ?? String(status));
  const message = error?.Message ? String(error.Message) : `S3 answered ${status}`;
  return new S3ServiceError(code, message, status, headers);
}

function command<I, O>(name: string, operation: Operation<I, O>) {
  return Command.classBuilder<I & object, O & Metadata, Resolved, Input, Output>()
    .m((_Command, _stack, config: Resolved) => [
      {
        applyToStack(stack: Stack) {
          stack.add(
            (next) => async (args) => {
              const request = operation.request(args.input as I, config.region);
              return next({ ...args, request });
            },
            { step: 'serialize', name: 's3BucketsSerializer' },
          );
          stack.add(
            (next) => async (args) => {
              const { response } = (await next(args)) as {
                response: { statusCode: number; headers: Record<string, string>; body?: unknown };
              };
              const body =
                response.body === undefined
                  ? ''
                  : new TextDecoder().decode(await streamCollector(response.body as never));
              if (response.statusCode < 200 || response.statusCode >= 300) {
                const error = errorOf(response.statusCode, response.headers, body);
                Object.defineProperty(error, '$response', { value: response, enumerable: false });
                throw error;
              }
              const output = operation.output(response.headers, body);
              const $metadata = {
                httpStatusCode: response.statusCode,
                requestId: response.headers['x-amz-request-id'],
              };
              return { response, output: { ...output, $metadata } };
            },
            { step: 'deserialize', name: 's3BucketsDeserializer' },
          );
        },
      },
    ])
    .s('AmazonS3', name)
    .n('S3Client', `${name}Command`)
    .build();
}

export const ListBucketsCommand = command('ListBuckets', LIST_BUCKETS);
export const HeadBucketCommand = command('HeadBucket', HEAD_BUCKET);

/** A client for the two commands above: `new S3BucketsClient({ region })`, as any SDK client. */
export class S3BucketsClient extends Client<HttpHandlerOptions, Input, Output, Resolved> {
  constructor(input: S3BucketsConfig) {
    // As the SDK's clients: AWS_RETRY_MODE and AWS_MAX_ATTEMPTS when the caller sets neither.
    const attempts = Number(process.env.AWS_MAX_ATTEMPTS);
    const retry = resolveRetryConfig({
      ...input,
      retryMode: input.retryMode ?? (process.env.AWS_RETRY_MODE || 'standard'),
      ...(input.maxAttempts === undefined && attempts > 0 ? { maxAttempts: attempts } : {}),
    });
    const config: Resolved = Object.assign(retry, {
      apiVersion: '2006-03-01',
      clockOffset: 0,
      requestHandler: input.requestHandler ?? new NodeHttpHandler(),
      signer: new SignatureV4({
        service: 's3',
        region: input.region,
        credentials: input.credentials ?? defaultProvider(),
        sha256: Sha256,
        uriEscapePath: false,
        applyChecksum: true,
      }),
    });
    super(config);
    this.middlewareStack.use(getRetryPlugin(config));
    this.middlewareStack.add(
      (next) => async (args) => {
        // Signed on every attempt (after the retry middleware): a retry is a new request time. The clock is corrected
        // by S3's Date header, as the SDK's signer does: a skewed clock is refused once (RequestTimeTooSkewed), then
        // the retry is signed with S3's time.
        const sentAt = Date.now();
        const request = await config.signer.sign(args.request as HttpRequest, {
          signingDate: new Date(sentAt + config.clockOffset),
        });
        const sample = (response: unknown) => {
          const date = (response as { headers?: Record<string, string> } | undefined)?.headers?.date;
          const server = date ? Date.parse(date) : Number.NaN;
          if (Number.isNaN(server) || Date.now() - sentAt > 900_000) return false;
          const was = config.clockOffset;
          config.clockOffset = server - Date.now();
          return Math.abs(config.clockOffset) >= 240_000 && config.clockOffset !== was;
        };
        try {
          const result = await next({ ...args, request });
          sample(result.response);
          return result;
        } catch (error) {
          const failed = error as { $response?: unknown; $metadata?: { clockSkewCorrected?: boolean } };
          if (sample(failed.$response) && failed.$metadata) failed.$metadata.clockSkewCorrected = true;
          throw error;
        }
      },
      { step: 'finalizeRequest', name: 's3BucketsSigner' },
    );
  }
}

/** Whether `name` is among the account's buckets: ListBuckets by prefix, every page (S3 pages at 10,000). */
export async function bucketListed(s3: S3BucketsClient, name: string): Promise<boolean> {
  const seen = new Set<string>();
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ Prefix: name, ...(ContinuationToken ? { ContinuationToken } : {}) }),
    );
    if (page.Buckets.some((bucket) => bucket.Name === name)) return true;
    ContinuationToken = page.ContinuationToken;
    // 100 pages cover S3's largest bucket quota (1,000,000); a token answered twice would never end.
    if (ContinuationToken && (seen.has(ContinuationToken) || seen.size >= 100))
      throw new Error(`ListBuckets for ${name} did not end: ${seen.size + 1} pages, token ${ContinuationToken}`);
    if (ContinuationToken) seen.add(ContinuationToken);
  } while (ContinuationToken);
  return false;
}
