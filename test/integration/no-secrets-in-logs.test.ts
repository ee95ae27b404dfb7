/**
 * Request parameters that can carry policy documents or credentials are never logged raw: a key policy, a tag value
 * or a policy inside a malformed event must not appear in the engine's log lines (verbose replay: the Lambda logger).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runReplay } from '../../scripts/replay.js';
import { freshEngine, testEndpoint } from '../support/emulator.js';

const SECRET = 'AKIAEXAMPLESECRET0123456789verysecret';

type Change = (event: { detail: { eventID: string; requestParameters: Record<string, unknown> } }) => void;

describe('the engine’s logs', () => {
  const lines: string[] = [];
  beforeEach(async () => {
    await freshEngine();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    lines.length = 0;
  });

  it.each<[string, string, Change]>([
    [
      'a key policy document',
      'kms-PutKeyPolicy-drops-logs-statement',
      (e) => {
        const policy = JSON.parse(String(e.detail.requestParameters.policy));
        policy.Statement[1].Sid = SECRET;
        e.detail.requestParameters.policy = JSON.stringify(policy);
      },
    ],
    ['a tag value', 'logs-CreateLogGroup-plain', (e) => (e.detail.requestParameters.tags = { token: SECRET })],
    [
      'a policy inside a malformed event',
      'logs-CreateLogGroup-plain',
      (e) => (e.detail.requestParameters = { policy: JSON.stringify({ Sid: SECRET }) }),
    ],
  ])('never contain %s', async (_label, file, change) => {
    const event = JSON.parse(readFileSync(`events/${file}.json`, 'utf8'));
    event.detail.eventID = `${event.detail.eventID}-secrets`;
    change(event);
    const path = join(mkdtempSync(join(tmpdir(), 'driftguard-')), `${file}.json`);
    writeFileSync(path, JSON.stringify(event));
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        lines.push(String(chunk));
        return true;
      });
    }
    await runReplay({
      files: [path],
      endpoint: testEndpoint(),
      reenact: true,
      verbose: true,
      print: () => undefined,
    }).catch((error: Error) => lines.push(error.message));
    vi.restoreAllMocks();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(SECRET.slice(0, 20));
  });
});
