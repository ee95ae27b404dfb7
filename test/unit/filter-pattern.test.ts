import { describe, expect, it } from 'vitest';
import { ACTIVITY_CONTROLS } from '../../lib/activity-controls.js';
import {
  FilterPatternError,
  matchesMessage,
  matchesRecord,
  matchesWildcard,
  parseFilterPattern,
} from '../../lib/filter-pattern.js';
import { ACTIVITY_RECORDS } from '../fixtures/activity-records.js';
import { FILTER_PATTERN_CASES, FILTER_PATTERN_DOCUMENT } from '../fixtures/filter-pattern-cases.js';

describe('filter patterns: the syntax AWS documents, evaluated on one document', () => {
  it.each(FILTER_PATTERN_CASES)('%s -> %s', (pattern, expected) => {
    expect(matchesRecord(parseFilterPattern(pattern), FILTER_PATTERN_DOCUMENT)).toBe(expected);
  });
});

describe('wildcards', () => {
  it.each([
    ['AccessDenied', 'AccessDenied*', true],
    ['AccessDeniedException', 'AccessDenied*', true],
    ['NotAccessDenied', 'AccessDenied*', false],
    ['Client.UnauthorizedOperation', '*UnauthorizedOperation', true],
    ['UnauthorizedOperationX', '*UnauthorizedOperation', false],
    ['a-Denied-b', '*Denied*', true],
    ['anything', '*', true],
    ['', '*', true],
    ['Ev*ent', 'Ev*ent', true],
    ['EvXent', 'Ev*ent', false],
    ['exact', 'exact', true],
    ['exactly', 'exact', false],
  ])('%j against %j: %s', (text, pattern, expected) => {
    expect(matchesWildcard(text, pattern)).toBe(expected);
  });
});

describe('bad patterns: a FilterPatternError naming the problem and its position', () => {
  it.each([
    ['', 0, 'an empty pattern'],
    ['ERROR Exception', 0, 'not a JSON filter pattern'],
    ['{ $.a = "x" ', 12, 'closing "}"'],
    ['{ $.a = "x }', 8, 'unterminated quoted string'],
    ['{ a = "x" }', 2, 'selector starting with "$"'],
    ['{ $ = "x" }', 3, 'after "$"'],
    ['{ $. = "x" }', 4, 'property name after "."'],
    ['{ $[0] = "x" }', 3, 'must follow a property'],
    ['{ $.a[x] = 1 }', 6, 'array index'],
    ['{ $.a ~ "x" }', 6, 'expected an operator'],
    ['{ $.a = }', 8, 'expected a value'],
    ['{ $.a > "x" }', 8, 'compares numbers'],
    ['{ $.a > abc }', 8, 'compares numbers'],
    ['{ $.a IS MAYBE }', 9, 'NULL, TRUE or FALSE'],
    ['{ $.a NOT THERE }', 10, 'EXISTS after NOT'],
    ['{ ($.a = 1 }', 11, 'closing ")"'],
    ['{ $.a = 1 && }', 13, 'selector'],
    ['{ $.a = 1 } trailing', 12, 'after the closing "}"'],
    ['{ $.a = 1 & $.b = 2 }', 10, 'closing "}"'],
  ])('%j fails at %d: %s', (pattern, position, message) => {
    let thrown: unknown;
    try {
      parseFilterPattern(pattern);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FilterPatternError);
    expect((thrown as FilterPatternError).position).toBe(position);
    expect((thrown as FilterPatternError).message).toContain(message);
    expect((thrown as FilterPatternError).message).toMatch(/at position \d+|at the end/);
  });

  it('refuses a pattern longer than AWS allows (1024 characters)', () => {
    const long = `{ $.a = "${'x'.repeat(1020)}" }`;
    expect(() => parseFilterPattern(long)).toThrow(/more than the 1024 AWS allows/);
  });
});

describe('log event messages', () => {
  const pattern = parseFilterPattern('{ $.eventName = "StopLogging" }');
  it.each([
    ['{"eventName":"StopLogging"}', true],
    ['{"eventName":"StartLogging"}', false],
    ['StopLogging', false],
    ['["StopLogging"]', false],
    ['not json {', false],
    ['null', false],
  ])('%s -> %s', (message, expected) => {
    expect(matchesMessage(pattern, message)).toBe(expected);
  });
});

describe('the 14 activity controls’ patterns against CloudTrail records', () => {
  const cases = ACTIVITY_CONTROLS.flatMap((control) =>
    ACTIVITY_RECORDS.map(
      ({ name, trips, record }) => [control.id, name, trips.includes(control.id), control, record] as const,
    ),
  );
  it.each(cases)('%s, %s: %s', (_id, _name, expected, control, record) => {
    expect(matchesRecord(parseFilterPattern(control.pattern), record)).toBe(expected);
  });

  it('has, for every control, records it must match and records it must not', () => {
    for (const control of ACTIVITY_CONTROLS) {
      const tripping = ACTIVITY_RECORDS.filter(({ trips }) => trips.includes(control.id));
      expect([control.id, tripping.length > 0]).toEqual([control.id, true]);
    }
    expect(ACTIVITY_CONTROLS).toHaveLength(14);
  });
});
