/**
 * Stands in for @aws-lambda-powertools/logger (and its /middleware) in the Lambda bundles, through an esbuild plugin
 * in scripts/bundle-plugins.ts: Powertools' logger, its commons and the invoke store are ~21 KB of every minified
 * bundle (~6.5 KB of each zip), for the few methods the engine calls. This one writes the same JSON lines: the same
 * keys in the same order (level, message, timestamp, service, the Lambda context's cold_start, function_arn,
 * function_memory_size, function_name, function_request_id, sampling_rate, xray_trace_id, tenant_id, then the
 * appended keys, then the call's own), errors as Powertools formats them, the same levels and variables
 * (POWERTOOLS_LOG_LEVEL, LOG_LEVEL, AWS_LAMBDA_LOG_LEVEL, POWERTOOLS_LOGGER_SAMPLE_RATE, POWERTOOLS_LOGGER_LOG_EVENT,
 * POWERTOOLS_SERVICE_NAME, POWERTOOLS_DEV, TZ, _X_AMZN_TRACE_ID). test/unit/lambda-logger.test.ts prints the same
 * calls through both and compares the lines. Local runs and tests keep Powertools itself.
 * What Powertools does and this does not (log buffering, persistent keys, custom formatters, correlation ids, several
 * invocations at once in one process) throws a LambdaLoggerUnsupportedError instead of logging differently.
 */
import { Console } from 'node:console';
import { randomInt } from 'node:crypto';
import type { Context } from 'aws-lambda';

const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type LevelName = keyof typeof LEVELS;
const RESERVED_KEYS = ['level', 'message', 'sampling_rate', 'service', 'timestamp'];
const SUPPORTED_OPTIONS = ['serviceName', 'logLevel', 'sampleRateValue'];

type Attributes = Record<string, unknown>;
type LogInput = string | ({ message: string } & Attributes);
type ExtraInput = Error | string | Attributes | null | undefined;

export interface LoggerOptions {
  serviceName?: string;
  logLevel?: string;
  sampleRateValue?: number;
}

export class LambdaLoggerUnsupportedError extends Error {
  constructor(what: string) {
    super(`${what} is not supported by driftguard's bundled logger (lib/lambda-logger.ts): use Powertools' logger`);
    this.name = 'LambdaLoggerUnsupportedError';
  }
}

const env = (key: string): string => process.env[key]?.trim() ?? '';
const isLevel = (name: unknown): name is LevelName => typeof name === 'string' && name in LEVELS;
const levelName = (level: number): LevelName =>
  (Object.keys(LEVELS) as LevelName[]).find((name) => LEVELS[name] === level) ?? 'INFO';

/** Powertools' getBooleanFromEnv: unset is false, anything but true/false a clear error. */
function booleanFromEnv(key: string): boolean {
  const value = (process.env[key]?.trim() ?? 'false').toLowerCase();
  if (value !== 'true' && value !== 'false') throw new Error(`Environment variable ${key} must be a boolean`);
  return value === 'true';
}

function isDevMode(): boolean {
  return ['1', 'y', 'yes', 't', 'true', 'on'].includes(env('POWERTOOLS_DEV').toLowerCase());
}

/** The Root of _X_AMZN_TRACE_ID (Root=1-...;Parent=...;Sampled=1), or the whole value when it has no fields. */
function xRayTraceId(): string | undefined {
  // The Lambda runtime's invoke store, when it has one, holds the invocation's trace header (as Powertools reads it).
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } }).awslambda
    ?.InvokeStore;
  const value = store?.getXRayTraceId() ?? env('_X_AMZN_TRACE_ID');
  if (value === '') return undefined;
  if (!value.includes('=')) return value;
  const fields = Object.fromEntries(value.split(';').map((field) => field.split('=')));
  return fields.Root;
}

const isPlainObject = (value: unknown): value is Attributes => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Powertools' deepMerge (commons): plain objects and arrays are merged into the target (arrays by index) as copies,
 * circular references skipped, `__proto__`/`constructor` keys ignored, an undefined value never replaces a defined one.
 */
