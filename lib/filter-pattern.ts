/**
 * CloudWatch Logs filter patterns for JSON log events, as AWS documents them ("Filter pattern syntax for metric
 * filters, subscription filters, filter log events"): `{ ($.a = "x") && ($.b != "y") || ... }`. Parsed once, then
 * evaluated against parsed records. The emulator's FilterLogEvents (scripts/emulator/logs_filter_patches.py) follows
 * the same semantics; test/integration/filter-pattern-parity.test.ts holds the two to one table.
 *
 * Semantics (AWS's documentation, and where it is silent the choice written here):
 * - `&&` binds tighter than `||`; parentheses group.
 * - A selector starts at `$`, then `.name` (letters, digits, `-`, `_`) or `[n]` steps; `[n]` follows a property.
 * - `=` / `!=` against a string (quoted, or unquoted): the selector must reach a value node (string, number, boolean;
 *   not an object, an array or null), else the condition is false, `!=` included. `*` at the start and/or the end of
 *   the string matches any text there; `*` alone matches any value; a `*` elsewhere is a literal character.
 * - A number (`5`, `-1.5`, `10e3`): `<` `>` `<=` `>=` need a number value; `=` / `!=` compare a number value by value,
 *   a string value by the number's text (`$.recipientAccountId = 123456789012`).
 * - `IS NULL`, `IS TRUE`, `IS FALSE`: the value is exactly that; `EXISTS` / `NOT EXISTS`: the selector reaches (or
 *   does not reach) anything, null included. Keywords are case-insensitive.
 */

/** A pattern that cannot be parsed; `position` is the 0-based offset in the pattern where the problem is. */
export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** AWS's limit on filterPattern (PutMetricFilter, FilterLogEvents). */
export const FILTER_PATTERN_MAX_LENGTH = 1024;

export type SelectorStep = { kind: 'property'; name: string } | { kind: 'index'; index: number };

export type ComparisonOperator = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type FilterExpression =
  | { kind: 'or'; terms: FilterExpression[] }
  | { kind: 'and'; terms: FilterExpression[] }
  | { kind: 'compare'; selector: SelectorStep[]; operator: ComparisonOperator; value: Literal }
  | { kind: 'is'; selector: SelectorStep[]; value: null | true | false }
  | { kind: 'exists'; selector: SelectorStep[]; exists: boolean };

/** A value as written: a number keeps its text (compared with string values), a string its wildcards. */
export type Literal = { kind: 'number'; value: number; text: string } | { kind: 'string'; text: string };

