/**
 * SDK clients, built once per class and region and reused across invocations. Rules ask for the client class they
 * import, so each guard's bundle holds only its own clients. AWS_ENDPOINT_URL points them all at an emulator.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { HttpRequest, HttpResponse } from '@smithy/core/protocols';
import type { HttpHandlerOptions, RequestHandler, RetryStrategyV2 } from '@smithy/types';

/** What the engine configures of an SDK client (its own S3 client, lib/s3-buckets.ts, takes the same). */
export interface ClientConfig {
  region: string;
  retryMode?: string;
  maxAttempts?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** An SDK retry strategy in place of the adaptive one (tests use fast backoff). */
  retryStrategy?: RetryStrategyV2;
  /**
   * The HTTP handler: one whose attempts time out (the sweep's invocations of the guards), or, in tests, one that
   * answers with faults the emulator cannot give (5xx, throttling).
   */
  requestHandler?: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
}

/** Any SDK v3 client class: `new CloudWatchLogsClient({ region })`. */
export type ClientClass<C> = new (config: ClientConfig) => C;

export interface AwsClients {
  client<C>(Class: ClientClass<C>, region: string): C;
}

/** Counts every AWS call the engine sends, and the writes among them (benchmarks, replay and tests report them). */
export const awsCallCounter = { calls: 0, writes: 0, recentWrites: [] as string[] };
const RECENT_WRITES = 100;

const READ_CALL = /^(Describe|Get|List|Query|Scan|Head|BatchGet)/;

function countCalls<C>(client: C): C {
  // Every client's middleware stack has the same add(); the counter touches neither input nor output.
  (client as unknown as SNSClient).middlewareStack.add(
    (next, context) => async (args) => {
      awsCallCounter.calls += 1;
      const command = String(context.commandName ?? '').replace(/Command$/, '');
      if (!READ_CALL.test(command)) {
        awsCallCounter.writes += 1;
        // Bounded: a warm Lambda container handles many events.
        awsCallCounter.recentWrites.push(`${context.clientName ?? ''}:${command}`);
        if (awsCallCounter.recentWrites.length > RECENT_WRITES) awsCallCounter.recentWrites.shift();
      }
      return next(args);
    },
    { step: 'initialize', name: 'driftguardCallCounter' },
  );
  return client;
}

/** Adaptive retry by default: backoff with jitter, and client-side rate limiting when AWS throttles. */
export function createAwsClients(overrides: Omit<ClientConfig, 'region'> = {}): AwsClients {
  const cache = new Map<ClientClass<unknown>, Map<string, unknown>>();
  return {
    client<C>(Class: ClientClass<C>, region: string): C {
      const byRegion = cache.get(Class) ?? new Map<string, unknown>();
      cache.set(Class, byRegion);
      let client = byRegion.get(region) as C | undefined;
      if (client === undefined) {
        client = countCalls(new Class({ region, retryMode: 'adaptive', maxAttempts: 5, ...overrides }));
        byRegion.set(region, client);
      }
      return client;
    },
  };
}

/**
 * The stack's region, whose default bus the guards' rules listen on: the function's own (locally AWS_REGION, the
 * region the CLI acts from; the state table may be elsewhere, DRIFTGUARD_STATE_REGION).
 */
export function homeRegion(): string {
  return process.env.AWS_REGION || 'us-east-1';
}

/**
 * Where the engine's state table is: DRIFTGUARD_STATE_REGION when it is not the caller's own region (a replay from
 * another region), else the home region.
 */
export function stateRegion(): string {
  return process.env.DRIFTGUARD_STATE_REGION?.trim() || homeRegion();
}

/** The error name the SDK reports (ResourceNotFoundException, ...), or undefined for non-AWS errors. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The account a Lambda function runs in, from its own ARN (no STS call). */
export function invokedAccount(context: { invokedFunctionArn: string }): string {
  const account = context.invokedFunctionArn.split(':')[4];
  if (!account) throw new Error(`cannot tell the account from invokedFunctionArn ${context.invokedFunctionArn}`);
  return account;
}

/** What CloudTrail records as the region of some global events (console sign-ins): no region at all. */
export const GLOBAL_REGION = 'global';

/** Where an event's call acts: its recorded region, or for a global event the envelope's (us-east-1 for IAM). */
export function actingRegion(recordedRegion: string, envelopeRegion: string): string {
  return recordedRegion === GLOBAL_REGION ? envelopeRegion : recordedRegion;
}

/** The region in an ARN (arn:partition:service:region:account:...). */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts.length >= 6 ? parts[3] : undefined;
}