function deepMerge(target: Attributes | unknown[], source: Attributes | unknown[], ancestors: unknown[] = [target]) {
  const from = source as Record<string, unknown>;
  const into = target as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (key === '__proto__' || key === 'constructor') continue;
    const value = from[key];
    const current = into[key];
    if (Array.isArray(value) || isPlainObject(value)) {
      if (ancestors.includes(value)) continue;
      const sameKind = Array.isArray(value) ? Array.isArray(current) : isPlainObject(current);
      const merged = sameKind ? (current as Attributes | unknown[]) : Array.isArray(value) ? [] : {};
      deepMerge(merged, value, [...ancestors, value]);
      into[key] = merged;
    } else if (value !== undefined || current === undefined) {
      into[key] = value;
    }
  }
}

/** Powertools' LogFormatter.getCodeLocation: the first "(file:line:column)" of the stack, as file:line. */
function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return '';
}

/** Powertools' LogFormatter.formatError: name, location, message, stack, cause, then the error's own fields. */
function formatError(error: Error): Attributes {
  const { name, message, stack, cause, ...fields } = error as Error & Attributes;
  const formatted: Attributes = {
    name,
    location: codeLocation(stack),
    message,
    stack: isDevMode() && typeof stack === 'string' ? stack.split('\n') : stack,
    cause: cause instanceof Error ? formatError(cause) : cause,
  };
  for (const key in error) {
    if (!['name', 'message', 'stack', 'cause'].includes(key)) formatted[key] = fields[key];
  }
  return formatted;
}

