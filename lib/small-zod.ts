/**
 * Stands in for zod/mini in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts): the envelope and
 * alarm schemas (lib/envelope.ts, lib/alarms/alarm-event.ts) use a dozen of its functions, and zod's core is ~20 KB
 * of every minified bundle (~6 KB of each zip). This implements those functions with zod/mini's results: the same
 * parsed data (new objects and arrays, the schema's keys first, unknown keys kept), the same issues (code, path,
 * message "Invalid input" or the check's own, expected, input with reportInput, ...), in the same order.
 * test/unit/small-zod.test.ts parses every sample event and many broken ones through both and compares.
 * A zod function this does not implement is a build error (esbuild: no matching export), never a silent difference.
 */

export interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  [detail: string]: unknown;
}

interface Run {
  issues: Issue[];
  reportInput: boolean;
}

/** A check of a string schema; a length check also runs on a value of the wrong type that has a length (as zod's). */
interface Check {
  (value: string, path: PropertyKey[], run: Run): void;
  onLengthOfAnyType?: boolean;
}

export class SchemaError extends Error {
  constructor(readonly issues: Issue[]) {
    super(JSON.stringify(issues, (_key, value) => (typeof value === 'bigint' ? value.toString() : value), 2));
    this.name = '$ZodError';
  }
}

function report(
  run: Run,
  path: PropertyKey[],
  input: unknown,
  details: { code: string; [detail: string]: unknown },
  message?: string,
) {
  run.issues.push({
    ...details,
    path,
    message: message ?? 'Invalid input',
    ...(run.reportInput && input !== undefined ? { input } : {}),
  });
}

const invalidType = (run: Run, path: PropertyKey[], input: unknown, expected: string) =>
  report(run, path, input, { expected, code: 'invalid_type' });

export class Schema<T = unknown> {
  /** Accepts a missing key of an object (z.optional). */
  readonly optional: boolean;

  constructor(
    private readonly parseValue: (input: unknown, path: PropertyKey[], run: Run) => T,
    optional = false,
  ) {
    this.optional = optional;
  }

  /** The parsed value; problems are added to the run's issues (the value returned then does not matter). */
  run(input: unknown, path: PropertyKey[], run: Run): T {
    return this.parseValue(input, path, run);
  }

  safeParse(input: unknown, params: { reportInput?: boolean } = {}) {
    const run: Run = { issues: [], reportInput: params.reportInput === true };
    const data = this.run(input, [], run);
    return run.issues.length === 0
      ? ({ success: true, data } as const)
      : ({ success: false, error: new SchemaError(run.issues) } as const);
  }
}

class StringSchema extends Schema<string> {
  constructor(private readonly checks: Check[] = []) {
    super((input, path, run) => {
      if (typeof input !== 'string') {
        invalidType(run, path, input, 'string');
        const length = (input as { length?: unknown } | null | undefined)?.length;
        for (const check of this.checks) {
          if (check.onLengthOfAnyType && length !== undefined) check(input as string, path, run);
        }
        return input as string;
      }
      for (const check of this.checks) check(input, path, run);
      return input;
    });
  }

  check(...checks: Check[]): StringSchema {
    return new StringSchema([...this.checks, ...checks]);
  }
}

export const string = () => new StringSchema();

export const unknown = () => new Schema((input) => input);

export const number = () =>
  new Schema((input, path, run) => {
    if (typeof input === 'number' && Number.isFinite(input)) return input;
    if (typeof input === 'number') {
      report(run, path, input, { expected: 'number', code: 'invalid_type', received: String(input) });
    } else invalidType(run, path, input, 'number');
    return input as number;
  });

export const boolean = () =>
  new Schema((input, path, run) => {
    if (typeof input !== 'boolean') invalidType(run, path, input, 'boolean');
    return input as boolean;
  });

export const literal = <const V extends string>(value: V) =>
  new Schema((input, path, run) => {
    if (input !== value) report(run, path, input, { code: 'invalid_value', values: [value] });
    return input as V;
  });

const enumOf = <const V extends string>(values: readonly V[]) =>
  new Schema((input, path, run) => {
    if (!values.includes(input as V)) report(run, path, input, { code: 'invalid_value', values: [...values] });
    return input as V;
  });

export { enumOf as enum };

export const optional = <T>(schema: Schema<T>) =>
  new Schema<T | undefined>(
    (input, path, run) => (input === undefined ? undefined : schema.run(input, path, run)),
    true,
  );

export const nullable = <T>(schema: Schema<T>) =>
  new Schema<T | null>((input, path, run) => (input === null ? null : schema.run(input, path, run)), schema.optional);

export const array = <T>(element: Schema<T>) =>
  new Schema<T[]>((input, path, run) => {
    if (!Array.isArray(input)) {
      invalidType(run, path, input, 'array');
      return input as T[];
    }
    const output: T[] = [];
    for (let index = 0; index < input.length; index++) output.push(element.run(input[index], [...path, index], run));
    return output;
  });

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

export const record = <V>(_key: Schema<string>, value: Schema<V>) =>
  new Schema<Record<string, V>>((input, path, run) => {
    if (!isPlainObject(input)) {
      invalidType(run, path, input, 'record');
      return input as Record<string, V>;
    }
    const output: Record<string, V> = {};
    for (const key of Object.keys(input)) output[key] = value.run(input[key], [...path, key], run);
    return output;
  });

/** An object with these keys checked and any other key kept as it is (z.looseObject). */
export const looseObject = <S extends Record<string, Schema<unknown>>>(shape: S) =>
  new Schema<Record<string, unknown>>((input, path, run) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      invalidType(run, path, input, 'object');
      return input as Record<string, unknown>;
    }
    const given = input as Record<string, unknown>;
    const output: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
      if (!(key in given) && schema.optional) continue;
      output[key] = schema.run(given[key], [...path, key], run);
    }
    for (const key of Object.keys(given)) if (!(key in shape)) output[key] = given[key];
    return output;
  });

export const regex =
  (pattern: RegExp, message?: string): Check =>
  (value, path, run) => {
    pattern.lastIndex = 0;
    if (pattern.test(value)) return;
    const issue = { origin: 'string', code: 'invalid_format', format: 'regex', pattern: pattern.toString() };
    report(run, path, value, issue, message);
  };

/** zod's origin of a length issue: what the value is. */
const lengthOrigin = (value: unknown) =>
  Array.isArray(value) ? 'array' : typeof value === 'string' ? 'string' : 'unknown';

const lengthCheck = (code: 'too_small' | 'too_big', bound: 'minimum' | 'maximum', limit: number): Check => {
  const check: Check = (value, path, run) => {
    if (code === 'too_small' ? value.length >= limit : value.length <= limit) return;
    report(run, path, value, { origin: lengthOrigin(value), code, [bound]: limit, inclusive: true });
  };
  check.onLengthOfAnyType = true;
  return check;
};

export const minLength = (minimum: number): Check => lengthCheck('too_small', 'minimum', minimum);

export const maxLength = (maximum: number): Check => lengthCheck('too_big', 'maximum', maximum);
