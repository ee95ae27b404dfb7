/**
 * A corpus of malformed and unusual events through every guard's Lambda handler and through the replay CLI: each
 * gives a clear error (or a clear outcome), no AWS write, and no crash.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { awsCallCounter } from '../../lib/aws.js';
import { MalformedEventError, parseCloudTrailEvent } from '../../lib/envelope.js';
import { createGuardHandler } from '../../lib/handler.js';
import { findRule } from '../../lib/pipeline.js';
import { GUARDS } from '../../lib/registry.js';
import { lambdaContext, main } from '../../scripts/replay.js';
import { freshEngine, testEndpoint } from '../support/emulator.js';

// biome-ignore lint/suspicious/noExplicitAny: events are broken on purpose
type Json = Record<string, any>;

const sample = (name: string): Json => JSON.parse(readFileSync(`events/${name}.json`, 'utf8'));
const BASES: Record<string, Json> = {
  logs: sample('logs-CreateLogGroup-plain'),
  trail: sample('cloudtrail-StopLogging'),
  kms: sample('kms-DisableKey'),
  mfa: sample('iam-DeactivateMFADevice-iam-user'),
};
const long = (n: number, c = 'a') => c.repeat(n);

let copies = 0;

/** A copy of a sample, changed, under an event id of its own (a repeated id would be a repeated delivery). */
function broken(base: Json, change: (event: Json) => void): Json {
  const event = structuredClone(base);
  copies += 1;
  event.detail.eventID = `${event.detail.eventID}-bad-${copies}`;
  change(event);
  return event;
}

/** [label, input, what the engine should do] — 'error' (MalformedEventError) or 'handled' (a clear outcome). */
const CORPUS: [string, unknown, 'error' | 'handled'][] = [
  ['null', null, 'error'],
  ['an array', [], 'error'],
  ['a string', 'CreateLogGroup', 'error'],
  ['a number', 42, 'error'],
  ['an empty object', {}, 'error'],
  ['no detail', broken(BASES.logs as Json, (e) => delete e.detail), 'error'],
  ['detail null', broken(BASES.logs as Json, (e) => (e.detail = null)), 'error'],
  ['eventName a number', broken(BASES.logs as Json, (e) => (e.detail.eventName = 7)), 'error'],
  ['userIdentity a string', broken(BASES.logs as Json, (e) => (e.detail.userIdentity = 'alice')), 'error'],
  [
    'a detail-type that is not CloudTrail',
    broken(BASES.logs as Json, (e) => (e['detail-type'] = 'Scheduled Event')),
    'error',
  ],
  ['an account of 11 digits', broken(BASES.logs as Json, (e) => (e.account = '12345678901')), 'error'],
  ['a region that is not one', broken(BASES.logs as Json, (e) => (e.detail.awsRegion = 'moon-base-1')), 'error'],
  ['an eventID of 10,000 characters', broken(BASES.logs as Json, (e) => (e.detail.eventID = long(10_000))), 'error'],
  [
    'an eventName of 1,000 characters',
    broken(BASES.logs as Json, (e) => (e.detail.eventName = long(1000, 'A'))),
    'error',
  ],
  ...Object.entries(BASES).flatMap(([guard, base]): [string, unknown, 'error' | 'handled'][] => [
    [
      `${guard}: requestParameters null`,
      broken(base, (e) => (e.detail.requestParameters = null)),
      guard === 'kms' ? 'handled' : 'error',
    ],
    [`${guard}: requestParameters a list`, broken(base, (e) => (e.detail.requestParameters = ['x'])), 'error'],
  ]),
  [
    'logs: logGroupName a number',
    broken(BASES.logs as Json, (e) => (e.detail.requestParameters.logGroupName = 5)),
    'error',
  ],
  [
    'logs: a 600-character group name',
    broken(BASES.logs as Json, (e) => (e.detail.requestParameters.logGroupName = `/${long(599)}`)),
    'error',
  ],
  [
    'logs: emoji in the group name',
    broken(BASES.logs as Json, (e) => (e.detail.requestParameters.logGroupName = '/app/🔥/prod')),
    'error',
  ],
  [
    'logs: right-to-left override and NUL',
    broken(BASES.logs as Json, (e) => (e.detail.requestParameters.logGroupName = '/app/\u202Eevil\u0000')),
    'error',
  ],
  [
    'trail: a name object',
    broken(BASES.trail as Json, (e) => (e.detail.requestParameters.name = { name: 'x' })),
    'error',
  ],
  [
    'trail: a 200-character name',
    broken(BASES.trail as Json, (e) => (e.detail.requestParameters.name = long(200))),
    'error',
  ],
  [
    'kms: a key id number',
    broken(BASES.kms as Json, (e) => {
      e.detail.resources = [];
      e.detail.requestParameters.keyId = 12;
    }),
    'handled',
  ],
  [
    'kms: a key id of 300 characters',
    broken(BASES.kms as Json, (e) => {
      e.detail.resources = [];
      e.detail.requestParameters.keyId = long(300);
    }),
    'error',
  ],
  ['mfa: a user name list', broken(BASES.mfa as Json, (e) => (e.detail.requestParameters.userName = ['bob'])), 'error'],
  [
    'mfa: a 100-character user name',
    broken(BASES.mfa as Json, (e) => (e.detail.requestParameters.userName = long(100))),
    'error',
  ],
  ['an unknown event name', broken(BASES.logs as Json, (e) => (e.detail.eventName = 'CreateBucket')), 'handled'],
  [
    'a 250 KB event about a group that does not exist',
    broken(BASES.logs as Json, (e) => {
      e.detail.eventID = 'bad-input-250kb';
      e.detail.requestParameters = { logGroupName: '/app/never-created', tags: { padding: long(250 * 1024) } };
    }),
    'handled',
  ],
];

