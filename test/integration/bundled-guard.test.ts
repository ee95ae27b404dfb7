/**
 * The bundles as scripts/build.ts makes them (SDK transforms and stand-ins of scripts/bundle-plugins.ts included),
 * built into a temporary folder and imported here: the log-group guard's handler remediates, answers a repeated
 * event from the state table's conditional-check failure without a second write, and reads an AWS error by name;
 * the activity guard's built handler links a trail and keeps the record that makes its baseline follow.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudTrailClient, GetTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { parseCloudTrailEvent } from '../../lib/envelope.js';
import type { HandledEvent } from '../../lib/pipeline.js';
import { loadSettings } from '../../lib/settings.js';
import { TrailBaselineStore } from '../../lib/trail-baselines.js';
import { buildAll } from '../../scripts/build.js';
import { EMULATOR_ACCOUNT_ID, emulatorRequests, resetEmulatorRequests } from '../../scripts/emulator/launcher.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { lambdaContext } from '../../scripts/replay.js';
import {
  ACCOUNT as ACTIVITY_ACCOUNT,
  REGION as ACTIVITY_REGION,
  config as activityConfig,
  activityTrail,
} from '../support/activity.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../support/emulator.js';

const GROUP = '/app/payments-api/prod';
const EVENT = JSON.parse(readFileSync('events/logs-CreateLogGroup-plain.json', 'utf8'));
const CONTEXT = lambdaContext(EVENT, EMULATOR_ACCOUNT_ID, 'driftguard-dev-log-group-guard') as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<HandledEvent>;

let buildDir = '';
let coldStarts = 0;

/** A cold start of the built guard: a fresh module instance, which reads the settings in the environment now. */
async function coldStart(guard = 'log-group-guard'): Promise<Handler> {
  coldStarts += 1;
  const url = `${pathToFileURL(join(buildDir, guard, 'index.mjs')).href}?cold=${coldStarts}`;
  const module = (await import(/* @vite-ignore */ url)) as { handler: Handler };
  return module.handler;
}

/** The AWS calls the emulator served while `run` ran, by "service:Operation". */
async function servedDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
  await resetEmulatorRequests(testEndpoint());
  await run();
  return (await emulatorRequests(testEndpoint())).calls;
}

async function createGroup() {
  await new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'eu-west-1')).send(
    new CreateLogGroupCommand({ logGroupName: GROUP }),
  );
}

/**
 * The emulator behind a proxy that answers the first `times` requests of one JSON operation (X-Amz-Target) with
 * the service's throttling error, as AWS does (the emulator cannot throttle); it counts that operation's requests.
 */
