/**
 * The bundles' logger (lib/lambda-logger.ts) writes what Powertools' logger writes: each scenario runs through both,
 * at the same instant and with the same environment, and the lines (and the stream each went to) must be equal.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext as powertoolsInject } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { injectLambdaContext, LambdaLoggerUnsupportedError, Logger } from '../../lib/lambda-logger.js';

/** What the scenarios call: the surface the engine uses. */
interface LoggerLike {
  trace(input: unknown, ...extra: unknown[]): void;
  debug(input: unknown, ...extra: unknown[]): void;
  info(input: unknown, ...extra: unknown[]): void;
  warn(input: unknown, ...extra: unknown[]): void;
  error(input: unknown, ...extra: unknown[]): void;
  critical(input: unknown, ...extra: unknown[]): void;
  appendKeys(attributes: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
  resetKeys(): void;
}
type Inject = (logger: never, options?: { resetKeys?: boolean; logEvent?: boolean }) => middy.MiddlewareObj;
interface Implementation {
  create(options?: { serviceName?: string; logLevel?: string }): LoggerLike;
  inject: Inject;
}

const POWERTOOLS: Implementation = {
  create: (options) => new PowertoolsLogger(options as never) as unknown as LoggerLike,
  inject: powertoolsInject as unknown as Inject,
};
const OURS: Implementation = {
  create: (options) => new Logger(options) as unknown as LoggerLike,
  inject: injectLambdaContext as unknown as Inject,
};

const CONTEXT = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: 'driftguard-dev-log-group-guard',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:driftguard-dev-log-group-guard',
  memoryLimitInMB: '256',
  functionVersion: '$LATEST',
} as unknown as Context;

const failure = Object.assign(new Error('AccessDenied on logs:PutRetentionPolicy', { cause: new TypeError('inner') }), {
  $fault: 'client',
  $metadata: { httpStatusCode: 400, attempts: 1 },
});
const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

type Scenario = (logger: LoggerLike, inject: Inject) => Promise<void> | void;

/** One invocation through the middleware (resetKeys), the handler's body given. */
function invoke(logger: LoggerLike, inject: Inject, body: () => void, event: unknown = { id: 'event-1' }) {
  return middy(async () => {
    body();
    return 'done';
  })
    .use(inject(logger as never, { resetKeys: true }))(event, CONTEXT)
    .catch(() => undefined);
}

