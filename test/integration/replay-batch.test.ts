/**
 * The replay of a batch against the emulator: an event that cannot be reenacted is replayed as it is, with a note
 * saying why; one event's failure is that event's result and never hides the others; bad input names every bad file;
 * the root user acting on an IAM user's device is reenacted on that user.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListMFADevicesCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { awsCallCounter } from '../../lib/aws.js';
import { emulatorClientConfig } from '../../scripts/emulator/client.js';
import { BadInputError, main, type ReplayOptions, runReplay } from '../../scripts/replay.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

// biome-ignore lint/suspicious/noExplicitAny: samples are changed field by field
type Json = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), 'driftguard-batch-'));
let written = 0;

/** A sample changed by `change`, under an event id of its own, written to a file of the batch. */
function eventFile(sample: string, change: (event: Json) => void = () => undefined): string {
  const event = JSON.parse(readFileSync(`events/${sample}.json`, 'utf8')) as Json;
  written += 1;
  event.detail.eventID = `${event.detail.eventID}-batch-${written}`;
  change(event);
  const file = join(dir, `${written}-${sample}.json`);
  writeFileSync(file, JSON.stringify(event));
  return file;
}

function textFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The replay as `npm run replay -- --endpoint <emulator> --json` runs it, with its JSON lines kept. */
async function replayJson(files: string[], options: Partial<ReplayOptions> = { reenact: true }) {
  const lines: Json[] = [];
  const report = await runReplay({
    files,
    endpoint: testEndpoint(),
    json: true,
    print: (line) => lines.push(JSON.parse(line) as Json),
    ...options,
  });
  return { report, lines };
}

const iam = () => new IAMClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));

/** A hardware MFA token: a serial number, not a device ARN; the emulator has only virtual devices to reenact with. */
const hardwareTokenDeactivated = (event: Json) => {
  event.detail.requestParameters.serialNumber = 'GAHT12345678';
};

/** A console sign-in by a role session (federation), as CloudTrail records it: no IAM user behind it. */
const assumedRoleSignIn = (event: Json) => {
  event.detail.userIdentity = {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEROLEID0002:carol@example.com',
    arn: 'arn:aws:sts::123456789012:assumed-role/Admin/carol@example.com',
    accountId: '123456789012',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEROLEID0002',
        arn: 'arn:aws:iam::123456789012:role/Admin',
        accountId: '123456789012',
        userName: 'Admin',
      },
      attributes: { creationDate: '2026-11-21T09:00:00Z', mfaAuthenticated: 'false' },
    },
  };
};

describe('--reenact on a batch', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('replays an event it cannot reenact as it is, with a note saying why, and runs the rest of the batch', async () => {
    const files = [
      eventFile('logs-CreateLogGroup-plain'),
      eventFile('iam-DeactivateMFADevice-iam-user', hardwareTokenDeactivated),
      eventFile('signin-ConsoleLogin-no-MFA-iam-user'),
    ];
    const { report, lines } = await replayJson(files);

    expect(lines.map((line) => line.file)).toEqual(files);
    expect(report.items.map((item) => item.file)).toEqual(files);
    const [before, unreenacted, after] = report.items;
    expect(before?.result.outcome).toBe('remediated');
    expect(before?.notes).toContainEqual(expect.stringMatching(/^reenacted CreateLogGroup in /));
    // What was made before the reenactment stopped is said too: the guard reads that present state.
    expect(unreenacted?.notes.at(-1)).toBe(
      'not reenacted, replayed as it is: GAHT12345678 is not a virtual MFA device ARN to reenact',
    );
    expect(unreenacted?.result).toMatchObject({ eventName: 'DeactivateMFADevice', outcome: 'remediated' });
    expect(unreenacted?.result.reason).toMatch(/^bob has no MFA device/);
    expect(after?.notes).toContainEqual(expect.stringMatching(/^reenacted ConsoleLogin in /));
    expect(after?.result.outcome).toBe('remediated');
    expect(report.exitCode).toBe(0);
  });

  it('replays a console sign-in by a role session, noting that there is no IAM user to create', async () => {
    const files = [eventFile('signin-ConsoleLogin-no-MFA-iam-user', assumedRoleSignIn)];
    const { report, lines } = await replayJson(files);

    expect(report.exitCode).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.outcome).toBe('ignored');
    expect(lines[0]?.reason).toMatch(/AssumedRole sign-in: MFA is the identity provider's to enforce/);
    expect(lines[0]?.notes[0]).toBe('nothing created: an AssumedRole sign-in has no IAM user behind it to create');
    expect(await readNotices()).toEqual([]);
  });
});

