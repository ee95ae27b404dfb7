/**
 * The bundles' SDK transforms (scripts/bundle-plugins.ts) on small inputs, on the installed clients' own files (so an
 * SDK upgrade that changes their shape fails here), and the stand-ins they route to.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeHashUnavailableError, Sha1Js, Sha256Js } from '../../lib/native-hashes-only.js';
import { EndpointCache, EndpointDiscoveryNotBundledError } from '../../lib/no-endpoint-cache.js';
import {
  EventStreamSerde,
  EventStreamsNotBundledError,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '../../lib/no-event-streams.js';
import { getInstanceMetadataRegion, RegionNotConfiguredError } from '../../lib/no-instance-metadata-region.js';
import { resolveParamsForS3, S3EndpointParamsNotBundledError } from '../../lib/no-s3-endpoint-params.js';
import { loadSharedConfigFiles, SharedConfigFilesNotBundledError } from '../../lib/no-shared-config-files.js';
import { sdkStreamMixin, WebStreamsNotBundledError } from '../../lib/node-streams-only.js';
import { InvokeStore as RuntimeInvokeStore } from '../../lib/runtime-invoke-store.js';
import {
  bundlePlugins,
  clientPackageInfo,
  dropPlainErrorRegistrations,
  inlineSchemaTraitKeys,
  NAMED_ERROR_FACTORY,
  plainErrorSchema,
  readsQueryErrorCodes,
  refuseUndefinedImports,
  retryableErrorClasses,
  schemaStringConstants,
  trimmedPartitions,
} from '../../scripts/bundle-plugins.js';

const CONSTANTS = [
  'const _e = "error";',
  'const _hE = "httpError";',
  'const _jN = "jsonName";',
  'const _aQE = "awsQueryError";',
  'const _c = "client";',
  'const _m = "message";',
  'const _NFE = "NotFoundException";',
  'const _X = "Quote\\"d";',
].join('\n');

describe('inlineSchemaTraitKeys', () => {
  it.each([
    ['a computed key naming a string constant', '{ [_jN]: _m }', '{ "jsonName": _m }'],
    ['several on one line', '{ [_e]: _c, [_hE]: 404 }', '{ "error": _c, "httpError": 404 }'],
    ['an escaped constant', '{ [_X]: 1 }', '{ "Quote\\"d": 1 }'],
    ['a key that is no string constant', '{ [n0]: 1, [_unknown]: 2 }', '{ [n0]: 1, [_unknown]: 2 }'],
    ['an array, not a key', '[_m, _e]', '[_m, _e]'],
    ['an element read in a conditional, not a key', 'x ? a[_m]: b', 'x ? a[_m]: b'],
    ['a member list with traits', '[[0, { [_jN]: _m }], 0]', '[[0, { "jsonName": _m }], 0]'],
  ])('%s', (_label, line, expected) => {
    expect(inlineSchemaTraitKeys(`${CONSTANTS}\n${line}`)).toBe(`${CONSTANTS}\n${expected}`);
  });

  it('leaves the constants themselves as they are', () => {
    const source = 'const _a = "[_a]: x";\nconst _b = "b";\n{ [_b]: 1 }';
    expect(inlineSchemaTraitKeys(source)).toBe('const _a = "[_a]: x";\nconst _b = "b";\n{ "b": 1 }');
  });

  it('reads only top-level string constants', () => {
    expect(schemaStringConstants('const _a = "a";\n  const _b = "b";\nconst _c = `c`;\nlet _d = "d";')).toEqual(
      new Map([['_a', '"a"']]),
    );
  });
});

/** A schema module's error part: the base exception's registration, then each error's schema and registration. */
function schemaModule(errors: string[]): string {
  return [
    CONSTANTS,
    'import { FooServiceException } from "../models/FooServiceException";',
    'const _s_registry = new TypeRegistry(_s);',
    'export var FooServiceException$ = [-3, _s, "FooServiceException", 0, [], []];',
    '_s_registry.registerError(FooServiceException$, FooServiceException);',
    'const n0_registry = new TypeRegistry(n0);',
    ...errors,
  ].join('\n');
}

