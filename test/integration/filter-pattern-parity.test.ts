// The emulator's FilterLogEvents (scripts/emulator/logs_filter_patches.py) and lib/filter-pattern.ts agree on one
// table of patterns and records; FilterLogEvents' paging, time window and parameter errors are AWS's.
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  type FilteredLogEvent,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_CONTROLS } from '../../lib/activity-controls.js';
import { matchesMessage, parseFilterPattern } from '../../lib/filter-pattern.js';
import { EMULATOR_ACCOUNT_ID, resetEmulator } from '../../scripts/emulator/launcher.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { ACTIVITY_RECORDS } from '../fixtures/activity-records.js';
import { FILTER_PATTERN_CASES, FILTER_PATTERN_DOCUMENT } from '../fixtures/filter-pattern-cases.js';
import { testEndpoint } from '../support/emulator.js';

const GROUP = 'parity/trail';
const BASE = Date.UTC(2026, 11, 1, 10, 0, 0);
/** The documentation's document, then every activity record, one a second, over two streams; and one text line. */
const MESSAGES = [
  JSON.stringify(FILTER_PATTERN_DOCUMENT),
  ...ACTIVITY_RECORDS.map(({ record }) => JSON.stringify(record)),
  'plain text line UpdateTrail',
];

let logs: CloudWatchLogsClient;

async function filtered(input: Omit<FilterLogEventsCommandInput, 'logGroupName'> & { logGroupName?: string }) {
  const events: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, ...input, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
    pages += 1;
  } while (nextToken);
  return { events, pages };
}

beforeAll(async () => {
  const endpoint = testEndpoint();
  await resetEmulator(endpoint);
  logs = new CloudWatchLogsClient(emulatorClientConfig(endpoint, 'us-east-1'));
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
  const streams = ['123456789012_CloudTrail_us-east-1', '123456789012_CloudTrail_eu-west-1'];
  for (const logStreamName of streams)
    await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName }));
  // Alternate streams, so that only an interleaved answer is in time order.
  for (const [index, logStreamName] of streams.entries()) {
    const logEvents = MESSAGES.map((message, at) => ({ message, timestamp: BASE + at * 1000 })).filter(
      (_, at) => at % 2 === index,
    );
    await logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName, logEvents }));
  }
});

describe('FilterLogEvents and lib/filter-pattern.ts give the same events', () => {
  it.each([
    ['the syntax table', FILTER_PATTERN_CASES.map(([pattern]) => pattern)],
    ['the 14 activity controls', ACTIVITY_CONTROLS.map((control) => control.pattern)],
  ])('for every pattern of %s', async (_label, patterns) => {
    const disagreements: string[] = [];
    for (const pattern of patterns) {
      const parsed = parseFilterPattern(pattern);
      const expected = MESSAGES.filter((message) => matchesMessage(parsed, message));
      const { events } = await filtered({ filterPattern: pattern });
      const got = events.map((event) => event.message);
      if (JSON.stringify(got) !== JSON.stringify(expected))
        disagreements.push(`${pattern}: emulator ${got.length}, lib ${expected.length}`);
    }
    expect(disagreements).toEqual([]);
  });
});

describe('FilterLogEvents as AWS answers it', () => {
  it('interleaves streams in time order, pages by limit, and keeps within [startTime, endTime]', async () => {
    const all = await filtered({});
    expect(all.events.map((event) => event.message)).toEqual(MESSAGES);
    const paged = await filtered({ limit: 7 });
    expect(paged.pages).toBe(Math.ceil(MESSAGES.length / 7));
    expect(paged.events.map((event) => event.eventId)).toEqual(all.events.map((event) => event.eventId));
    const window = await filtered({ startTime: BASE + 2000, endTime: BASE + 4000 });
    expect(window.events.map((event) => event.timestamp)).toEqual([BASE + 2000, BASE + 3000, BASE + 4000]);
  });

  it('keeps moto plain-text terms working beside JSON patterns', async () => {
    const { events } = await filtered({ filterPattern: 'UpdateTrail' });
    // The text line, the document and the UpdateTrail record all contain the term.
    expect(events.map((event) => event.message)).toContain('plain text line UpdateTrail');
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it('finds the group by logGroupIdentifier (a name or an ARN) and streams by prefix', async () => {
    const arn = `arn:aws:logs:us-east-1:${EMULATOR_ACCOUNT_ID}:log-group:${GROUP}`;
    const byArn = await logs.send(new FilterLogEventsCommand({ logGroupIdentifier: arn }));
    expect(byArn.events).toHaveLength(MESSAGES.length);
    const byPrefix = await logs.send(
      new FilterLogEventsCommand({ logGroupIdentifier: GROUP, logStreamNamePrefix: '123456789012_CloudTrail_eu' }),
    );
    expect(byPrefix.events).toHaveLength(Math.floor(MESSAGES.length / 2));
  });

  it.each([
    [{ logGroupName: GROUP, logGroupIdentifier: GROUP }, 'InvalidParameterException'],
    [{ logGroupName: GROUP, logStreamNames: ['a'], logStreamNamePrefix: 'a' }, 'InvalidParameterException'],
    [{ logGroupName: GROUP, limit: 10_001 }, 'InvalidParameterException'],
    [{ logGroupName: GROUP, filterPattern: '{ $.eventName = }' }, 'InvalidParameterException'],
    [{ logGroupName: 'parity/none' }, 'ResourceNotFoundException'],
  ])('refuses %j with %s', async (input, error) => {
    await expect(logs.send(new FilterLogEventsCommand(input))).rejects.toMatchObject({ name: error });
  });
});