function parseable(input: unknown): boolean {
  try {
    parseCloudTrailEvent(input);
    return true;
  } catch {
    return false;
  }
}

describe('the bad-input corpus', () => {
  beforeAll(async () => {
    await freshEngine();
  });

  it('gives a clear error or outcome, no write and no crash, in every guard’s Lambda handler', async () => {
    const logger = new Logger({ logLevel: 'SILENT' });
    const handlers = GUARDS.map((guard) => ({ guard, handle: createGuardHandler(guard, { logger }) }));
    let tried = 0;
    let crashes = 0;
    const writesBefore = awsCallCounter.writes;
    for (const [label, input, expected] of CORPUS) {
      for (const { guard, handle } of handlers) {
        tried += 1;
        const outcome = await handle(
          input,
          lambdaContext(BASES.logs as never, '123456789012', `driftguard-${guard.file}`),
        ).then(
          () => 'handled',
          (error: Error) => (error instanceof MalformedEventError ? 'error' : `crash: ${error.name} ${error.message}`),
        );
        if (outcome.startsWith('crash')) crashes += 1;
        // A well-formed envelope whose request parameters are bad is an error for the guard that handles its event,
        // and an event of no rule (ignored) for the others.
        const owner = parseable(input) && guard.rules.some((rule) => findRule([rule], input as never));
        if (expected === 'error' && (owner || !parseable(input))) expect(outcome, label).toBe('error');
        else expect(outcome, label).toBe('handled');
      }
    }
    const resourceWrites = awsCallCounter.recentWrites
      .slice(-(awsCallCounter.writes - writesBefore) || awsCallCounter.recentWrites.length)
      .filter((write) => !write.startsWith('DynamoDB'));
    const writes = awsCallCounter.writes - writesBefore;
    console.log(
      `bad-input corpus (Lambda): ${tried} inputs tried, ${resourceWrites.length} resource writes, ${crashes} crashes (${writes} idempotency-table writes)`,
    );
    expect(crashes).toBe(0);
    expect(resourceWrites).toEqual([]);
  });

  it('is refused by the replay with exit 2 and one line naming the file and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftguard-bad-'));
    const files: [string, string][] = [
      ['truncated.json', readFileSync('events/logs-CreateLogGroup-plain.json', 'utf8').slice(0, 300)],
      ['empty.json', ''],
      ['binary.json', '\u0000\u0001\u0002'],
      ...CORPUS.filter(([, , expected]) => expected === 'error').map(([label, input], index): [string, string] => [
        `corpus-${index}.json`,
        JSON.stringify(input) ?? label,
      ]),
    ];
    const lines: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const writesBefore = awsCallCounter.writes;
    try {
      for (const [name, text] of files) {
        const path = join(dir, name);
        writeFileSync(path, text);
        lines.length = 0;
        const code = await main(['--endpoint', testEndpoint(), path]);
        expect(code, name).toBe(2);
        expect(lines, name).toHaveLength(1);
        expect(lines[0], name).toMatch(new RegExp(`^replay: .*${name}: `));
        expect(lines[0], name).not.toMatch(/\n\s+at /);
      }
    } finally {
      stderr.mockRestore();
    }
    expect(awsCallCounter.writes - writesBefore).toBe(0);
    console.log(`bad-input corpus (replay): ${files.length} files tried, 0 writes, 0 crashes`);
  });
});
