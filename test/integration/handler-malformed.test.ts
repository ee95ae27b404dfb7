/**
 * Malformed events through each guard's Lambda handler, on a real state table: a broken envelope or bad request
 * parameters end before any AWS call (reads and the idempotency record included) and leave nothing in the table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { awsCallCounter } from '../../lib/aws.js';
import { MalformedEventError } from '../../lib/envelope.js';
import type { Guard } from '../../lib/guard.js';
import { GUARDS } from '../../lib/registry.js';
import { freshEngine } from '../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  type GuardHandler,
  guardHandler,
  isEventRecord,
  reenacted,
  sampleEvent,
  stateTableItems,
} from '../support/handler-harness.js';

// biome-ignore lint/suspicious/noExplicitAny: events are broken on purpose
type Json = Record<string, any>;

const guardOf = (file: string): Guard => {
  const guard = GUARDS.find((g) => g.file === file);
  if (!guard) throw new Error(`no guard ${file} in the registry`);
  return guard;
};

/** Each guard with the sample of each of its rules. */
const OWNERS: [guard: string, sample: string][] = [
  ['log-group-guard', 'logs-CreateLogGroup-plain'],
  ['trail-guard', 'cloudtrail-StopLogging'],
  ['kms-guard', 'kms-DisableKey'],
  ['mfa-guard', 'iam-DeactivateMFADevice-iam-user'],
  ['mfa-guard', 'signin-ConsoleLogin-no-MFA-iam-user'],
  ['config-guard', 'config-StopConfigurationRecorder'],
  ['activity-guard', 'logs-DeleteMetricFilter-activity'],
  ['activity-guard', 'monitoring-DeleteAlarms-activity'],
  ['guardduty-guard', 'guardduty-DeleteDetector'],
];

/** The sample of the guard's first rule: the Lambda context is made from it. */
const ownSample = (file: string) => sampleEvent(OWNERS.find(([guard]) => guard === file)?.[1] ?? '');

let copies = 0;

/** A sample broken by `change`, under an event id of its own. */
function broken(sample: string, change: (event: Json) => void): Json {
  const event = structuredClone(sampleEvent(sample)) as Json;
  copies += 1;
  event.detail.eventID = `${event.detail.eventID}-malformed-${copies}`;
  change(event);
  return event;
}

const ENVELOPE_BREAKS: [label: string, change: (event: Json) => void][] = [
  ['no detail', (e) => delete e.detail],
  ['no eventID (the idempotency key)', (e) => delete e.detail.eventID],
  ['an account of 11 digits', (e) => (e.account = '12345678901')],
  ['a detail-type that is not CloudTrail', (e) => (e['detail-type'] = 'Scheduled Event')],
];

const PARAMETER_BREAKS: [guard: string, label: string, event: Json][] = [
  [
    'log-group-guard',
    'an invalid log group name',
    broken('logs-CreateLogGroup-plain', (e) => (e.detail.requestParameters.logGroupName = '/app/🔥/prod')),
  ],
  [
    'log-group-guard',
    'a missing log group name',
    broken('logs-CreateLogGroup-plain', (e) => (e.detail.requestParameters = {})),
  ],
  ['trail-guard', 'a missing trail name', broken('cloudtrail-StopLogging', (e) => (e.detail.requestParameters = {}))],
  [
    'trail-guard',
    'a trail name of 200 characters',
    broken('cloudtrail-StopLogging', (e) => (e.detail.requestParameters.name = 'a'.repeat(200))),
  ],
  [
    'kms-guard',
    'a bad key id',
    broken('kms-DisableKey', (e) => {
      e.detail.resources = [];
      e.detail.requestParameters.keyId = 'not a key id!';
    }),
  ],
  [
    'mfa-guard',
    'an invalid userName',
    broken('iam-DeactivateMFADevice-iam-user', (e) => (e.detail.requestParameters.userName = 'b'.repeat(100))),
  ],
  [
    'mfa-guard',
    'a missing serialNumber',
    broken('iam-DeactivateMFADevice-iam-user', (e) => delete e.detail.requestParameters.serialNumber),
  ],
  [
    'mfa-guard',
    'a sign-in whose IAM user has no userName (nor ARN)',
    broken('signin-ConsoleLogin-no-MFA-iam-user', (e) => {
      delete e.detail.userIdentity.userName;
      delete e.detail.userIdentity.arn;
    }),
  ],
];

