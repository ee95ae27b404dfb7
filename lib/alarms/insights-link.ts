/** A console link to a Logs Insights query over an alarm's window, filtered as the control's pattern filters. */
import type { FilterExpression, FilterPattern, Literal, SelectorStep } from '../filter-pattern.js';
import type { TimeWindow } from './alarm-event.js';

const iso = (time: number) => new Date(time).toISOString();

/** The console's own escaping inside a query detail: percent-encoding with "*" for "%", and ~'()*! escaped too. */
function consoleString(value: string): string {
  return encodeURIComponent(value)
    .replace(/[~'()*!]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => `*${hex.toLowerCase()}`);
}

/** A Logs Insights query (console link) over the window, filtered as the pattern filters where it translates. */
export function insightsUrl(region: string, logGroup: string, window: TimeWindow, pattern: FilterPattern): string {
  const detail =
    `~(end~'${consoleString(iso(window.endTime))}~start~'${consoleString(iso(window.startTime))}` +
    `~timeType~'ABSOLUTE~tz~'UTC~editorString~'${consoleString(insightsQuery(pattern))}` +
    `~source~(~'${consoleString(logGroup)}))`;
  const encoded = encodeURIComponent(detail).replace(/%/g, '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:logs-insights$3FqueryDetail$3D${encoded}`;
}

const QUERY_FIELDS =
  'fields @timestamp, eventName, eventSource, userIdentity.arn, sourceIPAddress, awsRegion, errorCode';

/** The records' fields over the window, filtered as the pattern says (when every condition translates). */
export function insightsQuery(pattern: FilterPattern): string {
  const filter = insightsFilter(pattern.expression);
  return [QUERY_FIELDS, ...(filter ? [`filter ${filter}`] : []), 'sort @timestamp asc', 'limit 1000'].join('\n| ');
}

const fieldOf = (selector: SelectorStep[]) =>
  selector.map((step) => (step.kind === 'property' ? step.name : String(step.index))).join('.');

const regexEscape = (value: string) => value.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');

function insightsCompare(field: string, operator: string, value: Literal): string {
  if (value.kind === 'number') return `${field} ${operator} ${value.text}`;
  const raw = value.text;
  const leading = raw.startsWith('*');
  const trailing = raw.length > 1 && raw.endsWith('*');
  if (raw === '*') return operator === '=' ? `ispresent(${field})` : `not ispresent(${field})`;
  if (!leading && !trailing) return `${field} ${operator} ${JSON.stringify(raw)}`;
  const core = regexEscape(raw.slice(leading ? 1 : 0, trailing ? -1 : undefined));
  const regex = `/${leading ? '' : '^'}${core}${trailing ? '' : '$'}/`;
  return operator === '=' ? `${field} like ${regex}` : `${field} not like ${regex}`;
}

/** Undefined when a condition has no faithful Insights form (IS NULL/TRUE/FALSE): then the query filters nothing. */
function insightsFilter(expression: FilterExpression): string | undefined {
  switch (expression.kind) {
    case 'or':
    case 'and': {
      const terms = expression.terms.map(insightsFilter);
      if (terms.some((term) => term === undefined)) return undefined;
      return `(${terms.join(expression.kind === 'or' ? ' or ' : ' and ')})`;
    }
    case 'exists':
      return expression.exists
        ? `ispresent(${fieldOf(expression.selector)})`
        : `not ispresent(${fieldOf(expression.selector)})`;
    case 'compare':
      return insightsCompare(fieldOf(expression.selector), expression.operator, expression.value);
    case 'is':
      return undefined;
  }
}