const error = (name: string, traits: string, members: string, types: string) =>
  `export var ${name}$ = [-3, n0, "${name}",\n    ${traits},\n    [${members}],\n    [${types}]\n];\nn0_registry.registerError(${name}$, ${name});`;

describe('plainErrorSchema', () => {
  it.each<[string, string, boolean, boolean]>([
    ['message only, error and httpError traits', error('Plain', '{ [_e]: _c, [_hE]: 404 }', '_m', '0'), false, true],
    ['no members, no traits', error('Bare', '0', '', ''), false, true],
    ['literal trait keys (already inlined)', error('Lit', '{ "error": _c }', '_m', '0'), false, true],
    ['a jsonName member', error('Json', '{ [_e]: _c }', '_m', '[0, { [_jN]: _m }]'), false, false],
    ['a structured member', error('Item', '{ [_e]: _c }', '_m, _I', '0, () => AttributeMap'), false, false],
    ['a numeric member', error('Num', '{ [_e]: _c }', '_m, _n', '0, 1'), false, false],
    ['an unknown trait', error('Odd', '{ [_e]: _c, [_re]: 1 }', '_m', '0'), false, false],
    [
      'a query code under JSON',
      error('NotFoundException', '{ [_aQE]: [`NotFound`, 404], [_e]: _c }', '_m', '0'),
      false,
      true,
    ],
    [
      'a renaming query code under query',
      error('NotFoundException', '{ [_aQE]: [`NotFound`, 404], [_e]: _c }', '_m', '0'),
      true,
      false,
    ],
    [
      'a query code equal to the name under query',
      error('NotFoundException', '{ [_aQE]: [`NotFoundException`, 404], [_e]: _c }', '_m', '0'),
      true,
      true,
    ],
  ])('%s', (_label, definition, readsQueryCodes, plain) => {
    const name = /export var (\w+)\$/.exec(definition)?.[1] ?? '';
    expect(plainErrorSchema(schemaModule([definition]), name, readsQueryCodes)).toBe(plain);
  });

  it('is not plain when the definition cannot be read', () => {
    expect(plainErrorSchema(schemaModule([]), 'Missing', false)).toBe(false);
  });
});

describe('dropPlainErrorRegistrations', () => {
  const errors = [
    'export class Plain extends __BaseException {\n    name = "Plain";\n}',
    'export class Retried extends __BaseException {\n    name = "Retried";\n    $retryable = {};\n}',
  ].join('\n');
  const source = schemaModule([
    error('Plain', '{ [_e]: _c }', '_m', '0'),
    error('Retried', '{ [_e]: _c }', '_m', '0'),
    error('Item', '{ [_e]: _c }', '_m, _I', '0, () => AttributeMap'),
  ]);
  const kept = dropPlainErrorRegistrations(source, errors, false)
    .split('\n')
    .filter((line) => line.includes('registerError('));

  it.each([
    ['the base exception (what the fallback throws)', 'FooServiceException', true],
    ['a plain error', 'Plain', false],
    ['an error whose class sets $retryable', 'Retried', true],
    ['an error with a member the schema reads', 'Item', true],
  ])('%s: kept %s', (_label, name, expected) => {
    expect(kept.some((line) => line.includes(`(${name}$, ${name})`))).toBe(expected);
  });

  it('keeps every schema definition (only registrations go)', () => {
    expect(dropPlainErrorRegistrations(source, errors, false)).toContain('export var Plain$ = [-3, n0, "Plain",');
  });

  it('registers a query-renamed plain error with a named class made from the base exception', () => {
    const renamed = schemaModule([error('NotFoundException', '{ [_aQE]: [`NotFound`, 404], [_e]: _c }', '_m', '0')]);
    const lines = dropPlainErrorRegistrations(renamed, '', true).split('\n');
    expect(lines).toContain(
      'n0_registry.registerError(NotFoundException$, __driftguardNamedError("NotFoundException", "client"));',
    );
    const base = lines.indexOf('import { FooServiceException } from "../models/FooServiceException";');
    expect(lines.slice(base + 1, base + 3)).toEqual([
      'const __driftguardBase = FooServiceException;',
      NAMED_ERROR_FACTORY,
    ]);
    expect(dropPlainErrorRegistrations(renamed, '', false)).not.toContain('registerError(NotFoundException$');
  });

  it('finds the classes that set $retryable', () => {
    expect(retryableErrorClasses(errors)).toEqual(new Set(['Retried']));
  });
});