PARAMETER_BREAKS.push(
  [
    'config-guard',
    'a missing recorder name',
    broken('config-StopConfigurationRecorder', (e) => (e.detail.requestParameters = {})),
  ],
  [
    'config-guard',
    'a channel that is not an object',
    broken('config-PutDeliveryChannel-other-bucket', (e) => (e.detail.requestParameters.deliveryChannel = 'default')),
  ],
  [
    'activity-guard',
    'a metric filter event without its filter name',
    broken('logs-DeleteMetricFilter-activity', (e) => delete e.detail.requestParameters.filterName),
  ],
  [
    'activity-guard',
    'an alarm event without alarm names',
    broken('monitoring-DeleteAlarms-activity', (e) => (e.detail.requestParameters.alarmNames = [42])),
  ],
  [
    'guardduty-guard',
    'a missing detectorId',
    broken('guardduty-DeleteDetector', (e) => (e.detail.requestParameters = {})),
  ],
  [
    'guardduty-guard',
    'a detectorId that is a path',
    broken('guardduty-DeleteDetector', (e) => (e.detail.requestParameters.detectorId = '../detector/x')),
  ],
);

const CASES: [guard: string, label: string, event: Json][] = [
  ...OWNERS.flatMap(([guard, sample]) =>
    ENVELOPE_BREAKS.map(([label, change]): [string, string, Json] => [
      guard,
      `${sample} with ${label}`,
      broken(sample, change),
    ]),
  ),
  ...PARAMETER_BREAKS,
];

/** The deployed entries, imported once the engine is provisioned (they read their settings at import). */
const FUNCTION_ENTRIES: Record<string, () => Promise<{ handler: GuardHandler }>> = {
  'log-group-guard': () => import('../../functions/log-group-guard.js'),
  'trail-guard': () => import('../../functions/trail-guard.js'),
  'kms-guard': () => import('../../functions/kms-guard.js'),
  'mfa-guard': () => import('../../functions/mfa-guard.js'),
  'config-guard': () => import('../../functions/config-guard.js'),
  'activity-guard': () => import('../../functions/activity-guard.js'),
  'guardduty-guard': () => import('../../functions/guardduty-guard.js'),
};

describe('malformed events through each guard’s handler', () => {
  beforeAll(async () => {
    await freshEngine();
  });

  it('cover every guard of the registry, with a broken envelope and bad request parameters', () => {
    const files = GUARDS.map((guard) => guard.file).sort();
    expect(Object.keys(FUNCTION_ENTRIES).sort()).toEqual(files);
    expect([...new Set(OWNERS.map(([guard]) => guard))].sort()).toEqual(files);
    expect([...new Set(PARAMETER_BREAKS.map(([guard]) => guard))].sort()).toEqual(files);
  });

  it.each(CASES)('%s: %s is refused before any AWS call, and no record is kept', async (file, _label, event) => {
    // Prepare
    const guard = guardOf(file);
    const recorder = new CallRecorder();
    const handler = guardHandler(guard, recorder);
    const before = await stateTableItems();

    // Act
    const handled = handler(event, contextFor(guard, ownSample(file)));

    // Assess
    await expect(handled).rejects.toBeInstanceOf(MalformedEventError);
    expect(recorder.calls).toEqual([]);
    const after = await stateTableItems();
    expect(after).toEqual(before);
    expect(after.filter(isEventRecord)).toEqual([]);
  });

  it('records the calls of a well-formed event, the idempotency record among them (the recorder sees them all)', async () => {
    // Prepare: the group exists, so the guard reads and fixes it.
    const guard = guardOf('log-group-guard');
    const event = await reenacted(sampleEvent('logs-CreateLogGroup-plain'));
    const recorder = new CallRecorder();

    // Act
    const result = await guardHandler(guard, recorder)(event, contextFor(guard, event));

    // Assess
    expect(result.outcome).toBe('remediated');
    // The claim (an update), then the settle: a transaction that writes the key's usage with it.
    expect(recorder.calls).toEqual(
      expect.arrayContaining([
        'DynamoDB:UpdateItem',
        'CloudWatchLogs:DescribeLogGroups',
        'CloudWatchLogs:AssociateKmsKey',
        'SNS:Publish',
        'DynamoDB:TransactWriteItems',
      ]),
    );
    const items = await stateTableItems();
    expect(items.filter((item) => item.pk?.S?.startsWith('idempotency#'))).toHaveLength(1);
    expect(items.filter((item) => item.pk?.S?.startsWith('key#'))).toHaveLength(1);
  });

  it.each(Object.entries(FUNCTION_ENTRIES))(
    'functions/%s.ts, as deployed, refuses a malformed event before any AWS call',
    async (file, load) => {
      // Prepare: the module reads its settings at import (cold start), after the engine is provisioned.
      const { handler } = await load();
      const [, label, event] = PARAMETER_BREAKS.find(([guard]) => guard === file) as [string, string, Json];
      const before = await stateTableItems();
      const calls = awsCallCounter.calls;

      // Act
      const handled = handler(event, contextFor(guardOf(file), ownSample(file)));

      // Assess
      await expect(handled, label).rejects.toBeInstanceOf(MalformedEventError);
      expect(awsCallCounter.calls - calls).toBe(0);
      expect(await stateTableItems()).toEqual(before);
    },
  );
});