describe('--reenact of the root user acting on an IAM user’s device', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each([
    ['the user named', { userName: 'user1', serialNumber: 'arn:aws:iam::123456789012:mfa/user1' }],
    ['the device’s owner, with no user named', { serialNumber: 'arn:aws:iam::123456789012:mfa/user1' }],
  ])('reenacts the call on %s', async (_case, requestParameters) => {
    const file = eventFile('iam-DeactivateMFADevice-root', (event) => {
      event.detail.requestParameters = requestParameters;
    });
    const { report } = await replayJson([file]);

    const notes = report.items[0]?.notes ?? [];
    expect(notes).toContainEqual(expect.stringMatching(/^created for IAM user user1: the user, a console password/));
    expect(notes).toContain('enabled arn:aws:iam::123456789012:mfa/user1 for user1');
    expect(notes).toContainEqual(expect.stringMatching(/^reenacted DeactivateMFADevice in us-east-1 at /));
    const { MFADevices } = await iam().send(new ListMFADevicesCommand({ UserName: 'user1' }));
    expect(MFADevices).toEqual([]);
  });

  it('creates nothing for the root user’s own device', async () => {
    const { report } = await replayJson([eventFile('iam-DeactivateMFADevice-root')]);

    expect(report.items[0]?.notes[0]).toMatch(/^nothing created: the emulator cannot act as the root user/);
    const { Users } = await iam().send(new ListUsersCommand({}));
    expect(Users).toEqual([]);
  });
});

describe('a guard that fails on one event of a batch', () => {
  it('makes that event failed, names why, and still replays the events after it', async () => {
    // The idempotency record goes to the state table first: a table keyed otherwise fails the guard before it acts.
    const TableName = 'driftguard-table-keyed-otherwise';
    await freshEngine({ DRIFTGUARD_STATE_TABLE: TableName });
    await new DynamoDBClient(emulatorClientConfig(testEndpoint(), 'us-east-1')).send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const files = [
      eventFile('logs-PutRetentionPolicy'),
      eventFile('logs-CreateLogGroup-plain', (event) => {
        // No rule handles this call: the replay answers it without a guard.
        event.detail.eventName = 'DescribeLogGroups';
      }),
    ];
    const { report, lines } = await replayJson(files, { reenact: false });

    expect(lines.map((line) => line.file)).toEqual(files);
    const [failed, unhandled] = report.items;
    expect(failed?.result).toMatchObject({ outcome: 'failed', eventName: 'PutRetentionPolicy' });
    expect(failed?.result.reason).toMatch(/^the guard failed: \w+: .+/);
    expect(unhandled?.result).toMatchObject({
      outcome: 'ignored',
      reason: 'no rule handles aws.logs DescribeLogGroups',
    });
    expect(report.exitCode).toBe(1);
  });
});

describe('bad input in a batch', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('names every bad file with its reason, one a line, exits 2 and runs nothing', async () => {
    const good = eventFile('logs-CreateLogGroup-plain');
    const notJson = textFile('truncated.json', '{"version": "0",');
    const missing = join(dir, 'never-written.json');
    const notAnEvent = textFile('hello.json', '{"hello": "world"}');
    const stderr: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const writesBefore = awsCallCounter.writes;
    let code: number;
    try {
      code = await main(['--endpoint', testEndpoint(), '--reenact', good, notJson, missing, notAnEvent]);
    } finally {
      spy.mockRestore();
    }

    expect(code).toBe(2);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]?.split('\n')).toEqual([
      'replay: 3 of 4 files cannot be replayed:',
      expect.stringMatching(new RegExp(`^  ${notJson}: not JSON \\(.+\\)$`)),
      `  ${missing}: cannot read the file (ENOENT)`,
      expect.stringMatching(new RegExp(`^  ${notAnEvent}: not a CloudTrail event: version: missing`)),
      '',
    ]);
    expect(awsCallCounter.writes - writesBefore).toBe(0);
    expect(await readNotices()).toEqual([]);
  });

  it('gives each problem to a caller of runReplay, in the order of the files', async () => {
    const files = [textFile('empty.json', ''), eventFile('kms-DisableKey'), textFile('list.json', '[]')];
    const run = replayJson(files);
    await expect(run).rejects.toThrow(BadInputError);
    const error = (await run.catch((caught: unknown) => caught)) as BadInputError;
    expect(error.problems).toEqual([
      expect.stringMatching(new RegExp(`^${files[0]}: not JSON`)),
      `${files[2]}: not a CloudTrail event: expected a JSON object, got an array`,
    ]);
  });
});
