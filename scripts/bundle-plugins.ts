/**
 * esbuild plugins of the Lambda bundles (scripts/build.ts): each rewrites one part of the AWS SDK, as esbuild loads
 * it, so that tree shaking can drop what no function uses. node_modules is never edited. Each transform is a pure
 * function of the file's text (unit-tested in test/unit/bundle-plugins.test.ts); the plugins only route files to them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Plugin } from 'esbuild';

/** `const _jN = "jsonName";`: the generated schema modules name every string they use once, at the top. */
const STRING_CONST = /^const ([A-Za-z_$][\w$]*) = ("(?:[^"\\]|\\.)*");$/;

/** The top-level string constants of a generated schema module, by name (as their JSON string literals). */
export function schemaStringConstants(source: string): Map<string, string> {
  const constants = new Map<string, string>();
  for (const line of source.split('\n')) {
    const match = STRING_CONST.exec(line);
    if (match?.[1] && match[2]) constants.set(match[1], match[2]);
  }
  return constants;
}

/**
 * Trait objects in the schema modules use computed keys, `{ [_jN]: _aI }`. esbuild must assume a computed key may
 * run code (a toString), so it keeps every schema of the service, used or not (GuardDuty's ~100 KB). When the key is
 * one of the module's own string constants, writing its literal (`{ "jsonName": _aI }`) is the same object, and
 * esbuild may drop the schemas no command reaches. Only keys (after `{` or `,`) that are such constants change.
 */
