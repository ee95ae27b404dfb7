/**
 * Faults and duplicates: 1,000 CreateLogGroup events, each delivered twice, through the log-group guard's handler
 * with Lambda's async semantics (3 attempts, then the dead-letter queue), while 20% of the engine's AWS calls are
 * throttled and 5% fail with a server error (injected under the SDK's retries, seeded so runs are repeatable).
 * Nothing may be lost and no notice may be sent twice.
 */

import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lib/aws.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { logGroupGuard } from '../../lib/guards/log-group-guard.js';
import { createGuardHandler } from '../../lib/handler.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { lambdaContext } from '../../scripts/replay.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const EVENTS = Number(process.env.FAULT_TEST_EVENTS ?? 1000);
const THROTTLE_RATE = 0.2;
const SERVER_ERROR_RATE = 0.05;
const LAMBDA_ATTEMPTS = 3;
const CONCURRENCY = 16;

/** mulberry32: a small seeded PRNG, so that a fault pattern can be replayed exactly. */
function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const injected = { throttles: 0, serverErrors: 0 };

/** The engine's clients, with faults thrown inside the SDK's retry loop (each attempt may fail) and fast backoff. */
function faultyClients(random: () => number): AwsClients {
  const base = createAwsClients({ retryStrategy: new ConfiguredRetryStrategy(5, () => 2) });
  const done = new WeakSet<object>();
  return {
    client(Class, region) {
      const client = base.client(Class, region) as unknown as {
        middlewareStack: { add(middleware: unknown, options: unknown): void };
      };
      if (!done.has(client)) {
        done.add(client);
        client.middlewareStack.add(
          (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
            const roll = random();
            if (roll < THROTTLE_RATE) {
              injected.throttles += 1;
              throw Object.assign(new Error('Rate exceeded'), {
                name: 'ThrottlingException',
                $fault: 'client',
                $metadata: { httpStatusCode: 400 },
                $retryable: { throttling: true },
              });
            }
            if (roll < THROTTLE_RATE + SERVER_ERROR_RATE) {
              injected.serverErrors += 1;
              throw Object.assign(new Error('We encountered an internal error'), {
                name: 'InternalFailure',
                $fault: 'server',
                $metadata: { httpStatusCode: 500 },
              });
            }
            return next(args);
          },
          { step: 'finalizeRequest', priority: 'low', name: 'faultInjector' },
        );
      }
      return client as never;
    },
  };
}

function eventFor(index: number): CloudTrailEvent {
  const sample = JSON.parse(readFileSync('events/logs-CreateLogGroup-plain.json', 'utf8')) as CloudTrailEvent;
  return {
    ...sample,
    id: `fault-${index}`,
    detail: {
      ...sample.detail,
      eventID: `fault-test-event-${index}`,
      requestParameters: { logGroupName: `/faults/service-${String(index).padStart(4, '0')}` },
    },
  };
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

describe('faults and duplicates', () => {
  const logs = () => new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'eu-west-1'));
  const events = Array.from({ length: EVENTS }, (_, index) => eventFor(index));

  beforeAll(async () => {
    await freshEngine();
    await pool(events, 8, async (event) => {
      await logs().send(
        new CreateLogGroupCommand({ logGroupName: String(event.detail.requestParameters?.logGroupName) }),
      );
    });
  }, 120_000);

  it(`loses nothing and sends no notice twice: ${EVENTS} events, each delivered twice, 20% throttled and 5% 5xx`, async () => {
    const random = seeded(20261122);
    const handler = createGuardHandler(logGroupGuard, {
      settings: loadSettings(),
      aws: faultyClients(random),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const deadLetters = new Set<string>();
    const deadLetterReasons = new Map<string, number>();
    const context = lambdaContext(events[0] as CloudTrailEvent, '123456789012', 'driftguard-dev-logGroupGuard');
    /** Lambda's async invocation: up to 3 attempts, then the dead-letter queue. */
    const deliver = async (event: CloudTrailEvent) => {
      for (let attempt = 1; attempt <= LAMBDA_ATTEMPTS; attempt++) {
        try {
          await handler(event, context);
          return;
        } catch (error) {
          if (attempt === LAMBDA_ATTEMPTS) {
            const name = (error as Error).name;
            deadLetterReasons.set(name, (deadLetterReasons.get(name) ?? 0) + 1);
          }
          await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
        }
      }
      deadLetters.add(event.detail.eventID);
    };
    const started = Date.now();
    // At least once, out of order: every event once, then every event again, shuffled.
    await pool(events, CONCURRENCY, deliver);
    const again = [...events].sort(() => random() - 0.5);
    await pool(again, CONCURRENCY, deliver);
    const seconds = (Date.now() - started) / 1000;

    const compliant = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/faults/', nextToken }));
      for (const group of page.logGroups ?? []) {
        if (group.kmsKeyId && group.retentionInDays === 365) compliant.add(String(group.logGroupName));
      }
      nextToken = page.nextToken;
    } while (nextToken);
    const notices = await readNotices();
    const perEventOutcome = new Map<string, number>();
    for (const notice of notices) {
      const document = notice.document as { event: { id: string }; outcome: string };
      const key = `${document.event.id}#${document.outcome}`;
      perEventOutcome.set(key, (perEventOutcome.get(key) ?? 0) + 1);
    }
    const duplicates = [...perEventOutcome.values()].filter((count) => count > 1).length;
    const noticed = new Set(notices.map((n) => (n.document as { event: { id: string } }).event.id));
    const lost = events.filter((event) => {
      const name = String(event.detail.requestParameters?.logGroupName);
      const id = event.detail.eventID;
      return !deadLetters.has(id) && (!compliant.has(name) || !noticed.has(id));
    }).length;

    console.log(
      `fault test: ${EVENTS} events x 2 deliveries in ${seconds.toFixed(1)} s; injected ${injected.throttles} throttles and ${injected.serverErrors} server errors; ` +
        `remediated ${compliant.size}, dead-lettered ${deadLetters.size} (${[...deadLetterReasons].map(([n, c]) => `${c} ${n}`).join(', ')}), lost ${lost}, duplicate notices ${duplicates}, notices ${notices.length}`,
    );
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(compliant.size + deadLetters.size).toBeGreaterThanOrEqual(EVENTS);
  }, 600_000);
});