const SCENARIOS: [string, Record<string, string>, Scenario, { logLevel?: string }?][] = [
  [
    'messages with objects, strings, errors, nulls and bigints',
    {},
    (log) => {
      log.info('event handled', { outcome: 'remediated', reason: 'fixed', actions: 2, none: undefined, empty: '' });
      log.warn('notice sent but not recorded as sent', failure);
      log.error('x', { nested: { list: [1, { a: 'b' }], when: new Date(0) } }, 'a string', null, undefined);
      log.info({ message: 'object input', count: 10n, level: 'ignored' });
      log.error('circular', { circular });
    },
  ],
  [
    'keys appended, merged, removed and reset by the middleware',
    {
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    },
    async (log, inject) => {
      log.info('before any invocation');
      await invoke(log, inject, () => {
        log.appendKeys({ rule: 'log-group-encryption-retention', nested: { a: 1, list: [1, 2] } });
        log.appendKeys({ nested: { b: 2, list: [3] }, resource: '/app/orders', eventId: undefined });
        log.removeKeys(['resource']);
        log.info('inside');
        log.appendKeys({ resource: '/app/again', service: 'reserved', timestamp: 'reserved' });
        log.debug('dropped at INFO');
        log.info('inside again');
      });
      log.info('after the first (keys reset, context kept)');
      await invoke(log, inject, () => {
        log.appendKeys({ rule: 'second' });
        throw new Error('handler failed');
      });
      log.info('after a failed invocation');
    },
  ],
  [
    'POWERTOOLS_LOG_LEVEL=WARN',
    { POWERTOOLS_LOG_LEVEL: 'WARN' },
    (log) => {
      log.info('dropped');
      log.warn('kept');
      log.critical('critical goes to stderr');
    },
  ],
  [
    'LOG_LEVEL=TRACE when POWERTOOLS_LOG_LEVEL is unset',
    { POWERTOOLS_LOG_LEVEL: '', LOG_LEVEL: 'TRACE' },
    (log) => {
      log.trace('trace');
      log.debug('debug');
    },
  ],
  [
    'SILENT',
    { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    (log) => {
      log.error('dropped');
      log.critical('dropped too');
    },
  ],
  [
    "Lambda's own log level (AWS_LAMBDA_LOG_LEVEL) over the variables",
    { AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    (log) => {
      log.warn('dropped');
      log.error('kept');
    },
  ],
  [
    "a constructor level under Lambda's (AWS_LAMBDA_LOG_LEVEL=WARN): warned once",
    { AWS_LAMBDA_LOG_LEVEL: 'WARN' },
    async (log, inject) => {
      log.info('dropped');
      await invoke(log, inject, () => log.warn('kept'));
    },
    { logLevel: 'debug' },
  ],
  [
    "a constructor level under Lambda's (AWS_LAMBDA_LOG_LEVEL=ERROR): the warning itself dropped",
    { AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOGGER_SAMPLE_RATE: '1' },
    async (log, inject) => {
      await invoke(log, inject, () => log.error('kept'));
    },
    { logLevel: 'DEBUG' },
  ],
  [
    'the event logged by the middleware (POWERTOOLS_LOGGER_LOG_EVENT)',
    { POWERTOOLS_LOGGER_LOG_EVENT: 'true', POWERTOOLS_SERVICE_NAME: 'from-env' },
    async (log, inject) => {
      await invoke(log, inject, () => log.info('handled'), { detail: { eventID: 'e-1' } });
    },
  ],
  [
    'sampling at rate 1: DEBUG on every invocation',
    { POWERTOOLS_LOGGER_SAMPLE_RATE: '1' },
    async (log, inject) => {
      log.debug('sampled at start');
      await invoke(log, inject, () => log.debug('first'));
      await invoke(log, inject, () => log.debug('second'));
    },
  ],
  ['a time zone other than UTC', { TZ: 'Asia/Kolkata' }, (log) => log.info('offset timestamp')],
  ["Lambda's TZ=:UTC", { TZ: ':UTC' }, (log) => log.info('ISO timestamp')],
];

/** Every variable either logger reads: unset unless the scenario sets it. */
const BASE_ENV: Record<string, string | undefined> = {
  POWERTOOLS_LOG_LEVEL: 'INFO',
  LOG_LEVEL: undefined,
  AWS_LAMBDA_LOG_LEVEL: undefined,
  AWS_LAMBDA_INITIALIZATION_TYPE: undefined,
  AWS_LAMBDA_MAX_CONCURRENCY: undefined,
  POWERTOOLS_LOGGER_SAMPLE_RATE: undefined,
  POWERTOOLS_LOGGER_LOG_EVENT: undefined,
  POWERTOOLS_SERVICE_NAME: undefined,
  POWERTOOLS_DEV: undefined,
  _X_AMZN_TRACE_ID: undefined,
  TZ: undefined,
};

async function linesOf(
  implementation: Implementation,
  env: Record<string, string>,
  scenario: Scenario,
  options: { serviceName?: string; logLevel?: string },
) {
  for (const [key, value] of Object.entries({ ...BASE_ENV, ...env })) vi.stubEnv(key, value);
  const lines: [string, string][] = [];
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      lines.push([name, String(chunk)]);
      return true;
    });
  }
  try {
    const logger = implementation.create(options);
    await scenario(logger, implementation.inject);
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
  return lines;
}

describe('the bundles’ logger', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(SCENARIOS)('writes what Powertools writes: %s', async (_label, env, scenario, levelOption = {}) => {
    vi.useFakeTimers({ now: new Date('2026-12-01T12:34:56.789Z'), toFake: ['Date'] });
    const options = { ...(env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName: 'driftguard' }), ...levelOption };
    const expected = await linesOf(POWERTOOLS, env, scenario, options);
    const actual = await linesOf(OURS, env, scenario, options);
    expect(actual).toEqual(expected);
    if (env.POWERTOOLS_LOG_LEVEL !== 'SILENT') expect(expected.length).toBeGreaterThan(0);
  });

  it.each([
    ['an option it does not implement', () => new Logger({ logBufferOptions: {} } as never), /option logBufferOptions/],
    [
      'several invocations at once in one process',
      () => {
        vi.stubEnv('AWS_LAMBDA_MAX_CONCURRENCY', '4');
        try {
          return new Logger();
        } finally {
          vi.unstubAllEnvs();
        }
      },
      /AWS_LAMBDA_MAX_CONCURRENCY/,
    ],
    [
      'a middleware option it does not implement',
      () => injectLambdaContext(new Logger(), { correlationIdPath: 'id' } as never),
      /middleware option correlationIdPath/,
    ],
  ])('refuses %s rather than log differently', (_label, create, message) => {
    expect(create).toThrow(LambdaLoggerUnsupportedError);
    expect(create).toThrow(message);
  });
});