const require = createRequire(import.meta.url);
const clientDir = (client: string) => join(dirname(require.resolve(`@aws-sdk/${client}/package.json`)), 'dist-es');
const clientFile = (client: string, file: string) => readFileSync(join(clientDir(client), file), 'utf8');

/** How an installed client's schema module registers each error after the transform: its class, a named one, none. */
function registrations(client: string): Map<string, 'class' | 'named'> {
  const transformed = dropPlainErrorRegistrations(
    clientFile(client, 'schemas/schemas_0.js'),
    clientFile(client, 'models/errors.js'),
    readsQueryErrorCodes(clientFile(client, 'runtimeConfig.shared.js')),
  );
  const found = new Map<string, 'class' | 'named'>();
  for (const [, schema = '', ctor = ''] of transformed.matchAll(/registerError\((\w+)\$, ([^)]+\)?)\);/g)) {
    found.set(schema, ctor === schema ? 'class' : 'named');
  }
  return found;
}

describe('on the installed clients', () => {
  it.each([
    ['client-dynamodb', 'ConditionalCheckFailedException', 'class', 'its Item is read by the event ledger'],
    ['client-dynamodb', 'TransactionCanceledException', 'class', 'its CancellationReasons are read'],
    ['client-dynamodb', 'ReplicatedWriteConflictException', 'class', 'its class sets $retryable'],
    ['client-dynamodb', 'ResourceNotFoundException', 'dropped', 'message only'],
    ['client-kms', 'NotFoundException', 'dropped', 'JSON: its query code is never read'],
    ['client-sns', 'NotFoundException', 'named', 'query: its code NotFound must still name it NotFoundException'],
    ['client-iam', 'NoSuchEntityException', 'named', 'query: code NoSuchEntity'],
    ['client-cloudwatch-logs', 'ResourceNotFoundException', 'dropped', 'message only'],
    ['client-account', 'TooManyRequestsException', 'class', 'its class sets $retryable (throttling)'],
    ['client-guardduty', 'BadRequestException', 'class', 'its members have jsonName traits'],
  ])('%s %s: %s (%s)', (client, name, expected) => {
    const found = registrations(client);
    expect(found.size).toBeGreaterThan(0);
    expect(found.get(name) ?? 'dropped').toBe(expected);
  });

  it.each([
    ['client-sns', true],
    ['client-iam', true],
    ['client-sts', true],
    ['client-cloudwatch', true],
    ['client-kms', false],
    ['client-dynamodb', false],
    ['client-s3', false],
  ])('%s reads query error codes: %s', (client, expected) => {
    expect(readsQueryErrorCodes(clientFile(client, 'runtimeConfig.shared.js'))).toBe(expected);
  });

  it('inlines every trait key of a schema module', () => {
    const inlined = inlineSchemaTraitKeys(clientFile('client-guardduty', 'schemas/schemas_0.js'));
    expect(inlined).not.toMatch(/\[_\w+\]:/);
  });
});

