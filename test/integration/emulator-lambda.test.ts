/**
 * The emulator runs Node.js functions on Invoke (scripts/emulator/lambda_patches.py, lambda_runner.mjs), through the
 * SDK as a caller in AWS would: the handler's answer, its errors and time-outs as AWS shapes them, reserved
 * concurrency 0, every function-name form, the function's environment, and a function calling the emulator back.
 */
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { createZip } from '../../scripts/zip.js';
import { testEndpoint } from '../support/emulator.js';

/** A region of its own: no reset, nothing left for other files. */
const region = 'ap-southeast-2';
const account = '123456789012';
const run = Date.now().toString(36);
let lambda: LambdaClient;
let role = '';

const zip = (source: string) => createZip([{ name: 'index.mjs', data: Buffer.from(source) }]);

async function deploy(
  name: string,
  code: Uint8Array,
  extra: { Timeout?: number; Variables?: Record<string, string>; Handler?: string },
) {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: extra.Handler ?? 'index.handler',
      Role: role,
      Code: { ZipFile: code },
      Timeout: extra.Timeout ?? 3,
      MemorySize: 256,
      Environment: extra.Variables ? { Variables: extra.Variables } : undefined,
    }),
  );
}

const invoke = (FunctionName: string, payload: unknown, extra: { Qualifier?: string; LogType?: 'Tail' } = {}) =>
  lambda.send(new InvokeCommand({ FunctionName, Payload: JSON.stringify(payload), ...extra }));

const body = (output: InvokeCommandOutput): unknown => JSON.parse(Buffer.from(output.Payload ?? []).toString('utf8'));

const names = {
  echo: `echo-${run}`,
  thrower: `thrower-${run}`,
  sleeper: `sleeper-${run}`,
  spinner: `spinner-${run}`,
  caller: `caller-${run}`,
  throttled: `throttled-${run}`,
};

