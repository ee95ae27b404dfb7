/**
 * Stands in for @middy/core in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts): the functions use
 * middy for one middleware (the logger's), and middy's core (~2.5 KB of each minified bundle) also carries response
 * streaming. This runs a request as middy 6 does: before middlewares in order (one may answer early), the handler raced
 * against the invocation's deadline less 5 ms (a TimeoutError then, as middy's), after middlewares in reverse order,
 * and on an error the onError ones in reverse order, the error thrown unless one of them answered.
 * test/unit/small-middy.test.ts runs the same requests through middy and this, and compares.
 * What it does not implement (plugin options, response streaming) throws SmallMiddyUnsupportedError.
 */
import type { Context } from 'aws-lambda';

export class SmallMiddyUnsupportedError extends Error {
  constructor(what: string) {
    super(`${what} is not supported by driftguard's bundled middy (lib/small-middy.ts)`);
    this.name = 'SmallMiddyUnsupportedError';
  }
}

export interface MiddyRequest {
  event: unknown;
  context: Context;
  response: unknown;
  error: unknown;
  internal: Record<string, unknown>;
  earlyResponse?: unknown;
}

type Middleware = (request: MiddyRequest) => unknown;
type Handler = (event: unknown, context: Context, options: { signal: AbortSignal }) => unknown;

/** middy's own margin before the invocation's deadline (timeoutEarlyInMillis). */
const TIMEOUT_EARLY_MS = 5;

function timeoutError(): Error {
  const error = new Error('[AbortError]: The operation was aborted.', { cause: { package: '@middy/core' } });
  error.name = 'TimeoutError';
  return error;
}

/** Runs middlewares in order until one answers (returns a value): that answer is the response. */
async function runMiddlewares(request: MiddyRequest, middlewares: Middleware[]) {
  for (const middleware of middlewares) {
    const answer = await middleware(request);
    if (answer !== undefined) request.earlyResponse = answer;
    if (Object.hasOwn(request, 'earlyResponse')) {
      request.response = request.earlyResponse;
      return;
    }
  }
}

let handlerAbort = new AbortController();

async function runRequest(
  request: MiddyRequest,
  handler: Handler,
  before: Middleware[],
  after: Middleware[],
  onError: Middleware[],
) {
  let timeout: ReturnType<typeof setTimeout> | undefined;
  try {
    await runMiddlewares(request, before);
    if (!Object.hasOwn(request, 'earlyResponse')) {
      if (handlerAbort.signal.aborted) handlerAbort = new AbortController();
      const running: Promise<unknown>[] = [
        Promise.resolve(handler(request.event, request.context, { signal: handlerAbort.signal })),
      ];
      if (typeof request.context?.getRemainingTimeInMillis === 'function') {
        running.push(
          new Promise((_resolve, reject) => {
            timeout = setTimeout(() => {
              handlerAbort.abort();
              reject(timeoutError());
            }, request.context.getRemainingTimeInMillis() - TIMEOUT_EARLY_MS);
          }),
        );
      }
      request.response = await Promise.race(running);
      if (timeout) clearTimeout(timeout);
      await runMiddlewares(request, after);
    }
  } catch (error) {
    if (timeout) clearTimeout(timeout);
    request.response = undefined;
    request.error = error;
    try {
      await runMiddlewares(request, onError);
    } catch (onErrorError) {
      (onErrorError as { originalError?: unknown }).originalError = request.error;
      request.error = onErrorError;
      throw request.error;
    }
    if (request.response === undefined) throw request.error;
  }
  return request.response;
}

export interface MiddlewareObject {
  before?: Middleware;
  after?: Middleware;
  onError?: Middleware;
}

export default function middy(handler: Handler, pluginConfig?: object) {
  if (typeof handler !== 'function') throw new SmallMiddyUnsupportedError('middy() without a handler');
  if (pluginConfig !== undefined) throw new SmallMiddyUnsupportedError('a middy plugin configuration');
  const before: Middleware[] = [];
  const after: Middleware[] = [];
  const onError: Middleware[] = [];
  const run = (event: unknown = {}, context = {} as Context) =>
    runRequest(
      { event, context, response: undefined, error: undefined, internal: {} },
      handler,
      before,
      after,
      onError,
    );
  const instance = Object.assign(run, {
    use(middlewares: MiddlewareObject | MiddlewareObject[]) {
      for (const middleware of Array.isArray(middlewares) ? middlewares : [middlewares]) {
        if (!middleware.before && !middleware.after && !middleware.onError) {
          throw new Error(
            'Middleware must be an object containing at least one key among "before", "after", "onError"',
          );
        }
        if (middleware.before) before.push(middleware.before);
        if (middleware.after) after.unshift(middleware.after);
        if (middleware.onError) onError.unshift(middleware.onError);
      }
      return instance;
    },
    before(middleware: Middleware) {
      before.push(middleware);
      return instance;
    },
    after(middleware: Middleware) {
      after.unshift(middleware);
      return instance;
    },
    onError(middleware: Middleware) {
      onError.unshift(middleware);
      return instance;
    },
  });
  return instance;
}
