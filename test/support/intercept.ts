/**
 * The engine's own clients with a test's interceptor in front of every call: for what the emulator cannot produce
 * (a write acknowledged but not done, a field dropped on the way, an access refusal, IAM's paging).
 */
import type { RetryStrategyV2, RetryToken } from '@smithy/types';
import { type AwsClients, createAwsClients } from '../../lib/aws.js';

export interface InterceptedCall {
  /** The service, as the client names itself: CloudTrail, DynamoDB, IAM, ... */
  client: string;
  /** The API name: CreateTrail, ListUsers, ... */
  command: string;
  region: string;
  /** The command's input, before serialisation: an interceptor may change it. */
  input: Record<string, unknown>;
}

/** Returns the call's output: `send()` for the emulator's answer (to pass on or reshape), or an output of its own. */
export type Interceptor = (call: InterceptedCall, send: () => Promise<Record<string, unknown>>) => Promise<unknown>;

interface Stack {
  middlewareStack: { add(middleware: unknown, options: unknown): void };
}

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: unknown; response?: unknown }>;

/** The base clients, each with one middleware added once (at the step and priority given). */
function withMiddleware(base: AwsClients, middleware: (region: string) => unknown, options: object): AwsClients {
  const done = new WeakSet<object>();
  return {
    client(Class, region) {
      const client = base.client(Class, region) as unknown as Stack;
      if (!done.has(client)) {
        done.add(client);
        client.middlewareStack.add(middleware(region), options);
      }
      return client as never;
    },
  };
}

export function interceptedClients(intercept: Interceptor, base: AwsClients = createAwsClients()): AwsClients {
  return withMiddleware(
    base,
    (region) =>
      (next: Next, context: { clientName?: string; commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        const command = String(context.commandName ?? '').replace(/Command$/, '');
        const service = String(context.clientName ?? '').replace(/Client$/, '');
        let response: unknown = {};
        const output = await intercept({ client: service, command, region, input: args.input }, async () => {
          const answered = await next(args);
          response = answered.response;
          return answered.output as Record<string, unknown>;
        });
        return { response, output };
      },
    // Before serialisation (a changed input is what is sent) and outside the SDK's retries: one injected
    // fault is one failed send, as if its retries were spent.
    { step: 'initialize', priority: 'high', name: 'testInterceptor' },
  );
}

/** An AWS refusal as the SDK raises it (not retried). */
export function accessDenied(command: string): Error {
  return Object.assign(new Error(`User is not authorized to perform ${command}`), {
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });
}

/** A throttle as AWS returns it once the SDK's own retries are spent. */
export function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    $retryable: { throttling: true },
  });
}

/** A server error as AWS returns it once the SDK's own retries are spent. */
export function serverError(): Error {
  return Object.assign(new Error('We encountered an internal error'), {
    name: 'InternalFailure',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
}

/**
 * The SDK's retries without their shared retry quota (whether a call is retried depends on its own faults alone):
 * up to `attempts` sends of a retryable error, 2 ms apart.
 */
export function quotaFreeRetries(attempts: number): RetryStrategyV2 {
  const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => 2 });
  return {
    acquireInitialRetryToken: async () => token(0),
    async refreshRetryTokenForRetry(previous, { errorType }) {
      const count = previous.getRetryCount() + 1;
      if (errorType === 'CLIENT_ERROR' || count >= attempts) throw new Error('no retry left');
      return token(count);
    },
    recordSuccess: () => undefined,
  };
}

/** One send about to go out: its command (DescribeKey, ...) and input. */
export interface SendAttempt {
  command: string;
  input: Record<string, unknown>;
}

/**
 * The engine's clients with faults thrown inside the SDK's retry loop (each attempt may fail, and is retried as the
 * SDK would), with `attempts` quota-free, fast retries: `fault` returns the error of a send, or undefined to send it.
 */
export function faultsInsideRetries(attempts: number, fault: (send: SendAttempt) => Error | undefined): AwsClients {
  return withMiddleware(
    createAwsClients({ retryStrategy: quotaFreeRetries(attempts) }),
    () => (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const error = fault({ command: String(context.commandName ?? '').replace(/Command$/, ''), input: args.input });
      if (error) throw error;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'faultInsideRetries' },
  );
}

/**
 * The engine's clients with answers lost inside the SDK's retry loop: a send for which `lose` says so reaches the
 * emulator and is applied, then fails as a 500 would after the commit, and the SDK sends it again (as it does when
 * AWS's answer does not arrive). `attempts` quota-free, fast retries.
 */
export function answersLostInsideRetries(attempts: number, lose: (send: SendAttempt) => boolean): AwsClients {
  return withMiddleware(
    createAwsClients({ retryStrategy: quotaFreeRetries(attempts) }),
    () => (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const answered = await next(args);
      if (lose({ command: String(context.commandName ?? '').replace(/Command$/, ''), input: args.input }))
        throw serverError();
      return answered;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'answerLostInsideRetries' },
  );
}