describe('the named error class', () => {
  it('makes the error the generated class makes, as the query protocol builds it', async () => {
    const { NotFoundException, SNSServiceException } = await import('@aws-sdk/client-sns');
    const { TypeRegistry } = await import('@smithy/core/schema');
    const factory = new Function('__driftguardBase', `${NAMED_ERROR_FACTORY} return __driftguardNamedError;`) as (
      base: unknown,
    ) => (name: string, fault: string) => new (opts: object) => Error;
    const Named = factory(SNSServiceException)('NotFoundException', 'client');
    new TypeRegistry('test.named').registerError([-3, 'test.named', 'NotFoundException', 0, [], []], Named);
    const describeError = (error: Error) => ({
      name: error.name,
      message: error.message,
      keys: Object.keys(error).sort(),
      fields: { ...error },
      constructorName: error.constructor.name,
      isServiceException: error instanceof SNSServiceException,
      isError: error instanceof Error,
    });
    // AwsQueryProtocol.handleError: new ErrorCtor({}), then the metadata, fault, message and members assigned.
    const built = (Ctor: new (opts: object) => Error) =>
      describeError(
        Object.assign(new Ctor({}), {
          $metadata: { httpStatusCode: 404 },
          $fault: 'client',
          message: 'Topic does not exist',
        }),
      );
    expect(built(Named)).toEqual(built(NotFoundException as unknown as new (opts: object) => Error));
    expect((Named as unknown as { shapeId: string }).shapeId).toBe('test.named#NotFoundException');
  });
});

describe('trimmedPartitions', () => {
  const file = join(
    dirname(require.resolve('@aws-sdk/core/package.json')),
    'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js',
  );
  const tableOf = (source: string) => JSON.parse(/= (\{[\s\S]*\});/.exec(source)?.[1] ?? 'null');
  const original = tableOf(readFileSync(file, 'utf8'));
  const trimmed = tableOf(trimmedPartitions(readFileSync(file, 'utf8')));
  const regions = original.partitions.flatMap((partition: { regions: object }) => Object.keys(partition.regions));

  /** The SDK's own partition() over a table, without the descriptions (which the trimmed table drops). */
  async function resolvedWith(table: unknown, region: string) {
    const { partition, setPartitionInfo, useDefaultPartitionInfo } = await import('@aws-sdk/core/client');
    setPartitionInfo(table as never);
    try {
      const { description: _description, ...outputs } = partition(region) as unknown as Record<string, unknown>;
      return outputs;
    } finally {
      useDefaultPartitionInfo();
    }
  }

  it.each([...regions, 'eu-central-9', 'us-gov-east-7', 'cn-north-5', 'not-a-region', 'aws-global', ''])(
    'resolves %s as the full table does',
    async (region) => {
      expect(await resolvedWith(trimmed, region)).toEqual(await resolvedWith(original, region));
    },
  );

  it('keeps the pseudo-regions no regex matches, and every partition and output', () => {
    expect(Object.keys(trimmed.partitions[0].regions)).toContain('aws-global');
    expect(Object.keys(trimmed.partitions[0].regions)).not.toContain('eu-west-1');
    expect(trimmed.partitions.map((partition: { outputs: object }) => partition.outputs)).toEqual(
      original.partitions.map((partition: { outputs: object }) => partition.outputs),
    );
  });

  it('refuses a table of another shape', () => {
    expect(() => trimmedPartitions('export default {};')).toThrow(/shape changed/);
  });
});

