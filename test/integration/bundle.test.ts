/**
 * The artifacts Lambda runs: each esbuild bundle, loaded in a fresh node process with only environment credentials
 * (as Lambda gives them), handles a sample event against the emulator.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAll } from '../../scripts/build.js';
import { EMULATOR_ACCOUNT_ID } from '../../scripts/emulator/launcher.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { invocationContext, lambdaContext } from '../../scripts/replay.js';
import { describeGroup, freshEngine, testEndpoint } from '../support/emulator.js';

// The context's data crosses as JSON; its methods are given back on the other side.
const INVOKE = `
const { handler } = await import(process.argv[1]);
const event = JSON.parse(process.argv[2]);
const context = { ...JSON.parse(process.argv[3]), getRemainingTimeInMillis: () => 60000 };
process.stdout.write(JSON.stringify(await handler(event, context)));
`;

function invokeBundle(
  file: string,
  event: string,
  env: Record<string, string>,
  context: object = lambdaContext(JSON.parse(event), EMULATOR_ACCOUNT_ID, `driftguard-dev-${file}`),
): Record<string, unknown> {
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', INVOKE, resolve(`.build/${file}/index.mjs`), event, JSON.stringify(context)],
    {
      // Only what Lambda would give: no shared config files, credentials in the environment.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: '/nonexistent',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return JSON.parse(output) as Record<string, unknown>;
}

describe('the bundled handlers', () => {
  beforeAll(async () => {
    await buildAll();
  }, 60_000);

  it('log-group-guard remediates a new log group from environment credentials only', async () => {
    const settings = await freshEngine();
    await new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'eu-west-1')).send(
      new CreateLogGroupCommand({ logGroupName: '/app/payments-api/prod' }),
    );
    const result = invokeBundle('log-group-guard', readFileSync('events/logs-CreateLogGroup-plain.json', 'utf8'), {
      ...settings,
      AWS_ENDPOINT_URL: testEndpoint(),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      // The function's own region: where the stack's state table is.
      AWS_REGION: 'us-east-1',
    });
    expect(result).toMatchObject({ outcome: 'remediated', rule: 'log-group-encryption-retention' });
    expect((await describeGroup('/app/payments-api/prod'))?.retentionInDays).toBe(365);
  });

  it('backup exports a settled day of a log group on its daily schedule', async () => {
    const settings = await freshEngine();
    const logs = new CloudWatchLogsClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/orders' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/app/orders', logStreamName: 'app' }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/app/orders',
        logStreamName: 'app',
        // The day before yesterday: settled (DRIFTGUARD_BACKUP_SETTLE_HOURS, default 24) at any time of day.
        logEvents: [{ timestamp: Date.now() - 2 * 86_400_000, message: 'order 7' }],
      }),
    );
    const env = {
      ...settings,
      DRIFTGUARD_BACKUP_SINCE_DAYS: '2',
      AWS_ENDPOINT_URL: testEndpoint(),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_REGION: 'us-east-1',
    };
    const context = invocationContext('driftguard-dev-backup', { account: EMULATOR_ACCOUNT_ID });
    expect(invokeBundle('backup', '{"continue":false}', env, context)).toMatchObject({
      complete: true,
      exportedDays: 1,
    });
    expect(invokeBundle('backup', '{"continue":true}', env, context)).toEqual({ continued: false });
  });

  it('trail-guard answers a malformed event with an error that names the field', async () => {
    const event = JSON.parse(readFileSync('events/cloudtrail-StopLogging.json', 'utf8'));
    delete event.detail.requestParameters.name;
    expect(() =>
      invokeBundle('trail-guard', JSON.stringify(event), {
        AWS_ENDPOINT_URL: testEndpoint(),
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'eu-west-1',
      }),
    ).toThrow(/MalformedEventError.*detail\.requestParameters\.name must be a non-empty string/);
  });
});
