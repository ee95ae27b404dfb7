/**
 * Client-side rate limits per API and region (token buckets), inside AWS's documented quotas by default: the sweep
 * lists whole accounts and must not throttle the guards that share those quotas.
 */
import type { AwsClients, ClientClass } from '../aws.js';

/** Calls per second by API name; '*' for the rest. DescribeLogGroups: 5 TPS per account and region (AWS quota). */
export const DEFAULT_RATE_LIMITS: Record<string, number> = {
  DescribeLogGroups: 5,
  ListTagsForResource: 10,
  PutRetentionPolicy: 5,
  AssociateKmsKey: 5,
  DescribeTrails: 5,
  ListUsers: 5,
  '*': 10,
};

/** An API a limit names (its name, as the SDK's command without "Command"), or '*' for the rest. */
export const RATE_API = /^(\*|[A-Za-z0-9]{1,64})$/;

/** A rate a limit may have: calls per second, above 0. */
export const isRate = (rate: unknown): rate is number => typeof rate === 'number' && Number.isFinite(rate) && rate > 0;

/** Parses "DescribeLogGroups=5,ListTagsForResource=10" (or "off") into limits; a bad entry names itself. */
export function parseRateLimits(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined || text.trim() === '') return DEFAULT_RATE_LIMITS;
  if (text.trim() === 'off') return undefined;
  const limits: Record<string, number> = { ...DEFAULT_RATE_LIMITS };
  for (const entry of text.split(',')) {
    const [api, value] = entry.split('=').map((part) => part.trim());
    const rate = Number(value);
    if (!api || !RATE_API.test(api) || !isRate(rate))
      throw new Error(`rate limit "${entry}" is invalid: allowed values are API=calls-per-second, or off`);
    limits[api] = rate;
  }
  return limits;
}

export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.tokens) / this.rate) * 1000)));
    }
  }
}

/** The same clients, each call waiting for its API's bucket in its region. */
export function rateLimited(aws: AwsClients, limits: Record<string, number> | undefined): AwsClients {
  if (limits === undefined) return aws;
  const buckets = new Map<string, TokenBucket>();
  const limited = new WeakSet<object>();
  return {
    client<C>(Class: ClientClass<C>, region: string): C {
      const sdkClient = aws.client(Class, region);
      const client = sdkClient as unknown as {
        middlewareStack: { add(middleware: unknown, options: unknown): void };
      };
      if (!limited.has(client)) {
        limited.add(client);
        client.middlewareStack.add(
          (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
            const api = String(context.commandName ?? '').replace(/Command$/, '');
            const key = `${api}@${region}`;
            let bucket = buckets.get(key);
            if (!bucket) {
              bucket = new TokenBucket(limits[api] ?? limits['*'] ?? 10);
              buckets.set(key, bucket);
            }
            await bucket.take();
            return next(args);
          },
          { step: 'initialize', name: 'driftguardRateLimit' },
        );
      }
      return sdkClient;
    },
  };
}