async function throttlingProxy(target: string, times: number) {
  let seen = 0;
  const upstream = new URL(testEndpoint());
  const server = createServer((incoming, answer) => {
    if (incoming.headers['x-amz-target'] === target && ++seen <= times) {
      incoming.resume();
      answer.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      answer.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    incoming.pipe(forwarded);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: () => seen,
    close: () => new Promise((closed) => server.close(closed)),
  };
}

describe('the built log-group guard', () => {
  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'driftguard-bundles-'));
    await buildAll(process.cwd(), buildDir);
  }, 60_000);

  it('carries the stand-ins of scripts/bundle-plugins.ts', () => {
    const code = readFileSync(join(buildDir, 'log-group-guard', 'index.mjs'), 'utf8');
    expect(code).toContain('event streams are not bundled in driftguard functions');
    expect(code).toContain("driftguard's bundled logger");
  });

  it('remediates a new group, then answers the same event again with no second write or notice', async () => {
    await freshEngine();
    await createGroup();
    const handler = await coldStart();
    const first = await handler(EVENT, CONTEXT);
    expect(first).toMatchObject({ outcome: 'remediated', rule: 'log-group-encryption-retention' });
    const group = await describeGroup(GROUP);
    expect(group?.retentionInDays).toBe(365);
    expect(group?.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:/);
    expect((await readNotices()).map((notice) => notice.attributes.outcome)).toEqual(['remediated']);

    // The ledger's conditional claim fails (ConditionalCheckFailedException, read with the stored Item): the first
    // result is returned; the resource may be read again, but nothing is written and no notice goes out.
    let again: HandledEvent | undefined;
    const calls = await servedDuring(async () => {
      again = await handler(EVENT, CONTEXT);
    });
    expect(again).toMatchObject({ outcome: first.outcome, rule: first.rule, reason: first.reason });
    const writes = Object.keys(calls).filter((call) => !/:(Describe|Get|List)/.test(call));
    expect(writes.filter((call) => !call.startsWith('dynamodb:'))).toEqual([]);
    expect(calls['dynamodb:TransactWriteItems']).toBeUndefined();
    expect(await readNotices()).toEqual([]);
  });

  it('reads KMS NotFoundException by name: retention fixed, a human asked for the missing key', async () => {
    await freshEngine({ DRIFTGUARD_LOG_KMS_KEY: 'alias/missing-everywhere' });
    await createGroup();
    const handler = await coldStart();
    const result = await handler(EVENT, CONTEXT);
    expect(result.outcome).toBe('needs-human');
    expect(result.needsHuman[0]).toMatch(/alias\/missing-everywhere/);
    expect((await describeGroup(GROUP))?.retentionInDays).toBe(365);
    expect((await readNotices()).map((notice) => notice.attributes.outcome)).toEqual(['needs-human']);
  });

  it('retries a throttled KMS call (read by name: the SDK fallback error) and then remediates', async () => {
    await freshEngine();
    await createGroup();
    const proxy = await throttlingProxy('TrentService.DescribeKey', 1);
    process.env.AWS_ENDPOINT_URL = proxy.url;
    try {
      const handler = await coldStart();
      const result = await handler(EVENT, CONTEXT);
      expect(result.outcome).toBe('remediated');
      expect(proxy.seen()).toBeGreaterThanOrEqual(2);
    } finally {
      process.env.AWS_ENDPOINT_URL = testEndpoint();
      await proxy.close();
    }
  });

  it('names an SNS query error as the SDK does (code NotFound: NotFoundException) when the notice cannot go out', async () => {
    await freshEngine({ DRIFTGUARD_NOTICE_TOPIC_ARN: `arn:aws:sns:us-east-1:${EMULATOR_ACCOUNT_ID}:driftguard-gone` });
    await createGroup();
    const handler = await coldStart();
    const failed = await handler(EVENT, CONTEXT).catch((error: Error & { result?: HandledEvent }) => error);
    expect(failed).toMatchObject({ name: 'RemediationFailedError' });
    expect((failed as { result?: HandledEvent }).result?.notice?.error).toMatch(/^NotFoundException: /);
  });

  it('refuses a malformed envelope with the message zod gives from source', async () => {
    const handler = await coldStart();
    const malformed = structuredClone(EVENT);
    delete malformed.detail.eventID;
    malformed.detail.awsRegion = 7;
    const fromSource = (() => {
      try {
        parseCloudTrailEvent(malformed);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(fromSource).toMatch(/detail\.awsRegion: expected string, got a number; detail\.eventID: missing/);
    await expect(handler(malformed, CONTEXT)).rejects.toMatchObject({
      name: 'MalformedEventError',
      message: fromSource,
    });
  });
});

describe('the built activity guard', () => {
  const STACK_GROUP = '/driftguard/activity';

  it('links a trail that delivers to no log group, and keeps the trail baseline following the link', async () => {
    // The record the link makes (the trail's baseline follows) is kept by a module this bundle must load itself.
    await freshEngine({
      DRIFTGUARD_ACTIVITY_LOG_GROUP: STACK_GROUP,
      DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: `arn:aws:iam::${ACTIVITY_ACCOUNT}:role/driftguard-activity-delivery`,
    });
    await activityTrail('unlinked-trail', null);
    await new CloudWatchLogsClient(activityConfig()).send(new CreateLogGroupCommand({ logGroupName: STACK_GROUP }));
    const event = JSON.parse(readFileSync('events/logs-DeleteMetricFilter-activity.json', 'utf8'));
    event.detail.requestParameters.logGroupName = STACK_GROUP;
    const handler = await coldStart('activity-guard');

    const result = await handler(
      event,
      lambdaContext(event, EMULATOR_ACCOUNT_ID, 'driftguard-dev-activity-guard') as unknown as Context,
    );

    expect(result).toMatchObject({ outcome: 'remediated', rule: 'activity-alarms' });
    const linked = `arn:aws:logs:${ACTIVITY_REGION}:${ACTIVITY_ACCOUNT}:log-group:${STACK_GROUP}:*`;
    const { Trail } = await new CloudTrailClient(activityConfig()).send(
      new GetTrailCommand({ Name: 'unlinked-trail' }),
    );
    expect(Trail?.CloudWatchLogsLogGroupArn).toBe(linked);
    const baseline = await new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(
      String(Trail?.TrailARN),
    );
    expect(baseline?.config.cloudWatchLogsLogGroupArn).toBe(linked);
  });
});
