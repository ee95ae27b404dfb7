/**
 * "CloudWatch Alarm State Change" events (source aws.cloudwatch), parsed at the edge, and the window of log events
 * an alarm's evaluation covered. Shape: CloudWatch's "Alarm events and EventBridge" (single metric alarm): detail
 * {alarmName, state {value, reason, reasonData, timestamp}, previousState, configuration {metrics[{metricStat}]}};
 * state timestamps are written like 2019-10-02T17:04:40.985+0000.
 */
import * as z from 'zod/mini';
import { MalformedEventError } from '../envelope.js';

export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const ALARM_SOURCE = 'aws.cloudwatch';

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const STATE_VALUES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;

const stateSchema = z.looseObject({
  value: z.enum(STATE_VALUES),
  reason: z.optional(z.string()),
  reasonData: z.optional(z.string()),
  timestamp: z.string(),
});

const metricStatSchema = z.looseObject({
  metric: z.looseObject({
    namespace: z.optional(z.string()),
    name: z.optional(z.string()),
    dimensions: z.optional(z.record(z.string(), z.string())),
  }),
  period: z.optional(z.number()),
  stat: z.optional(z.string()),
});

export const alarmStateChangeSchema = z.looseObject({
  version: z.string(),
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  'detail-type': z.literal(ALARM_STATE_CHANGE),
  source: z.literal(ALARM_SOURCE),
  account: z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit account id')),
  time: z.string(),
  region: z.string().check(z.regex(REGION, 'must be an AWS region like eu-west-1')),
  resources: z.array(z.string()),
  detail: z.looseObject({
    alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
    state: stateSchema,
    previousState: z.optional(stateSchema),
    configuration: z.optional(
      z.looseObject({
        description: z.optional(z.string()),
        metrics: z.optional(
          z.array(
            z.looseObject({
              id: z.optional(z.string()),
              metricStat: z.optional(metricStatSchema),
              returnData: z.optional(z.boolean()),
            }),
          ),
        ),
      }),
    ),
  }),
});

export type AlarmStateChange = z.infer<typeof alarmStateChangeSchema>;

/** Whether a JSON value says it is an alarm state change (then it must parse as one, or it is malformed). */
export function isAlarmStateChange(input: unknown): boolean {
  return (
    typeof input === 'object' &&
    input !== null &&
    (input as Record<string, unknown>)['detail-type'] === ALARM_STATE_CHANGE
  );
}

export function parseAlarmStateChange(input: unknown): AlarmStateChange {
  const parsed = alarmStateChangeSchema.safeParse(input);
  if (parsed.success) {
    if (Number.isNaN(alarmTime(parsed.data.detail.state.timestamp))) {
      throw new MalformedEventError(
        `not an alarm state change: detail.state.timestamp ${JSON.stringify(parsed.data.detail.state.timestamp).slice(0, 60)} is not a time`,
      );
    }
    return parsed.data;
  }
  const problems = parsed.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length === 0 ? '(event)' : issue.path.map(String).join('.');
    return `${path}: ${issue.message}`;
  });
  throw new MalformedEventError(`not an alarm state change: ${problems.join('; ')}`, { cause: parsed.error });
}

/** Epoch milliseconds of an alarm timestamp (ISO-8601, with +0000 or Z). */
export function alarmTime(text: string): number {
  return Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

/** The metric the alarm watches (the first metricStat), when the event carries it. */
export function alarmMetric(event: AlarmStateChange): { namespace?: string; name?: string; period?: number } {
  const stat = event.detail.configuration?.metrics?.find((metric) => metric.metricStat)?.metricStat;
  return { namespace: stat?.metric.namespace, name: stat?.metric.name, period: stat?.period };
}

/** Log events this long before the evaluated range and after the state change are read too (ingestion lags). */
export const WINDOW_MARGIN_MS = 120_000;
const DEFAULT_PERIOD_SECONDS = 300;

export interface TimeWindow {
  startTime: number;
  endTime: number;
}

/**
 * The log events behind the alarm: from the start of the range it evaluated (reasonData.startDate, else one period
 * before the state change) to the state change, widened by the margin on both sides.
 */
export function alarmWindow(event: AlarmStateChange, margin = WINDOW_MARGIN_MS): TimeWindow {
  const changedAt = alarmTime(event.detail.state.timestamp);
  const period = (alarmMetric(event).period ?? DEFAULT_PERIOD_SECONDS) * 1000;
  const evaluatedFrom = reasonStart(event.detail.state.reasonData);
  const from = evaluatedFrom !== undefined && evaluatedFrom <= changedAt ? evaluatedFrom : changedAt - period;
  return { startTime: Math.min(from, changedAt - period) - margin, endTime: changedAt + margin };
}

/** reasonData's startDate (the first datapoint evaluated), when it is there and a time. */
function reasonStart(reasonData: string | undefined): number | undefined {
  if (!reasonData) return undefined;
  try {
    const start = (JSON.parse(reasonData) as { startDate?: unknown }).startDate;
    const time = typeof start === 'string' ? alarmTime(start) : Number.NaN;
    return Number.isNaN(time) ? undefined : time;
  } catch {
    return undefined;
  }
}
