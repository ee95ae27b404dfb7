/**
 * Attack: the event's record (lib/event-ledger.ts) answers a repeated event from what was stored, with no write to the
 * resource. Two ways to make it answer for a drift it never saw: a record that shares a handled event's id but says
 * something else (AWS's documentation has such a pair), and a delivery sent while an attempt holds the event. The
 * first is handled on its own (its record key digests what it says) and its group fixed; the second makes no write
 * and is retried (Lambda's retry finds the event done, or released).
 */
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { EventInProgressError, EventLedger } from '../../../lib/event-ledger.js';
import { logGroupGuard } from '../../../lib/guards/log-group-guard.js';
import { recordKey } from '../../../lib/record-key.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  guardHandler,
  outsideStateTable,
  reenacted,
  sampleEvent,
  writeCalls,
} from '../../support/handler-harness.js';

const noticeGroups = async () => (await readNotices()).map((notice) => (notice.document.resource as { id: string }).id);

describe('the event record cannot be made to answer for a drift it never saw', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('handles a record that shares a handled event’s id but names another group', async () => {
    // Prepare: the first record handled; a second, plain group named by a record under the same event id.
    const first = await reenacted(sampleEvent('logs-CreateLogGroup-plain'));
    const recorder = new CallRecorder();
    const handler = guardHandler(logGroupGuard, recorder);
    expect((await handler(first, contextFor(logGroupGuard, first))).outcome).toBe('remediated');
    const other = '/attack/same-event-id';
    await new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), first.detail.awsRegion)).send(
      new CreateLogGroupCommand({ logGroupName: other }),
    );
    const second: CloudTrailEvent = {
      ...first,
      detail: { ...first.detail, requestParameters: { logGroupName: other } },
    };

    // Act
    const result = await handler(second, contextFor(logGroupGuard, second));

    // Assess
    expect(result.outcome).toBe('remediated');
    expect(result.resource?.id).toBe(other);
    const group = await describeGroup(other, second.detail.awsRegion);
    expect(group?.kmsKeyId).toMatch(/^arn:aws:kms:/);
    expect(group?.retentionInDays).toBe(365);
    expect(await noticeGroups()).toEqual([first.detail.requestParameters?.logGroupName, other]);
  });

  it('makes no write for a delivery sent while another attempt holds the event, and handles it once released', async () => {
    // Prepare: an attempt holds the event (as a concurrent delivery would).
    const event = await reenacted(sampleEvent('logs-CreateLogGroup-plain'));
    const settings = loadSettings();
    const recorder = new CallRecorder();
    const ledger = new EventLedger(recorder.aws, String(settings.stateTable), logGroupGuard.file);
    const claim = await ledger.claim(recordKey(event), Date.now() + 60_000);
    const handler = guardHandler(logGroupGuard, recorder, settings);
    const mark = recorder.calls.length;

    // Act
    const held = handler(event, contextFor(logGroupGuard, event));

    // Assess: refused before any write to the group (its claim follows the reads), and nothing notified.
    await expect(held).rejects.toBeInstanceOf(EventInProgressError);
    expect(writeCalls(outsideStateTable(recorder.since(mark)))).toEqual([]);
    const group = await describeGroup(String(event.detail.requestParameters?.logGroupName), event.detail.awsRegion);
    expect(group?.logGroupName).toBe(event.detail.requestParameters?.logGroupName);
    expect([group?.kmsKeyId, group?.retentionInDays]).toEqual([undefined, undefined]);
    expect(await readNotices()).toEqual([]);

    // The holder released it (its attempt failed): the retry handles the event, once.
    if (claim.kind === 'claimed') await ledger.release(recordKey(event), claim.lock);
    expect((await handler(event, contextFor(logGroupGuard, event))).outcome).toBe('remediated');
    expect((await handler(event, contextFor(logGroupGuard, event))).outcome).toBe('remediated');
    expect(await noticeGroups()).toEqual([event.detail.requestParameters?.logGroupName]);
  });
});