/** Powertools' JSON replacer: errors formatted, bigints as strings, circular references dropped. */
function jsonReplacer() {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    const replaced = value instanceof Error ? formatError(value) : value;
    if (typeof replaced === 'bigint') return replaced.toString();
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

/** Powertools' timestamp: ISO in UTC, or with the offset of TZ when it names another zone. */
function formatTimestamp(now: Date): string {
  const zone = env('TZ');
  if (!zone || zone.includes('UTC')) return now.toISOString();
  let resolved = zone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    resolved = 'UTC';
  }
  const two = '2-digit' as const;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en', {
      hourCycle: 'h23',
      year: 'numeric',
      month: two,
      day: two,
      hour: two,
      minute: two,
      second: two,
      timeZone: resolved,
    })
      .formatToParts(now)
      .map((part) => [part.type, part.value]),
  );
  const offset = resolved === zone ? -now.getTimezoneOffset() : 0;
  const hours = Math.abs(Math.floor(offset / 60))
    .toString()
    .padStart(2, '0');
  const minutes = Math.abs(offset % 60)
    .toString()
    .padStart(2, '0');
  const millis = now.getMilliseconds().toString().padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${millis}${offset >= 0 ? '+' : '-'}${hours}:${minutes}`;
}

interface LambdaContextData {
  invokedFunctionArn?: string;
  coldStart: boolean;
  awsRequestId?: string;
  memoryLimitInMB?: string | number;
  functionName?: string;
  tenantId?: string;
}

export class Logger {
  readonly #console: Console;
  readonly #indentation: number;
  readonly #serviceName: string;
  #sampleRate: number = 0;
  #logEvent = booleanFromEnv('POWERTOOLS_LOGGER_LOG_EVENT');
  readonly #alcLevel: LevelName | undefined;
  #initialLevel: number = LEVELS.INFO;
  #level: number = LEVELS.INFO;
  #coldStart = env('AWS_LAMBDA_INITIALIZATION_TYPE') === 'on-demand';
  #sampleRefreshes = 0;
  #lambdaContext: LambdaContextData | undefined;
  #temporary: Attributes = {};
  #keys = new Set<string>();
  #warnedOnce = new Set<string>();

  constructor(options: LoggerOptions = {}) {
    for (const option of Object.keys(options)) {
      if (!SUPPORTED_OPTIONS.includes(option)) throw new LambdaLoggerUnsupportedError(`the option ${option}`);
    }
    if (env('AWS_LAMBDA_MAX_CONCURRENCY') !== '') {
      throw new LambdaLoggerUnsupportedError('several invocations at once in one process (AWS_LAMBDA_MAX_CONCURRENCY)');
    }
    this.#serviceName = options.serviceName || env('POWERTOOLS_SERVICE_NAME') || 'service_undefined';
    // Ready to print first: what the constructor logs (a level warning, sampling) prints as Powertools prints it.
    this.#console = isDevMode() ? console : new Console({ stdout: process.stdout, stderr: process.stderr });
    this.#indentation = isDevMode() ? 4 : 0;
    const lambdaLevel = env('AWS_LAMBDA_LOG_LEVEL');
    const alc = lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel;
    this.#alcLevel = isLevel(alc) ? alc : undefined;
    const configured = options.logLevel?.toUpperCase();
    const fromEnv = env('POWERTOOLS_LOG_LEVEL') || env('LOG_LEVEL');
    if (this.#alcLevel) {
      this.#level = LEVELS[this.#alcLevel];
      this.#warnIfBelowAlc(configured);
    } else if (isLevel(configured)) this.#level = LEVELS[configured];
    else if (isLevel(fromEnv)) this.#level = LEVELS[fromEnv];
    this.#initialLevel = this.#level;
    const envRate = Number(env('POWERTOOLS_LOGGER_SAMPLE_RATE') || '0');
    if (Number.isNaN(envRate))
      throw new TypeError('Environment variable POWERTOOLS_LOGGER_SAMPLE_RATE must be a number');
    const rate = [options.sampleRateValue, envRate].find(
      (value) => typeof value === 'number' && value >= 0 && value <= 1,
    );
    if (rate !== undefined) {
      this.#sampleRate = rate;
      if (this.#sampled() && this.#level > LEVELS.TRACE) this.#setDebugBySampling();
    }
  }

  trace(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.TRACE, input, extra);
  }
  debug(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.DEBUG, input, extra);
  }
  info(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.INFO, input, extra);
  }
  warn(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.WARN, input, extra);
  }
  error(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.ERROR, input, extra);
  }
  critical(input: LogInput, ...extra: ExtraInput[]): void {
    this.#log(LEVELS.CRITICAL, input, extra);
  }

  getLevelName(): LevelName {
    return levelName(this.#level);
  }

  /** Keys added to every line until resetKeys (the middleware's resetKeys: after each invocation). */
  appendKeys(attributes: Attributes): void {
    const kept = this.#withoutReservedKeys(attributes);
    deepMerge(this.#temporary, kept);
    for (const key of Object.keys(kept)) this.#keys.add(key);
  }

  removeKeys(keys: string[]): void {
    for (const key of keys) {
      this.#temporary[key] = undefined;
      this.#keys.delete(key);
    }
  }

  resetKeys(): void {
    this.#keys.clear();
    this.#temporary = {};
  }

  addContext(context: Context & { tenantId?: string }): void {
    this.#lambdaContext = {
      invokedFunctionArn: context.invokedFunctionArn,
      coldStart: this.#takeColdStart(),
      awsRequestId: context.awsRequestId,
      memoryLimitInMB: context.memoryLimitInMB,
      functionName: context.functionName,
      tenantId: context.tenantId,
    };
  }

  /** Before each invocation: sampling decides again (not on the first, which the constructor decided). */
  refreshSampleRateCalculation(): void {
    if (this.#sampleRefreshes === 0) {
      this.#sampleRefreshes += 1;
      return;
    }
    if (this.#sampled() && this.#level > LEVELS.TRACE) this.#setDebugBySampling();
    else this.#setLevel(this.#initialLevel);
  }

  logEventIfEnabled(event: unknown, overwrite?: boolean): void {
    if (typeof overwrite === 'boolean' ? overwrite : this.#logEvent) this.info('Lambda invocation event', { event });
  }

  #takeColdStart(): boolean {
    const cold = this.#coldStart;
    this.#coldStart = false;
    return cold;
  }

  #sampled(): boolean {
    return this.#sampleRate > 0 && randomInt(0, 100) / 100 <= this.#sampleRate;
  }

  #setDebugBySampling(): void {
    this.#setLevel(LEVELS.DEBUG);
    this.debug('Setting log level to DEBUG due to sampling rate');
  }

  /** Powertools' setLogLevel: under Lambda's log level control (AWS_LAMBDA_LOG_LEVEL) that level stands. */
  #setLevel(level: number): void {
    if (this.#alcLevel) {
      this.#warnIfBelowAlc(levelName(level));
      return;
    }
    this.#level = level;
  }

  #warnIfBelowAlc(selected: string | undefined): void {
    if (!this.#alcLevel || !isLevel(selected) || LEVELS[this.#alcLevel] <= LEVELS[selected]) return;
    const message = `Current log level (${selected}) does not match AWS Lambda Advanced Logging Controls minimum log level (${this.#alcLevel}). This can lead to data loss, consider adjusting them.`;
    if (this.#warnedOnce.has(message)) return;
    this.#warnedOnce.add(message);
    this.warn(message);
  }

  #withoutReservedKeys(attributes: Attributes): Attributes {
    const kept: Attributes = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (RESERVED_KEYS.includes(key)) this.warn(`The key "${key}" is a reserved key and will be dropped.`);
      else kept[key] = value;
    }
    return kept;
  }

  #log(level: number, input: LogInput, extra: ExtraInput[]): void {
    if (level < this.#level) return;
    const context = this.#lambdaContext;
    const line: Attributes = {
      level: levelName(level),
      message: typeof input === 'string' ? input : input.message,
      timestamp: formatTimestamp(new Date()),
      service: this.#serviceName,
      cold_start: context?.coldStart,
      function_arn: context?.invokedFunctionArn,
      function_memory_size: context?.memoryLimitInMB,
      function_name: context?.functionName,
      function_request_id: context?.awsRequestId,
      sampling_rate: this.#sampleRate,
      xray_trace_id: xRayTraceId(),
      tenant_id: context?.tenantId,
    };
    const additional: Attributes = {};
    for (const key of this.#keys) if (this.#temporary[key] !== undefined) additional[key] = this.#temporary[key];
    if (typeof input !== 'string') {
      const { message: _message, ...rest } = input;
      Object.assign(additional, this.#withoutReservedKeys(rest));
    }
    for (const item of extra) {
      if (item === null || item === undefined) continue;
      if (item instanceof Error) additional.error = item;
      else if (typeof item === 'string') additional.extra = item;
      else Object.assign(additional, this.#withoutReservedKeys(item));
    }
    deepMerge(line, additional);
    const printed: Attributes = {};
    for (const [key, value] of Object.entries(line)) {
      if (value !== undefined && value !== '' && value !== null) printed[key] = value;
    }
    // Powertools' console methods: the level's own, CRITICAL as error, TRACE as log.
    const method =
      level === LEVELS.CRITICAL
        ? 'error'
        : level === LEVELS.TRACE
          ? 'log'
          : (levelName(level).toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
    this.#console[method](JSON.stringify(printed, jsonReplacer(), this.#indentation));
  }
}

interface MiddyRequest {
  event: unknown;
  context: Context;
  internal: Record<string, unknown>;
}

export interface InjectLambdaContextOptions {
  logEvent?: boolean;
  resetKeys?: boolean;
  clearState?: boolean;
}

/** Powertools' injectLambdaContext middleware, for the options driftguard uses (logEvent, resetKeys/clearState). */
export function injectLambdaContext(target: Logger | Logger[], options: InjectLambdaContextOptions = {}) {
  for (const option of Object.keys(options)) {
    if (!['logEvent', 'resetKeys', 'clearState'].includes(option)) {
      throw new LambdaLoggerUnsupportedError(`the middleware option ${option}`);
    }
  }
  const loggers = Array.isArray(target) ? target : [target];
  const reset = options.clearState === true || options.resetKeys === true;
  const after = () => {
    if (reset) for (const logger of loggers) logger.resetKeys();
  };
  return {
    before: (request: MiddyRequest) => {
      // Powertools' LOGGER_KEY: other Powertools middlewares that end an invocation early call it to clean up.
      if (reset) request.internal = { ...request.internal, 'powertools-for-aws.logger': after };
      for (const logger of loggers) {
        logger.refreshSampleRateCalculation();
        logger.addContext(request.context);
        logger.logEventIfEnabled(request.event, options.logEvent);
      }
    },
    after,
    onError: after,
  };
}