export function inlineSchemaTraitKeys(source: string): string {
  const constants = schemaStringConstants(source);
  return source
    .split('\n')
    .map((line) =>
      STRING_CONST.test(line)
        ? line
        : line.replace(/(?<=[{,]\s*)\[([A-Za-z_$][\w$]*)\]:/g, (whole, name: string) => {
            const literal = constants.get(name);
            return literal === undefined ? whole : `${literal}:`;
          }),
    )
    .join('\n');
}

/** `n0_registry.registerError(ThrottlingException$, ThrottlingException);` */
const ERROR_REGISTRATION = /^([A-Za-z_$][\w$]*)_registry\.registerError\(([A-Za-z_$][\w$]*)\$, ([A-Za-z_$][\w$]*)\);$/;

/** The error classes (models/errors.js) whose instances carry `$retryable`: the retry strategy reads that trait. */
export function retryableErrorClasses(errorsModule: string): Set<string> {
  const retryable = new Set<string>();
  for (const part of errorsModule.split(/^export class /m).slice(1)) {
    const name = /^([A-Za-z_$][\w$]*)/.exec(part)?.[1];
    if (name && /^\s+\$retryable\s*=/m.test(part)) retryable.add(name);
  }
  return retryable;
}

/** One `key: value` of a trait object, the key computed (`[_aQE]`) or literal (`"awsQueryError"`). */
const TRAIT_ENTRY = /(?:\[([A-Za-z_$][\w$]*)\]|("(?:[^"\\]|\\.)*")):\s*(\[[^\]]*\]|[^,}\]]+)/g;

/** What an error schema says that matters here: its fault, its query code, whether it is otherwise plain. */
export interface ErrorSchemaFacts {
  /** Its members are plain strings, its traits only error, httpError and awsQueryError. */
  plain: boolean;
  /** The awsQueryError code, when it differs from the shape's name (a query client names the error by it). */
  renamingQueryCode?: string;
  /** The error trait: "client" or "server". */
  fault?: string;
}

/**
 * Reads an error schema (`export var X$ = [-3, ns, name, traits, members, types];`): plain when its traits are only
 * error, httpError and awsQueryError and its members plain strings (no jsonName, header or structured member the
 * schema would read differently from the raw body). Anything it cannot read is not plain.
 */
export function readErrorSchema(source: string, schema: string): ErrorSchemaFacts {
  const definition = new RegExp(
    `^export var ${schema.replace(/\$/g, '\\$')}\\$ = \\[-3, [\\w$]+, ([\\w$]+|"[^"\\n]*"),\\n\\s*(0|\\{[^\\n]*\\}),\\n\\s*\\[([^\\n]*)\\],\\n\\s*\\[([^\\n]*)\\]\\n\\];$`,
    'm',
  ).exec(source);
  if (!definition) return { plain: false };
  const [, nameRef = '', traits = '', , types = ''] = definition;
  const constants = schemaStringConstants(source);
  const literal = (ref: string) => (ref.startsWith('"') ? ref : constants.get(ref));
  const facts: ErrorSchemaFacts = {
    plain: types.trim() === '' || types.split(',').every((type) => type.trim() === '0'),
  };
  if (traits === '0') return facts;
  const entries = [...traits.matchAll(TRAIT_ENTRY)];
  if (`{ ${entries.map(([whole]) => whole.trim()).join(', ')} }` !== traits.trim()) return { plain: false };
  for (const [, keyRef, keyLiteral, value = ''] of entries) {
    const key = keyRef ? constants.get(keyRef) : keyLiteral;
    if (key === '"error"') {
      const fault = literal(value.trim());
      if (fault === undefined) return { plain: false };
      facts.fault = JSON.parse(fault) as string;
    } else if (key === '"awsQueryError"') {
      const code = /^\[`([^`$\\]*)`, \d+\]$/.exec(value.trim())?.[1];
      if (code === undefined) return { plain: false };
      if (JSON.stringify(code) !== literal(nameRef)) facts.renamingQueryCode = code;
    } else if (key !== '"httpError"') {
      return { plain: false };
    }
  }
  return facts;
}

/**
 * Whether the SDK's fallback makes the same error as the registered class would: the schema is plain and no query
 * code renames it (a client that reads query codes names the error by the code unless the schema maps it back).
 */
export function plainErrorSchema(source: string, schema: string, readsQueryCodes: boolean): boolean {
  const facts = readErrorSchema(source, schema);
  return facts.plain && !(readsQueryCodes && facts.renamingQueryCode !== undefined);
}

/** Whether a client reads errors by their query codes (awsQuery/ec2Query, or JSON marked awsQueryCompatible). */
export function readsQueryErrorCodes(runtimeConfigShared: string): boolean {
  return /\bAws(?:Ec2)?QueryProtocol\b|\bawsQueryCompatible:\s*true\b/.test(runtimeConfigShared);
}

/** The one class the named registrations share (see dropPlainErrorRegistrations), made per error from the base. */
export const NAMED_ERROR_FACTORY =
  'const __driftguardNamedError = (name, fault) => { const NamedError = class extends __driftguardBase { name = name; $fault = fault; constructor(opts) { super({ name, $fault: fault, ...opts }); Object.setPrototypeOf(this, NamedError.prototype); } }; Object.defineProperty(NamedError, "name", { value: name }); return NamedError; };';

/** `import { SNSServiceException } from "../models/SNSServiceException";`: the base exception of a schema module. */
const BASE_EXCEPTION_IMPORT = /^import \{ ([A-Za-z_$][\w$]*) \} from "\.\.\/models\/\1";$/m;

/**
 * Every error class of a client is registered at the end of its schema module (`registerError(X$, X)`), so every
 * class stays in the bundle (KMS 12 KB, CloudTrail 19 KB). Without a registration the SDK's own fallback
 * (@aws-sdk/core ProtocolLib.getErrorSchemaOrThrowBaseException) throws the service's base exception with the same
 * `name`, `message`, `$fault`, `$metadata` and the body's fields; the engine reads errors by name (awsErrorName). So
 * a registration is dropped when that fallback gives the same error: the schema is plain (plainErrorSchema) and the
 * class sets no `$retryable` (the retry strategy reads it). A query client (SNS, IAM, STS, CloudWatch) needs the
 * registration of a schema whose query code differs from its name (NotFound -> NotFoundException): when that schema
 * is otherwise plain, it is registered with a class made by one small factory (same name, $fault, base class and
 * shapeId, set by registerError) instead of its generated one, so the generated classes drop out. The service base
 * exception's registration (its `_s_registry`) is what the fallback throws: always kept.
 */
export function dropPlainErrorRegistrations(source: string, errorsModule: string, readsQueryCodes: boolean): string {
  const retryable = retryableErrorClasses(errorsModule);
  const base = BASE_EXCEPTION_IMPORT.exec(source)?.[1];
  let named = false;
  const lines = source.split('\n').flatMap((line) => {
    const match = ERROR_REGISTRATION.exec(line);
    if (!match) return [line];
    const [, registry, schema = '', errorClass = ''] = match;
    if (registry === '_s' || schema !== errorClass || retryable.has(errorClass)) return [line];
    const facts = readErrorSchema(source, schema);
    if (!facts.plain) return [line];
    if (!readsQueryCodes || facts.renamingQueryCode === undefined) return [];
    if (!base || !facts.fault) return [line];
    named = true;
    return [
      `${registry}_registry.registerError(${schema}$, __driftguardNamedError(${JSON.stringify(errorClass)}, ${JSON.stringify(facts.fault)}));`,
    ];
  });
  if (named && base) {
    const at = lines.findIndex((line) => BASE_EXCEPTION_IMPORT.test(line));
    lines.splice(at + 1, 0, `const __driftguardBase = ${base};`, NAMED_ERROR_FACTORY);
  }
  return lines.join('\n');
}

const PARTITIONS_MODULE = /^export const partitionsInfo = (\{[\s\S]*\});\s*$/;

/**
 * The SDK's partition table (@aws-sdk/core util-endpoints partitions.js) lists every region of every partition, each
 * with a description ("Asia Pacific (Tokyo)"). Endpoint resolution (partition.js) reads a region's entry to find its
 * partition (its outputs, with any field the entry overrides), and for a region not listed takes the first partition
 * whose regionRegex matches. So the descriptions go (never read), and so does the entry of a region that the
 * regexes already give to its own partition with nothing to override: every region resolves to the same outputs.
 * Kept: the pseudo-regions no regex matches (aws-global, aws-cn-global, ...). A table of another shape is an error.
 */
export function trimmedPartitions(source: string): string {
  const table = PARTITIONS_MODULE.exec(source)?.[1];
  if (!table) throw new Error('partitions.js is not `export const partitionsInfo = {...};`: its shape changed');
  const info = JSON.parse(table) as {
    partitions: { id: string; regionRegex: string; regions: Record<string, Record<string, unknown>> }[];
  };
  const byRegex = (region: string) => info.partitions.find(({ regionRegex }) => new RegExp(regionRegex).test(region));
  for (const partition of info.partitions) {
    const regions: Record<string, Record<string, unknown>> = {};
    for (const [region, { description: _description, ...overrides }] of Object.entries(partition.regions)) {
      if (Object.keys(overrides).length > 0 || byRegex(region)?.id !== partition.id) regions[region] = overrides;
    }
    partition.regions = regions;
  }
  return `export const partitionsInfo = ${JSON.stringify(info)};\n`;
}

/** A client's package.json is imported whole for the user agent, which reads only its version (name kept to say whose). */
export function clientPackageInfo(packageJson: string): string {
  const { name, version } = JSON.parse(packageJson) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || typeof version !== 'string') {
    throw new Error('a client package.json without a string name and version: the user agent needs its version');
  }
  return JSON.stringify({ name, version });
}

const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
const CLIENT_PACKAGE_JSON = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

/** Rewrites each client's schema modules (inlineSchemaTraitKeys, dropPlainErrorRegistrations). */
const sdkSchemas: Plugin = {
  name: 'driftguard-sdk-schemas',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const client = join(dirname(args.path), '..');
      const registered = /\.registerError\(/.test(source)
        ? dropPlainErrorRegistrations(
            source,
            readFileSync(join(client, 'models', 'errors.js'), 'utf8'),
            readsQueryErrorCodes(readFileSync(join(client, 'runtimeConfig.shared.js'), 'utf8')),
          )
        : source;
      return { contents: inlineSchemaTraitKeys(registered), loader: 'js' };
    });
  },
};

const PARTITIONS_FILE =
  /[\\/]@aws-sdk[\\/]core[\\/]dist-es[\\/]submodules[\\/]client[\\/]util-endpoints[\\/]lib[\\/]aws[\\/]partitions\.js$/;

/** The partition table without what endpoint resolution never reads (trimmedPartitions). */
const sdkPartitions: Plugin = {
  name: 'driftguard-sdk-partitions',
  setup(build) {
    build.onLoad({ filter: PARTITIONS_FILE }, (args) => ({
      contents: trimmedPartitions(readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** Each client's package.json reduced to what its user agent reads (clientPackageInfo). */
const sdkPackageInfo: Plugin = {
  name: 'driftguard-sdk-package-info',
  setup(build) {
    build.onLoad({ filter: CLIENT_PACKAGE_JSON }, (args) => ({
      contents: clientPackageInfo(readFileSync(args.path, 'utf8')),
      loader: 'json',
    }));
  },
};

/** Where the SDK's node:crypto hashes import their pure-JavaScript fallbacks: importer path ending, import path. */
const JS_HASH_FALLBACKS = [
  { importer: /[\\/]checksum[\\/]sha256[\\/]Sha256Node\.js$/, path: './Sha256Js' },
  { importer: /[\\/]sha[\\/]sha1[\\/]Sha1Node\.js$/, path: './Sha1Js' },
];

/** A module of lib/ that stands in, in the bundles only, for what an import resolves to. */
interface StandIn {
  /** The stand-in, under lib/. */
  file: string;
  /** The imports it answers (esbuild's onResolve filter). */
  filter: RegExp;
  /** Only these importers get it (others keep the original); all, when absent. */
  importedBy?: (args: { path: string; importer: string }) => boolean;
}

const STAND_INS: StandIn[] = [
  // `@smithy/core/event-streams` (with its codec and a Sha256 checksum, ~20 KB) is imported by the CloudWatch Logs and
  // S3 clients' config (for StartLiveTail, SelectObjectContent) and loaded by every protocol on an event-stream
  // operation. No function sends one: the stand-in throws if one is ever sent.
  { file: 'no-event-streams.ts', filter: /^@smithy\/core\/event-streams$/ },
  // The DynamoDB client's endpoint cache (@aws-sdk/endpoint-cache, with an LRU map) serves endpoint discovery, which
  // no DynamoDB command of this SDK uses: the stand-in throws if the cache is ever used.
  { file: 'no-endpoint-cache.ts', filter: /^@aws-sdk\/endpoint-cache$/ },
  // @smithy/core asks EC2 instance metadata for a region (getInstanceMetadataRegion, with its own HTTP calls) when no
  // region is configured, and for defaults mode "auto" off Lambda; on Lambda AWS_REGION is always set and the engine
  // names each client's region. The stand-in throws if it is ever asked.
  {
    file: 'no-instance-metadata-region.ts',
    filter: /[\\/]getInstanceMetadataRegion$/,
    importedBy: ({ importer }) => /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]config[\\/]/.test(importer),
  },
  // @smithy/core's config loader reads ~/.aws/config and ~/.aws/credentials (an INI parser, ~2 KB) for each setting a
  // client resolves; a Lambda function has neither. The stand-in for the loader's reader finds no files, as the SDK
  // does on Lambda, and is an error if one is there after all.
  {
    file: 'no-shared-config-files.ts',
    filter: /[\\/]shared-ini-file-loader[\\/]loadSharedConfigFiles$/,
    importedBy: ({ importer }) =>
      /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]config[\\/]node-config-provider[\\/]fromSharedConfigFiles\.js$/.test(
        importer,
      ),
  },
  // @smithy/core's node stream mixin imports the web-stream one (sdk-stream-mixin.browser, with browser base64 and
  // UTF-8 helpers) for bodies that are not node streams; the node HTTP handler only gives node streams. The stand-in
  // refuses such a body as the node mixin refuses an unknown one.
  {
    file: 'node-streams-only.ts',
    filter: /^\.\/sdk-stream-mixin\.browser$/,
    importedBy: ({ importer }) =>
      /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]serde[\\/]util-stream[\\/]sdk-stream-mixin\.js$/.test(
        importer,
      ),
  },
  // The endpoint middleware of every client imports S3's endpoint customization (bucket-name rules, ~0.8 KB of each
  // minified bundle), called only for the S3 client's commands; no function sends one (lib/s3-buckets.ts resolves its
  // own endpoints). The stand-in throws if it is ever called.
  {
    file: 'no-s3-endpoint-params.ts',
    filter: /^\.\.\/service-customizations$/,
    importedBy: ({ importer }) =>
      /[\\/]middleware-endpoint[\\/]adaptors[\\/]getEndpointFromInstructions\.js$/.test(importer),
  },
  // Sha256Node (@smithy/core) and Sha1Node (@aws-sdk/checksums, S3's clients) bundle a pure-JavaScript hash (~3 KB
  // each) for runtimes without node:crypto's; Lambda's Node.js has it. The stand-in throws if one is ever
  // constructed. Other importers of the JavaScript hashes keep them.
  {
    file: 'native-hashes-only.ts',
    filter: /^\.\/(Sha256Js|Sha1Js)$/,
    importedBy: (args) =>
      JS_HASH_FALLBACKS.some(({ importer, path }) => importer.test(args.importer) && path === args.path),
  },
  // Powertools' logger with its commons and the invoke store (~21 KB of each minified bundle) gives way to a logger
  // that writes the same lines for what the engine calls and throws on what it does not cover. Local runs and tests
  // keep Powertools (type imports name it; only the bundles resolve it here).
  { file: 'lambda-logger.ts', filter: /^@aws-lambda-powertools\/logger(\/middleware)?$/ },
  // zod/mini (~20 KB of each minified bundle, for the envelope and alarm schemas) gives way to one that gives the same
  // data and issues for the functions those schemas use. Local runs and tests keep zod.
  { file: 'small-zod.ts', filter: /^zod\/mini$/ },
  // The SDK's recursion detection reads the invocation's trace ids from @aws/lambda-invoke-store (~2.2 KB of each
  // minified bundle): the stand-in gives the Lambda runtime's own store, or one whose reads are empty, as the package.
  { file: 'runtime-invoke-store.ts', filter: /^@aws\/lambda-invoke-store$/ },
  // @middy/core (~2.5 KB of each minified bundle, with response streaming no function uses) gives way to one that runs
  // a request as middy does for the one middleware the functions use.
  { file: 'small-middy.ts', filter: /^@middy\/core$/ },
];

/** The stand-ins of lib/, each where its import resolves (for its importers only, when it names them). */
function standIns(root: string): Plugin {
  return {
    name: 'driftguard-stand-ins',
    setup(build) {
      for (const { file, filter, importedBy } of STAND_INS) {
        build.onResolve({ filter }, (args) =>
          importedBy === undefined || importedBy(args) ? { path: resolve(root, 'lib', file) } : undefined,
        );
      }
    },
  };
}

/**
 * A stand-in lacks what the code reads of it (a zod function read through `z.`, say): esbuild only warns that the
 * import "will always be undefined". The build refuses such a bundle rather than ship one that fails at start.
 */
export function refuseUndefinedImports(file: string, warnings: { id?: string; text: string }[]): void {
  const undefinedImports = warnings.filter((warning) => warning.id === 'import-is-undefined');
  if (undefinedImports.length > 0) {
    throw new Error(`${file}: ${undefinedImports.map((warning) => warning.text).join('; ')}`);
  }
}

/** The plugins of every Lambda bundle; root: the service's folder (where lib/ is). */
export function bundlePlugins(root: string): Plugin[] {
  return [sdkSchemas, sdkPackageInfo, sdkPartitions, standIns(root)];
}
