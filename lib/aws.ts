/** SDK clients, built once per region and reused across invocations; AWS_ENDPOINT_URL points them at an emulator. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';

export interface AwsClients {
  logs(region: string): CloudWatchLogsClient;
  kms(region: string): KMSClient;
  sns(region: string): SNSClient;
}

/** Counts every AWS call the engine sends (benchmarks and replay report calls per event). */
export const awsCallCounter = { calls: 0 };

type Client = CloudWatchLogsClient | KMSClient | SNSClient;

function countCalls<C extends Client>(client: C): C {
  // The clients' stacks differ only in their input/output types; the counter touches neither.
  (client.middlewareStack as SNSClient['middlewareStack']).add(
    (next) => async (args) => {
      awsCallCounter.calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'driftguardCallCounter' },
  );
  return client;
}

// Adaptive retry: backoff with jitter, and client-side rate limiting when AWS throttles.
const clientConfig = (region: string) => ({ region, retryMode: 'adaptive', maxAttempts: 5 });

function perRegion<C extends Client>(create: (region: string) => C): (region: string) => C {
  const cache = new Map<string, C>();
  return (region) => {
    let client = cache.get(region);
    if (client === undefined) {
      client = countCalls(create(region));
      cache.set(region, client);
    }
    return client;
  };
}

export function createAwsClients(): AwsClients {
  return {
    logs: perRegion((region) => new CloudWatchLogsClient(clientConfig(region))),
    kms: perRegion((region) => new KMSClient(clientConfig(region))),
    sns: perRegion((region) => new SNSClient(clientConfig(region))),
  };
}

/** The error name the SDK reports (ResourceNotFoundException, ...), or undefined for non-AWS errors. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The region in an ARN (arn:partition:service:region:account:...). */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts.length >= 6 ? parts[3] : undefined;
}
