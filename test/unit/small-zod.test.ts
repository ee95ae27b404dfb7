/**
 * The bundles' stand-in for zod/mini (lib/small-zod.ts) parses as zod does: lib/envelope.ts and
 * lib/alarms/alarm-event.ts are loaded twice, once with zod and once with the stand-in, and every sample event and
 * hundreds of broken ones (each field missing, null, of another type, too long, ...) must give the same data (key
 * order included), the same issues and the same errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const withZod = {
  envelope: await import('../../lib/envelope.js'),
  alarm: await import('../../lib/alarms/alarm-event.js'),
};
vi.resetModules();
vi.doMock('zod/mini', () => import('../../lib/small-zod.js'));
const withStandIn = {
  envelope: await import('../../lib/envelope.js'),
  alarm: await import('../../lib/alarms/alarm-event.js'),
};
vi.doUnmock('zod/mini');

const samples = readdirSync('events')
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file, JSON.parse(readFileSync(`events/${file}`, 'utf8'))] as const);
const cloudTrailSample = samples.find(([file]) => file === 'logs-CreateLogGroup-plain.json')?.[1];
const alarmSample = samples.find(([file]) => file === 'cloudwatch-alarm-CloudWatch.1-RootAccountUsage-ALARM.json')?.[1];

const REMOVE = Symbol('remove');
const VALUES: unknown[] = [REMOVE, null, 0, Number.NaN, true, '', 'x'.repeat(300), [], [1], {}, { a: 1 }, 'global'];

/** A copy of the event with the value at the dotted path replaced (or removed). */
function changed(event: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(event) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  const last = keys.at(-1) ?? '';
  if (value === REMOVE) delete at[last];
  else at[last] = value;
  return copy;
}

const ENVELOPE_PATHS = [
  ...['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'],
  ...['eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress'].map(
    (key) => `detail.${key}`,
  ),
  ...['errorCode', 'requestParameters', 'responseElements', 'additionalEventData', 'eventID', 'recipientAccountId'].map(
    (key) => `detail.${key}`,
  ),
  ...['resources', 'resources.0', 'resources.0.ARN', 'requestParameters.logGroupName', 'somethingNew'].map(
    (key) => `detail.${key}`,
  ),
  ...['type', 'arn', 'onBehalfOf', 'onBehalfOf.userId', 'sessionContext', 'sessionContext.sessionIssuer'].map(
    (key) => `detail.userIdentity.${key}`,
  ),
  'detail.userIdentity.sessionContext.sessionIssuer.arn',
];

const ALARM_PATHS = [
  ...['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'],
  ...['alarmName', 'state', 'state.value', 'state.reason', 'state.reasonData', 'state.timestamp'].map(
    (key) => `detail.${key}`,
  ),
  ...['previousState', 'previousState.value', 'configuration', 'configuration.description'].map(
    (key) => `detail.${key}`,
  ),
  ...['metrics', 'metrics.0', 'metrics.0.id', 'metrics.0.returnData', 'metrics.0.metricStat'].map(
    (key) => `detail.configuration.${key}`,
  ),
  ...['metric', 'metric.namespace', 'metric.dimensions', 'metric.dimensions.x', 'period', 'stat'].map(
    (key) => `detail.configuration.metrics.0.metricStat.${key}`,
  ),
];

function variants(sample: unknown, paths: string[]): [string, unknown][] {
  return paths.flatMap((path) =>
    VALUES.map((value): [string, unknown] => [
      `${path} ${value === REMOVE ? 'removed' : JSON.stringify(value)?.slice(0, 12)}`,
      changed(sample, path, value),
    ]),
  );
}

const NOT_OBJECTS: [string, unknown][] = [
  ['null', null],
  ['a string', 'event'],
  ['an array', []],
  ['a number', 7],
];

/** What a parse gave, in a form that compares: data as JSON (key order included), or the issues. */
function outcome(parsed: { success: boolean; data?: unknown; error?: { issues: unknown[] } }) {
  return parsed.success ? { data: JSON.stringify(parsed.data) } : { issues: parsed.error?.issues };
}

function thrown(parse: () => unknown) {
  try {
    return { data: JSON.stringify(parse()) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

describe('small-zod parses as zod/mini', () => {
  it('is a different implementation in each module graph', () => {
    expect(withStandIn.envelope.cloudTrailEnvelopeSchema).not.toBe(withZod.envelope.cloudTrailEnvelopeSchema);
    expect(withStandIn.envelope.cloudTrailEnvelopeSchema.constructor.name).toBe('Schema');
  });

  it.each([...samples, ...variants(cloudTrailSample, ENVELOPE_PATHS), ...NOT_OBJECTS])(
    'CloudTrail envelope: %s',
    (_label, input) => {
      for (const reportInput of [true, false]) {
        expect(outcome(withStandIn.envelope.cloudTrailEnvelopeSchema.safeParse(input, { reportInput }))).toEqual(
          outcome(withZod.envelope.cloudTrailEnvelopeSchema.safeParse(input, { reportInput })),
        );
      }
      expect(thrown(() => withStandIn.envelope.parseCloudTrailEvent(input))).toEqual(
        thrown(() => withZod.envelope.parseCloudTrailEvent(input)),
      );
    },
  );

  it.each([...samples, ...variants(alarmSample, ALARM_PATHS), ...NOT_OBJECTS])(
    'alarm state change: %s',
    (_label, input) => {
      expect(outcome(withStandIn.alarm.alarmStateChangeSchema.safeParse(input))).toEqual(
        outcome(withZod.alarm.alarmStateChangeSchema.safeParse(input)),
      );
      expect(thrown(() => withStandIn.alarm.parseAlarmStateChange(input))).toEqual(
        thrown(() => withZod.alarm.parseAlarmStateChange(input)),
      );
    },
  );
});