beforeAll(async () => {
  const endpoint = testEndpoint();
  lambda = new LambdaClient(emulatorClientConfig(endpoint, region));
  // moto's CreateFunction wants a role that exists in the account.
  const { Role } = await new IAMClient(emulatorClientConfig(endpoint, 'us-east-1')).send(
    new CreateRoleCommand({
      RoleName: `emulator-lambda-${run}`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  role = Role?.Arn ?? '';
  // The caller is bundled with its SDK client, as npm run build bundles a guard.
  const bundled = await build({
    stdin: {
      contents: `import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
export const handler = async (event) => {
  const { TopicArn } = await new SNSClient({}).send(new CreateTopicCommand({ Name: event.topic }));
  return { TopicArn, endpoint: process.env.AWS_ENDPOINT_URL };
};`,
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  await Promise.all([
    deploy(
      names.echo,
      zip(`export const handler = async (event, context) => ({
  echo: event,
  name: context.functionName,
  version: context.functionVersion,
  arn: context.invokedFunctionArn,
  memory: context.memoryLimitInMB,
  requestId: context.awsRequestId,
  group: context.logGroupName,
  left: context.getRemainingTimeInMillis(),
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'AWS_LAMBDA_LOG_STREAM_NAME' && k !== 'LAMBDA_TASK_ROOT')),
});`),
      { Variables: { MY_VAR: 'mine', AWS_REGION: 'eu-west-1' } },
    ),
    deploy(
      names.thrower,
      zip(`class GuardFailed extends Error { name = 'GuardFailed'; }
export const handler = async () => { console.log('about to fail'); throw new GuardFailed('page 3 unreadable'); };`),
      {},
    ),
    deploy(names.sleeper, zip('export const handler = () => new Promise(() => {});'), { Timeout: 1 }),
    deploy(names.spinner, zip('export const handler = () => { for (;;) {} };'), { Timeout: 1 }),
    deploy(names.caller, createZip([{ name: 'index.mjs', data: Buffer.from(bundled.outputFiles[0]?.text ?? '') }]), {}),
    deploy(names.throttled, zip('export const handler = async () => "ran";'), {}),
  ]);
  await lambda.send(
    new PutFunctionConcurrencyCommand({ FunctionName: names.throttled, ReservedConcurrentExecutions: 0 }),
  );
}, 60_000);

describe('Lambda Invoke on the emulator', () => {
  it("answers the handler's value with its context and only the function's environment", async () => {
    const event = { kind: 'driftguard.sweep-page', version: 1, pass: 'log-groups', region: 'eu-west-1' };
    const output = await invoke(names.echo, event);
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    const answer = body(output) as Record<string, unknown>;
    expect(answer).toMatchObject({
      echo: event,
      name: names.echo,
      version: '$LATEST',
      arn: `arn:aws:lambda:${region}:${account}:function:${names.echo}`,
      memory: '256',
      group: `/aws/lambda/${names.echo}`,
    });
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.left).toBeGreaterThan(2000);
    expect(answer.left).toBeLessThanOrEqual(3000);
    expect(answer.env).toEqual({
      MY_VAR: 'mine',
      AWS_REGION: region, // AWS's reserved variables win over the function's own
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: names.echo,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${names.echo}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      _HANDLER: 'index.handler',
      TZ: ':UTC',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_ENDPOINT_URL: testEndpoint(),
    });
  });

  it('finds the function by name, ARN and partial ARN, with or without $LATEST', async () => {
    const arn = `arn:aws:lambda:${region}:${account}:function:${names.echo}`;
    const forms = [
      names.echo,
      `${names.echo}:$LATEST`,
      arn,
      `${arn}:$LATEST`,
      `${account}:function:${names.echo}`,
      `${account}:function:${names.echo}:$LATEST`,
    ];
    const answers = await Promise.all(forms.map((form) => invoke(form, { form })));
    expect(answers.map((output) => (body(output) as { echo: unknown }).echo)).toEqual(forms.map((form) => ({ form })));
    const refused = await invoke(`${names.echo}:$LATEST`, {}, { Qualifier: '1' }).catch((error: Error) => error.name);
    expect(refused).toBe('InvalidParameterValueException');
    const elsewhere = await invoke(`arn:aws:lambda:eu-west-1:${account}:function:${names.echo}`, {}).catch(
      (error: Error) => error.name,
    );
    expect(elsewhere).toBe('ResourceNotFoundException');
    const notJson = await lambda
      .send(new InvokeCommand({ FunctionName: names.echo, Payload: Buffer.from('{"kind":') }))
      .catch((error: Error) => `${error.name}: ${error.message}`);
    expect(notJson).toMatch(/^InvalidRequestContentException: Could not parse request body into json: /);
  });

  it('runs the version a qualifier or alias names, and tells the handler the ARN it was invoked by', async () => {
    const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName: names.echo }));
    await lambda.send(new CreateAliasCommand({ FunctionName: names.echo, Name: 'live', FunctionVersion: Version }));
    const output = await invoke(names.echo, {}, { Qualifier: 'live' });
    expect(output.ExecutedVersion).toBe(Version);
    expect(body(output)).toMatchObject({
      version: Version,
      arn: `arn:aws:lambda:${region}:${account}:function:${names.echo}:live`,
      env: { AWS_LAMBDA_FUNCTION_VERSION: Version },
    });
  });

  it("reports a thrown error as AWS's Unhandled function error, with the logs in the tail only", async () => {
    const output = await invoke(names.thrower, {}, { LogType: 'Tail' });
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    const error = body(output) as { errorType: string; errorMessage: string; trace: string[] };
    expect(error.errorType).toBe('GuardFailed');
    expect(error.errorMessage).toBe('page 3 unreadable');
    expect(error.trace[0]).toBe('GuardFailed: page 3 unreadable');
    expect(Buffer.from(output.LogResult ?? '', 'base64').toString('utf8')).toContain('about to fail');
  });

  it("kills a function past its Timeout, awaiting or spinning, and answers AWS's Sandbox.Timedout", async () => {
    const started = Date.now();
    const outputs = await Promise.all([invoke(names.sleeper, {}), invoke(names.spinner, {})]);
    // The runner's timer (awaiting) or the emulator's a second later (spinning), not Timeout + 10 s.
    expect(Date.now() - started).toBeLessThan(6000);
    for (const output of outputs) {
      expect(output.FunctionError).toBe('Unhandled');
      const error = body(output) as { errorType: string; errorMessage: string };
      expect(error.errorType).toBe('Sandbox.Timedout');
      expect(error.errorMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    }
  });

  it("lets the function's SDK call the emulator back through AWS_ENDPOINT_URL", async () => {
    const topic = `from-lambda-${run}`;
    const answer = body(await invoke(names.caller, { topic })) as { TopicArn: string };
    expect(answer.TopicArn).toBe(`arn:aws:sns:${region}:${account}:${topic}`);
    const { Topics = [] } = await new SNSClient(emulatorClientConfig(testEndpoint(), region)).send(
      new ListTopicsCommand({}),
    );
    expect(Topics.map((t) => t.TopicArn)).toContain(answer.TopicArn);
  });

  it('runs an Event invocation in the background (202) and a DryRun not at all (204)', async () => {
    const topic = `from-event-${run}`;
    const queued = await lambda.send(
      new InvokeCommand({ FunctionName: names.caller, InvocationType: 'Event', Payload: JSON.stringify({ topic }) }),
    );
    expect(queued.StatusCode).toBe(202);
    const dry = await lambda.send(
      new InvokeCommand({ FunctionName: names.caller, InvocationType: 'DryRun', Payload: JSON.stringify({ topic }) }),
    );
    expect(dry.StatusCode).toBe(204);
    // The event runs after the answer: wait for its topic (a few hundred ms), no longer than the function's Timeout.
    const sns = new SNSClient(emulatorClientConfig(testEndpoint(), region));
    const arn = `arn:aws:sns:${region}:${account}:${topic}`;
    const deadline = Date.now() + 3000;
    let arns: (string | undefined)[] = [];
    while (!arns.includes(arn) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      arns = ((await sns.send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn);
    }
    expect(arns).toContain(arn);
  });

  it('loads the handler as the Node.js runtime does and names what went wrong', async () => {
    const files: Record<string, string> = {
      'index.mjs': 'export const handler = async () => "esm";',
      'common.js': 'exports.handler = async () => "commonjs .js";',
      'other.cjs': 'module.exports.handler = async () => "commonjs .cjs";',
      'lib/nested.mjs': 'export const handler = async () => "nested";',
      'callback.mjs':
        'export const handler = (event, context, done) => { setTimeout(() => done(null, "callback"), 5); };',
      'nothing.mjs': 'export const handler = async () => {};',
      'plain.mjs': 'export const handler = async () => { throw "plain"; };',
      'exits.mjs': 'export const handler = async () => process.exit(3);',
      'broken.mjs': 'export const handler = (',
    };
    const code = createZip(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })));
    const cases: [handler: string, error: string | undefined, answer: unknown][] = [
      ['index.handler', undefined, 'esm'],
      ['common.handler', undefined, 'commonjs .js'],
      ['other.handler', undefined, 'commonjs .cjs'],
      ['lib/nested.handler', undefined, 'nested'],
      ['callback.handler', undefined, 'callback'],
      ['nothing.handler', undefined, null],
      ['plain.handler', 'Unhandled', { errorType: 'string', errorMessage: 'plain', trace: [] }],
      [
        'index.absent',
        'Unhandled',
        { errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.absent is undefined or not exported', trace: [] },
      ],
      [
        'missing.handler',
        'Unhandled',
        { errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'missing'", trace: [] },
      ],
      ['broken.handler', 'Unhandled', expect.objectContaining({ errorType: 'Runtime.UserCodeSyntaxError' })],
      [
        'exits.handler',
        'Unhandled',
        {
          errorType: 'Runtime.ExitError',
          errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Runtime exited with error: exit status 3$/),
        },
      ],
    ];
    const outputs = await Promise.all(
      cases.map(async ([Handler], i) => {
        const name = `handler-${i}-${run}`;
        await deploy(name, code, { Handler });
        return invoke(name, {});
      }),
    );
    expect(outputs.map((output, i) => [cases[i]?.[0], output.FunctionError, body(output)])).toEqual(cases);
  });

  it('throttles a function with reserved concurrency 0 as AWS does', async () => {
    // One attempt: the SDK retries throttling errors, and AWS would refuse each retry alike.
    const once = new LambdaClient({ ...emulatorClientConfig(testEndpoint(), region), maxAttempts: 1 });
    const error = await once.send(new InvokeCommand({ FunctionName: names.throttled, Payload: '{}' })).then(
      () => undefined,
      (caught: Error & { Reason?: string; $metadata?: { httpStatusCode?: number } }) => ({
        name: caught.name,
        message: caught.message,
        reason: caught.Reason,
        status: caught.$metadata?.httpStatusCode,
      }),
    );
    expect(error).toEqual({
      name: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      status: 429,
    });
  });
});