export interface FilterPattern {
  /** The pattern as given. */
  source: string;
  expression: FilterExpression;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NAME_CHAR = /[A-Za-z0-9_-]/;
/** What ends an unquoted value: space, grouping, the operators' characters. */
const UNQUOTED_END = /[\s(){}&|"=!<>]/;

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  parse(): FilterExpression {
    this.space();
    if (this.text[this.at] !== '{') {
      throw this.error(
        this.text.trim() === ''
          ? 'an empty pattern is not a JSON filter pattern: expected "{"'
          : 'not a JSON filter pattern: expected "{" (text and space-delimited patterns are not evaluated here)',
      );
    }
    this.at += 1;
    const expression = this.or();
    this.space();
    this.expect('}', 'expected "&&", "||" or the closing "}"');
    this.space();
    if (this.at < this.text.length) throw this.error('unexpected text after the closing "}"');
    return expression;
  }

  private or(): FilterExpression {
    const terms = [this.and()];
    while (this.take('||')) terms.push(this.and());
    return terms.length === 1 && terms[0] ? terms[0] : { kind: 'or', terms };
  }

  private and(): FilterExpression {
    const terms = [this.unary()];
    while (this.take('&&')) terms.push(this.unary());
    return terms.length === 1 && terms[0] ? terms[0] : { kind: 'and', terms };
  }

  private unary(): FilterExpression {
    this.space();
    if (this.take('(')) {
      const inner = this.or();
      this.space();
      this.expect(')', 'expected "&&", "||" or the closing ")"');
      return inner;
    }
    return this.condition();
  }

  private condition(): FilterExpression {
    this.space();
    if (this.text[this.at] !== '$') throw this.error('expected a selector starting with "$" (like $.eventName)');
    const selector = this.selector();
    this.space();
    const keywordAt = this.at;
    const keyword = this.keyword();
    if (keyword !== undefined) {
      if (keyword === 'EXISTS') return { kind: 'exists', selector, exists: true };
      this.space();
      const nextAt = this.at;
      const next = this.keyword();
      if (keyword === 'NOT') {
        if (next === 'EXISTS') return { kind: 'exists', selector, exists: false };
        throw this.error('expected EXISTS after NOT', nextAt);
      }
      if (keyword === 'IS') {
        if (next === 'NULL') return { kind: 'is', selector, value: null };
        if (next === 'TRUE') return { kind: 'is', selector, value: true };
        if (next === 'FALSE') return { kind: 'is', selector, value: false };
        throw this.error('expected NULL, TRUE or FALSE after IS', nextAt);
      }
      throw this.error(
        `unexpected ${keyword}: expected an operator (= != < > <= >=), IS, EXISTS or NOT EXISTS`,
        keywordAt,
      );
    }
    const operator = this.operator();
    this.space();
    const valueAt = this.at;
    const value = this.literal();
    if (operator !== '=' && operator !== '!=' && value.kind !== 'number') {
      throw this.error(`the operator ${operator} compares numbers: expected a number`, valueAt);
    }
    return { kind: 'compare', selector, operator, value };
  }

  private selector(): SelectorStep[] {
    this.at += 1; // the "$"
    const steps: SelectorStep[] = [];
    for (;;) {
      const char = this.text[this.at];
      if (char === '.') {
        this.at += 1;
        const start = this.at;
        while (this.at < this.text.length && NAME_CHAR.test(this.text[this.at] ?? '')) this.at += 1;
        if (this.at === start) throw this.error('expected a property name after "."');
        steps.push({ kind: 'property', name: this.text.slice(start, this.at) });
      } else if (char === '[') {
        if (steps.length === 0) throw this.error('an array index must follow a property (like $.items[0])');
        this.at += 1;
        const start = this.at;
        while (/\d/.test(this.text[this.at] ?? '')) this.at += 1;
        if (this.at === start) throw this.error('expected an array index (digits) after "["');
        const index = Number(this.text.slice(start, this.at));
        this.expect(']', 'expected "]" after the array index');
        steps.push({ kind: 'index', index });
      } else {
        break;
      }
    }
    if (steps.length === 0) throw this.error('expected "." and a property name after "$"');
    return steps;
  }

  private operator(): ComparisonOperator {
    for (const operator of ['!=', '<=', '>=', '=', '<', '>'] as const) {
      if (this.take(operator, false)) return operator;
    }
    throw this.error('expected an operator (= != < > <= >=), IS, EXISTS or NOT EXISTS');
  }

  private literal(): Literal {
    if (this.text[this.at] === '"') return { kind: 'string', text: this.quoted() };
    const start = this.at;
    while (this.at < this.text.length && !UNQUOTED_END.test(this.text[this.at] ?? '')) this.at += 1;
    if (this.at === start) throw this.error('expected a value (a number, a quoted string or a word)');
    const text = this.text.slice(start, this.at);
    if (NUMBER.test(text)) return { kind: 'number', value: Number(text), text };
    return { kind: 'string', text };
  }

  private quoted(): string {
    const start = this.at;
    this.at += 1;
    let value = '';
    while (this.at < this.text.length) {
      const char = this.text[this.at] ?? '';
      if (char === '"') {
        this.at += 1;
        return value;
      }
      if (char === '\\') {
        const next = this.text[this.at + 1];
        if (next === undefined) break;
        value += next;
        this.at += 2;
        continue;
      }
      value += char;
      this.at += 1;
    }
    throw this.error('unterminated quoted string', start);
  }

  /** An upper-cased keyword (IS, NOT, EXISTS, NULL, TRUE, FALSE) at the cursor, consumed; undefined otherwise. */
  private keyword(): string | undefined {
    const match = /^[A-Za-z]+/.exec(this.text.slice(this.at));
    const word = match?.[0].toUpperCase();
    if (word === undefined || !['IS', 'NOT', 'EXISTS', 'NULL', 'TRUE', 'FALSE'].includes(word)) return undefined;
    this.at += word.length;
    return word;
  }

  private take(token: string, skipSpace = true): boolean {
    if (skipSpace) this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private expect(token: string, message: string): void {
    if (!this.take(token, false)) throw this.error(message);
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at += 1;
  }

  private error(message: string, position = this.at): FilterPatternError {
    const near = this.text.slice(position, position + 20);
    const where =
      position >= this.text.length ? 'at the end' : `at position ${position} (near ${JSON.stringify(near)})`;
    return new FilterPatternError(`filter pattern: ${message} ${where}`, position);
  }
}

/** Parses a JSON filter pattern; throws FilterPatternError naming the problem and its position. */
export function parseFilterPattern(source: string): FilterPattern {
  if (source.length > FILTER_PATTERN_MAX_LENGTH) {
    throw new FilterPatternError(
      `filter pattern: ${source.length} characters, more than the ${FILTER_PATTERN_MAX_LENGTH} AWS allows`,
      FILTER_PATTERN_MAX_LENGTH,
    );
  }
  return { source, expression: new Parser(source).parse() };
}

type Resolved = { found: true; value: unknown } | { found: false };

function resolve(selector: readonly SelectorStep[], record: unknown): Resolved {
  let current: unknown = record;
  for (const step of selector) {
    if (step.kind === 'property') {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return { found: false };
      if (!Object.hasOwn(current, step.name)) return { found: false };
      current = (current as Record<string, unknown>)[step.name];
    } else {
      if (!Array.isArray(current) || step.index >= current.length) return { found: false };
      current = current[step.index];
    }
  }
  return { found: true, value: current };
}

/** `*` at either end matches any text there; `*` alone matches anything; elsewhere it is itself. */
export function matchesWildcard(text: string, pattern: string): boolean {
  if (pattern === '*') return true;
  const leading = pattern.startsWith('*');
  const trailing = pattern.length > 1 && pattern.endsWith('*');
  const core = pattern.slice(leading ? 1 : 0, trailing ? -1 : undefined);
  if (leading && trailing) return text.includes(core);
  if (leading) return text.endsWith(core);
  if (trailing) return text.startsWith(core);
  return text === pattern;
}

/** A value node's text: strings as they are, numbers and booleans as JSON writes them; undefined for anything else. */
function valueText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

function compare(operator: ComparisonOperator, value: unknown, literal: Literal): boolean {
  if (literal.kind === 'number' && typeof value === 'number') {
    switch (operator) {
      case '=':
        return value === literal.value;
      case '!=':
        return value !== literal.value;
      case '<':
        return value < literal.value;
      case '>':
        return value > literal.value;
      case '<=':
        return value <= literal.value;
      case '>=':
        return value >= literal.value;
    }
  }
  if (operator !== '=' && operator !== '!=') return false;
  const text = valueText(value);
  if (text === undefined) return false;
  const matched = literal.kind === 'number' ? text === literal.text : matchesWildcard(text, literal.text);
  return operator === '=' ? matched : !matched;
}

function evaluate(expression: FilterExpression, record: unknown): boolean {
  switch (expression.kind) {
    case 'or':
      return expression.terms.some((term) => evaluate(term, record));
    case 'and':
      return expression.terms.every((term) => evaluate(term, record));
    case 'exists':
      return resolve(expression.selector, record).found === expression.exists;
    case 'is': {
      const resolved = resolve(expression.selector, record);
      return resolved.found && resolved.value === expression.value;
    }
    case 'compare': {
      const resolved = resolve(expression.selector, record);
      return resolved.found && compare(expression.operator, resolved.value, expression.value);
    }
  }
}

/** Whether a parsed JSON record (a CloudTrail record, say) matches the pattern. */
export function matchesRecord(pattern: FilterPattern, record: unknown): boolean {
  return evaluate(pattern.expression, record);
}

/** Whether a log event's message matches: a message that is not a JSON object matches no JSON pattern. */
export function matchesMessage(pattern: FilterPattern, message: string): boolean {
  let record: unknown;
  try {
    record = JSON.parse(message);
  } catch {
    return false;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return false;
  return matchesRecord(pattern, record);
}