describe('clientPackageInfo', () => {
  it('keeps the name and the version only', () => {
    expect(JSON.parse(clientPackageInfo(clientFile('client-kms', '../package.json')))).toEqual({
      name: '@aws-sdk/client-kms',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it.each([['{"name":"x"}'], ['{"version":"1.0.0"}'], ['{"name":1,"version":"1"}']])('refuses %s', (json) => {
    expect(() => clientPackageInfo(json)).toThrow(/string name and version/);
  });
});

/** Bundles one import line with the plugins, as scripts/build.ts does. */
async function bundled(entry: string): Promise<string> {
  const result = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
    plugins: bundlePlugins(process.cwd()),
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('the plugins route to the stand-ins', () => {
  it.each([
    [
      "import { eventStreamSerdeProvider } from '@smithy/core/event-streams'; console.log(eventStreamSerdeProvider);",
      'lib/no-event-streams.ts',
      'eventstream-serde/EventStreamMarshaller.js',
    ],
    [
      "import { Logger } from '@aws-lambda-powertools/logger'; console.log(Logger);",
      'lib/lambda-logger.ts',
      'node_modules/@aws-lambda-powertools/logger',
    ],
    [
      "import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'; console.log(injectLambdaContext);",
      'lib/lambda-logger.ts',
      'node_modules/@aws/lambda-invoke-store',
    ],
    ["import * as z from 'zod/mini'; console.log(z.looseObject);", 'lib/small-zod.ts', 'node_modules/zod'],
    ["import middy from '@middy/core'; console.log(middy);", 'lib/small-middy.ts', 'node_modules/@middy/core'],
    [
      "import { loadConfig } from '@smithy/core/config'; console.log(loadConfig);",
      'lib/no-shared-config-files.ts',
      'shared-ini-file-loader/parseIni.js',
    ],
    [
      "import { getEndpointFromInstructions } from '@smithy/core/endpoints'; console.log(getEndpointFromInstructions);",
      'lib/no-s3-endpoint-params.ts',
      'service-customizations/s3.js',
    ],
    [
      "import { recursionDetectionMiddleware } from '@aws-sdk/core/client'; console.log(recursionDetectionMiddleware);",
      'lib/runtime-invoke-store.ts',
      'node_modules/@aws/lambda-invoke-store',
    ],
    [
      "import { sdkStreamMixin } from '@smithy/core/serde'; console.log(sdkStreamMixin);",
      'lib/node-streams-only.ts',
      'sdk-stream-mixin.browser.js',
    ],
    [
      "import { EndpointCache } from '@aws-sdk/endpoint-cache'; console.log(EndpointCache);",
      'lib/no-endpoint-cache.ts',
      'node_modules/mnemonist',
    ],
    [
      "import { NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config'; console.log(NODE_REGION_CONFIG_OPTIONS);",
      'lib/no-instance-metadata-region.ts',
      'regionConfig/getInstanceMetadataRegion.js',
    ],
    [
      "import { Sha256 } from '@smithy/core/checksum'; console.log(Sha256);",
      'lib/native-hashes-only.ts',
      'sha256/Sha256Js.js',
    ],
  ])('%s', async (entry, standIn, original) => {
    const code = await bundled(entry);
    expect(code).toContain(standIn);
    expect(code).not.toContain(original);
  });
});

describe('refuseUndefinedImports', () => {
  it('refuses a bundle that reads what a stand-in lacks', async () => {
    const result = await build({
      stdin: {
        contents: "import * as z from 'zod/mini'; console.log(z.union);",
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: bundlePlugins(process.cwd()),
    });
    expect(() => refuseUndefinedImports('probe', result.warnings)).toThrow(
      /probe: Import "union" will always be undefined/,
    );
  });

  it('accepts a bundle without such imports', () => {
    expect(() => refuseUndefinedImports('probe', [{ id: 'other', text: 'something else' }])).not.toThrow();
  });
});

describe('the stand-ins', () => {
  it('build a client config as the original, and throw when an event stream is used', () => {
    const config = resolveEventStreamSerdeConfig({ eventStreamSerdeProvider });
    expect(() =>
      config.eventStreamMarshaller.serialize((async function* () {})(), () => ({
        headers: {},
        body: new Uint8Array(),
      })),
    ).toThrow(EventStreamsNotBundledError);
    expect(() => new EventStreamSerde()).toThrow(/event streams are not bundled/);
  });

  it.each([
    ['SHA-256', () => new Sha256Js()],
    ['SHA-1', () => new Sha1Js()],
  ])('the %s fallback throws', (algorithm, construct) => {
    expect(construct).toThrow(NativeHashUnavailableError);
    expect(construct).toThrow(algorithm);
  });

  it('the endpoint cache is built as the client builds it, and throws when used', () => {
    const cache = new EndpointCache(1000);
    expect(() => cache.getEndpoint()).toThrow(EndpointDiscoveryNotBundledError);
    expect(() => cache.set()).toThrow(/endpoint discovery is not bundled/);
  });

  it('the instance metadata region lookup throws', async () => {
    await expect(getInstanceMetadataRegion()).rejects.toThrow(RegionNotConfiguredError);
  });

  it('the shared config reader finds no files as the SDK does on Lambda, and refuses a file that is there', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'driftguard-config-'));
    const missing = { configFilepath: join(folder, 'config'), filepath: join(folder, 'credentials') };
    await expect(loadSharedConfigFiles(missing)).resolves.toEqual({ configFile: {}, credentialsFile: {} });
    writeFileSync(missing.configFilepath, '[default]\nregion = eu-west-1\n');
    await expect(loadSharedConfigFiles(missing)).rejects.toThrow(SharedConfigFilesNotBundledError);
  });

  it("the S3 client's endpoint customization throws if an S3 client command ever reaches it", async () => {
    await expect(resolveParamsForS3({ Bucket: 'b' })).rejects.toThrow(S3EndpointParamsNotBundledError);
  });

  it('a body that is not a node stream is refused', () => {
    expect(() => sdkStreamMixin(new Blob(['x']))).toThrow(WebStreamsNotBundledError);
  });

  describe('the invoke store reads as the package does', () => {
    const global = globalThis as { awslambda?: unknown };
    const before = global.awslambda;
    afterEach(() => {
      global.awslambda = before;
      delete process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
    });
    const READS = ['getRequestId', 'getXRayTraceId', 'getTenantId', 'getTraceparent', 'getTracestate', 'getBaggage'];
    const reads = (store: Record<string, () => unknown>) => READS.map((read) => store[read]?.());
    // The package keeps its store in its module, so each case loads it afresh.
    const packageStore = async () => {
      const load = createRequire(import.meta.url);
      const path = load.resolve('@aws/lambda-invoke-store');
      delete load.cache[path];
      return (await load(path).InvokeStore.getInstanceAsync()) as never;
    };

    it("gives the runtime's own store when the runtime keeps one", async () => {
      const runtime = {
        getRequestId: () => 'request-1',
        getXRayTraceId: () => 'Root=1-5759e988-bd862e3fe1be46a994272793',
        getTenantId: () => undefined,
        getTraceparent: () => '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01',
        getTracestate: () => 'rojo=00f067aa0ba902b7',
        getBaggage: () => 'userId=alice',
      };
      global.awslambda = { InvokeStore: runtime };
      expect(await RuntimeInvokeStore.getInstanceAsync()).toBe(runtime);
      expect(await packageStore()).toBe(runtime);
    });

    it.each(['true', '1'])(
      "reads nothing, the runtime's store ignored, with AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=%s",
      async (value) => {
        global.awslambda = { InvokeStore: { getRequestId: () => 'request-1', getXRayTraceId: () => 'Root=1-a-b' } };
        process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA = value;
        const standIn = reads((await RuntimeInvokeStore.getInstanceAsync()) as never);
        expect(standIn).toEqual(['-', undefined, undefined, undefined, undefined, undefined]);
        expect(reads(await packageStore())).toEqual(standIn);
      },
    );

    it('reads nothing where the runtime keeps none, as the package’s own store', async () => {
      global.awslambda = undefined;
      const standIn = reads((await RuntimeInvokeStore.getInstanceAsync()) as never);
      expect(standIn).toEqual(['-', undefined, undefined, undefined, undefined, undefined]);
      expect(reads(await packageStore())).toEqual(standIn);
    });
  });
});
