/**
 * The bundles' stand-in for @middy/core (lib/small-middy.ts) runs a request as middy does: each scenario (handler and
 * middlewares) runs through both, and what happened (the calls in order, the response or the error, what the
 * middlewares saw) must be the same.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import small, { SmallMiddyUnsupportedError } from '../../lib/small-middy.js';

type Request = { event: unknown; response: unknown; error: unknown; internal: Record<string, unknown> };
type Step = (request: Request, log: string[]) => unknown;
interface Scenario {
  handler: (event: unknown, log: string[]) => unknown;
  middlewares: { before?: Step; after?: Step; onError?: Step }[];
  /** The invocation's remaining time (ms); none: a context without getRemainingTimeInMillis. */
  remaining?: number;
}

type Implementation = (handler: (event: unknown, context: Context) => unknown) => {
  use(middleware: object): unknown;
} & ((event: unknown, context: Context) => Promise<unknown>);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function outcome(implementation: Implementation, scenario: Scenario) {
  const log: string[] = [];
  const wrapped = implementation((event) => {
    log.push('handler');
    return scenario.handler(event, log);
  });
  for (const [index, middleware] of scenario.middlewares.entries()) {
    const named = Object.fromEntries(
      Object.entries(middleware).map(([phase, step]) => [
        phase,
        (request: Request) => {
          log.push(`${phase} ${index}${request.error ? ` (${(request.error as Error).message})` : ''}`);
          request.internal[`seen ${phase} ${index}`] = true;
          return step(request, log);
        },
      ]),
    );
    wrapped.use(named);
  }
  const context = (
    scenario.remaining === undefined ? {} : { getRemainingTimeInMillis: () => scenario.remaining }
  ) as Context;
  try {
    return { log, response: await wrapped({ id: 'event-1' }, context) };
  } catch (error) {
    const { name, message, cause, originalError } = error as Error & { originalError?: Error };
    return { log, error: { name, message, cause, originalError: originalError?.message } };
  }
}

const SCENARIOS: [string, Scenario][] = [
  ['a handler that answers, no middleware', { handler: () => 'done', middlewares: [] }],
  [
    'before in order, after and onError in reverse order',
    {
      handler: () => ({ outcome: 'remediated' }),
      middlewares: [
        { before: () => undefined, after: () => undefined },
        { before: () => undefined, after: () => undefined },
      ],
    },
  ],
  [
    'a handler that throws: onError in reverse order, the error thrown',
    {
      handler: () => {
        throw new Error('remediation failed');
      },
      middlewares: [{ onError: () => undefined }, { before: () => undefined, onError: () => undefined }],
    },
  ],
  [
    'an async handler that rejects',
    {
      handler: async () => {
        await sleep(1);
        throw new TypeError('rejected');
      },
      middlewares: [{ after: () => undefined, onError: () => undefined }],
    },
  ],
  [
    'a before middleware that answers early: no handler, no after',
    {
      handler: () => 'never',
      middlewares: [{ before: () => 'early' }, { before: () => undefined, after: () => undefined }],
    },
  ],
  [
    'an after middleware that changes the response',
    {
      handler: () => 'raw',
      middlewares: [
        {
          after: (request) => {
            request.response = `${request.response} (changed)`;
          },
        },
      ],
    },
  ],
  [
    'an onError middleware that answers: the error is handled',
    {
      handler: () => {
        throw new Error('failed');
      },
      middlewares: [
        {
          onError: (request) => {
            request.response = { handled: (request.error as Error).message };
          },
        },
      ],
    },
  ],
  [
    'an onError middleware that throws: its error, with the original',
    {
      handler: () => {
        throw new Error('first');
      },
      middlewares: [
        {
          onError: () => {
            throw new Error('second');
          },
        },
      ],
    },
  ],
  [
    'an after middleware that throws: onError runs with its error',
    {
      handler: () => 'fine',
      middlewares: [
        {
          after: () => {
            throw new Error('after broke');
          },
          onError: () => undefined,
        },
      ],
    },
  ],
  [
    'a handler that outlasts the invocation less 5 ms: TimeoutError',
    {
      handler: () => sleep(200).then(() => 'too late'),
      middlewares: [{ onError: () => undefined }],
      remaining: 30,
    },
  ],
  [
    'a handler within the time left',
    { handler: () => sleep(2).then(() => 'in time'), middlewares: [{ after: () => undefined }], remaining: 2_000 },
  ],
];

describe('small-middy runs a request as middy does', () => {
  it.each(SCENARIOS)('%s', async (_label, scenario) => {
    const expected = await outcome(middy as unknown as Implementation, scenario);
    const actual = await outcome(small as unknown as Implementation, scenario);
    expect(actual).toEqual(expected);
    expect(expected.log.length).toBeGreaterThan(0);
  });

  it('refuses a plugin configuration rather than ignore it', () => {
    expect(() => small(() => undefined, { timeoutEarlyInMillis: 0 })).toThrow(SmallMiddyUnsupportedError);
  });

  it('refuses a middleware with no phase, as middy does', () => {
    expect(() => small(() => undefined).use({})).toThrow(/at least one key among/);
    expect(() => middy(() => undefined).use({} as never)).toThrow(/at least one key among/);
  });
});
