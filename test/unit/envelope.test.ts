import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedEventError, parseCloudTrailEvent, requireStringParameter } from '../../lib/envelope.js';
import {
  cloudTrailEventFiles,
  EVENTS_DIR,
  FIXTURE_EVENTS_DIR,
  params,
  type RawEvent,
  rawSample,
  sample,
  sampleWith,
} from './fixtures.js';

const ALL_SAMPLES = [...cloudTrailEventFiles(EVENTS_DIR), ...cloudTrailEventFiles(FIXTURE_EVENTS_DIR)].map((file) => [
  file.startsWith(EVENTS_DIR) ? `events/${basename(file)}` : `test/fixtures/events/${basename(file)}`,
  file,
]);

function parseError(input: unknown): MalformedEventError {
  try {
    parseCloudTrailEvent(input);
  } catch (error) {
    if (error instanceof MalformedEventError) return error;
    throw error;
  }
  throw new Error('parseCloudTrailEvent accepted the input');
}

function changed(change: (raw: RawEvent) => void): RawEvent {
  const raw = rawSample('logs-CreateLogGroup-plain');
  change(raw);
  return raw;
}

describe('parseCloudTrailEvent', () => {
  it('finds the sample events', () => {
    // Assess
    expect(ALL_SAMPLES.filter(([label]) => label?.startsWith('events/')).length).toBeGreaterThanOrEqual(10);
    expect(ALL_SAMPLES.filter(([label]) => label?.startsWith('test/fixtures/')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(ALL_SAMPLES)('parses %s', (_label, file) => {
    // Prepare
    const raw = JSON.parse(readFileSync(file as string, 'utf8'));

    // Act
    const event = parseCloudTrailEvent(raw);

    // Assess
    expect(event.detail.eventName).toBe(raw.detail.eventName);
    expect(event.account).toMatch(/^\d{12}$/);
    // Loose objects: fields the schema does not name are kept.
    expect(event.detail.eventCategory).toBe(raw.detail.eventCategory);
  });

  it.each([
    ['null', null, 'got null'],
    ['an array', [], 'got an array'],
    ['a string', '{"version":"0"}', 'got a string'],
    ['a number', 42, 'got a number'],
    ['undefined', undefined, 'got nothing'],
  ])('rejects %s as not an object', (_label, input, problem) => {
    // Act
    const error = parseError(input);

    // Assess
    expect(error.name).toBe('MalformedEventError');
    expect(error.message).toBe(`not a CloudTrail event: expected a JSON object, ${problem}`);
  });

  it.each([
    [
      'missing detail',
      (raw: RawEvent) => {
        Reflect.deleteProperty(raw, 'detail');
      },
      'detail: missing (expected object)',
    ],
    [
      'detail.eventName of the wrong type',
      (raw: RawEvent) => {
        raw.detail.eventName = 5;
      },
      'detail.eventName: expected string, got a number',
    ],
    [
      'detail.eventName that is no API name',
      (raw: RawEvent) => {
        raw.detail.eventName = 'Create LogGroup';
      },
      'detail.eventName: must be an API name like CreateLogGroup',
    ],
    [
      'a bad region',
      (raw: RawEvent) => {
        raw.region = 'Ireland';
      },
      'region: must be an AWS region like eu-west-1',
    ],
    [
      'a bad detail.awsRegion',
      (raw: RawEvent) => {
        raw.detail.awsRegion = 'eu-west';
      },
      'detail.awsRegion: must be an AWS region like eu-west-1',
    ],
    [
      'a bad account',
      (raw: RawEvent) => {
        raw.account = '12345678901';
      },
      'account: must be a 12-digit account id',
    ],
    [
      'a bad recipientAccountId',
      (raw: RawEvent) => {
        raw.detail.recipientAccountId = 'abc';
      },
      'detail.recipientAccountId: must be a 12-digit account id',
    ],
    [
      'a detail-type not from CloudTrail',
      (raw: RawEvent) => {
        raw['detail-type'] = 'Scheduled Event';
      },
      'detail-type: must be a CloudTrail detail-type (… via CloudTrail)',
    ],
    [
      'a source that is no AWS service',
      (raw: RawEvent) => {
        raw.source = 'custom.app';
      },
      'source: must be an AWS service source like aws.logs',
    ],
    [
      'requestParameters as a string',
      (raw: RawEvent) => {
        raw.detail.requestParameters = 'logGroupName=/x';
      },
      'detail.requestParameters: expected record, got a string',
    ],
    [
      'requestParameters as an array',
      (raw: RawEvent) => {
        raw.detail.requestParameters = ['/x'];
      },
      'detail.requestParameters: expected record, got an array',
    ],
    [
      'a missing userIdentity',
      (raw: RawEvent) => {
        Reflect.deleteProperty(raw.detail, 'userIdentity');
      },
      'detail.userIdentity: missing (expected object)',
    ],
    [
      'an empty eventID',
      (raw: RawEvent) => {
        raw.detail.eventID = '';
      },
      'detail.eventID:',
    ],
  ])('rejects %s, naming the path', (_label, change, problem) => {
    // Act
    const error = parseError(changed(change));

    // Assess
    expect(error.message).toContain(`not a CloudTrail event: ${problem}`);
    expect(error.cause).toBeDefined();
  });

  it('accepts requestParameters null (sign-in events carry none)', () => {
    // Act
    const event = parseCloudTrailEvent(changed((raw) => (raw.detail.requestParameters = null)));

    // Assess
    expect(event.detail.requestParameters).toBeNull();
  });

  it('lists at most five problems and counts the rest', () => {
    // Prepare
    const raw = changed((r) => {
      for (const field of ['version', 'id', 'source', 'account', 'time', 'region', 'resources']) r[field] = 1;
    });

    // Act
    const error = parseError(raw);

    // Assess
    expect(error.message.split('; ')).toHaveLength(5);
    expect(error.message).toMatch(/\(\+2 more\)$/);
  });
});

describe('requireStringParameter', () => {
  it('returns the named string parameter', () => {
    // Prepare
    const event = sample('logs-CreateLogGroup-plain');

    // Act
    const name = requireStringParameter(event, 'logGroupName');

    // Assess
    expect(name).toBe('/app/payments-api/prod');
  });

  it.each([
    ['absent', undefined, 'got nothing'],
    ['empty', '', 'got an empty string'],
    ['a number', 7, 'got a number'],
    ['null', null, 'got null'],
    ['an object', { name: 'x' }, 'got an object'],
  ])('throws MalformedEventError when the parameter is %s', (_label, value, got) => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      if (value === undefined) Reflect.deleteProperty(params(raw), 'logGroupName');
      else params(raw).logGroupName = value;
    });

    // Act
    const act = () => requireStringParameter(event, 'logGroupName');

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow(
      `CreateLogGroup event e0d2b6a1-0001-4a3b-8c2d-000000000001: detail.requestParameters.logGroupName must be a non-empty string, ${got}`,
    );
  });

  it('throws MalformedEventError when the event has no requestParameters at all', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      raw.detail.requestParameters = null;
    });

    // Act
    const act = () => requireStringParameter(event, 'logGroupName');

    // Assess
    expect(act).toThrow(/detail\.requestParameters\.logGroupName must be a non-empty string, got nothing/);
  });
});
