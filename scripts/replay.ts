/**
 * npm run replay -- [--emulator | --endpoint URL] [--reenact] [--dry-run] [--json] [--verbose] <event.json>...
 * Runs each event through the same handler Lambda runs. Exit 0: every event handled; 1: any failed; 2: bad input.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { type AlarmStateChange, isAlarmStateChange, parseAlarmStateChange } from '../lib/alarms/alarm-event.js';
import { createAlarmNoticeHandler } from '../lib/alarms/alarm-notice-handler.js';
import { ALARM_NOTICE_DEFAULTS } from '../lib/alarms/engine-alarms.js';
import { arnRegion, awsErrorName, createAwsClients, stateRegion } from '../lib/aws.js';
import type { CloudTrailEvent } from '../lib/envelope.js';
import type { Guard } from '../lib/guard.js';
import { createGuardHandler, RemediationFailedError } from '../lib/handler.js';
import { checkEvent, findRule, type HandledEvent, ignored } from '../lib/pipeline.js';
import { GUARDS, RULES } from '../lib/registry.js';
import { loadSettings, SettingsError } from '../lib/settings.js';
import { startEmulator } from './emulator/launcher.js';
import { useEndpoint } from './provision.js';
import { REENACTMENTS, type ReenactContext, reenactmentKey } from './reenact/index.js';

export interface ReplayOptions {
  files: string[];
  emulator?: boolean;
  endpoint?: string;
  reenact?: boolean;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Where lines go (stdout by default). */
  print?: (line: string) => void;
  /** Where a line about the replay itself goes, not about an event (stderr by default). */
  warn?: (line: string) => void;
}

export interface ReplayItem {
  file: string;
  result: HandledEvent;
  notes: string[];
  noticeDelivered: boolean;
}

export interface ReplayReport {
  items: ReplayItem[];
  exitCode: 0 | 1;
}

/**
 * Files that cannot be replayed (unreadable, not JSON, or neither a CloudTrail event nor an alarm state change), or
 * options that cannot go together.
 */
export class BadInputError extends Error {
  override name = 'BadInputError';
  /** Each problem on its own, `<file>: <reason>` for a file. */
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
  }
}

interface LoadedEvent {
  file: string;
  /** A CloudTrail event, or a CloudWatch alarm state change (the alarm-notice function's). */
  event: CloudTrailEvent | AlarmStateChange;
}

const isAlarm = (event: CloudTrailEvent | AlarmStateChange): event is AlarmStateChange => isAlarmStateChange(event);

export function loadEventFile(file: string): LoadedEvent {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BadInputError(
      `${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`${file}: not JSON (${(error as Error).message})`);
  }
  try {
    return { file, event: isAlarmStateChange(json) ? parseAlarmStateChange(json) : checkEvent(json, RULES).event };
  } catch (error) {
    throw new BadInputError(`${file}: ${(error as Error).message}`);
  }
}

/** Every file checked, so that one run names every bad file; throws a BadInputError listing them. */
export function loadEventFiles(files: string[]): LoadedEvent[] {
  const loaded: LoadedEvent[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      loaded.push(loadEventFile(file));
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      problems.push(...error.problems);
    }
  }
  const [only, ...more] = problems;
  if (only !== undefined && more.length === 0) throw new BadInputError(only);
  if (only !== undefined) {
    const list = problems.map((problem) => `\n  ${problem}`).join('');
    throw new BadInputError(`${problems.length} of ${files.length} files cannot be replayed:${list}`, problems);
  }
  return loaded;
}

/** The state table named in the settings is not where the engine looks for it: every event would fail alike. */
export class StateTableNotFoundError extends SettingsError {
  override name = 'StateTableNotFoundError';
}

/** Fails at start, in one line naming the table, the region and the fix, when the state table is not there. */
export async function checkStateTable(table: string | undefined, endpoint: string | undefined): Promise<void> {
  if (table === undefined) return;
  const region = stateRegion();
  try {
    await new DynamoDBClient({ region }).send(new DescribeTableCommand({ TableName: table }));
  } catch (error) {
    // Anything else (no permission to describe it, say) is for the guard to meet and report.
    if (awsErrorName(error) !== 'ResourceNotFoundException') return;
    const fix = endpoint
      ? `provision it (npm run emulator -- --provision), or set DRIFTGUARD_STATE_TABLE / DRIFTGUARD_STATE_REGION`
      : 'deploy the stack there, or set DRIFTGUARD_STATE_TABLE / DRIFTGUARD_STATE_REGION';
    throw new StateTableNotFoundError(
      `state table ${table} not found in ${region}${endpoint ? ` at ${endpoint}` : ''}: ${fix}`,
      { cause: error },
    );
  }
}

/** Moves an event onto the target account (every occurrence of its account id), so a sample from elsewhere applies. */
function rebase(event: CloudTrailEvent, account: string, notes: string[]): CloudTrailEvent {
  if (event.account === account) return event;
  notes.push(`event account ${event.account} mapped to the target's account ${account}`);
  return JSON.parse(JSON.stringify(event).replaceAll(event.account, account)) as CloudTrailEvent;
}

/** A Lambda context as the guard's own function would get it (idempotency records are kept per function). */
export function lambdaContext(event: CloudTrailEvent, account: string, functionName = 'driftguard-replay'): Context {
  return invocationContext(functionName, {
    region: event.detail.awsRegion,
    account,
    requestId: `replay-${event.detail.eventID}`,
  });
}

/** The alarm-notice function's context, in the alarm's region. */
function alarmContext(event: AlarmStateChange, account: string): Context {
  return invocationContext('driftguard-replay-alarm-notice', {
    region: event.region,
    account,
    requestId: `replay-${event.id}`,
  });
}

function alarmFailed(event: AlarmStateChange, error: unknown): HandledEvent {
  const base = { eventId: event.id, eventName: `${event.detail.alarmName} ${event.detail.state.value}` };
  return { ...ignored(base, null, null, `the alarm notice failed: ${describeError(error)}`), outcome: 'failed' };
}

/** What Lambda hands a function besides its event: `remainingMs` left before its time limit. */
export function invocationContext(
  functionName: string,
  { region = 'us-east-1', account = '123456789012', remainingMs = 60_000, requestId = 'invocation' } = {},
): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'replay',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What an error reads as in a note or a reason: the AWS error's name is worth keeping, a plain Error's is not. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

/** The result of an event whose handler threw something other than a failed remediation (which has its own). */
function handlerFailed(event: CloudTrailEvent, guard: Guard | undefined, error: unknown): HandledEvent {
  const base = { eventId: event.detail.eventID, eventName: event.detail.eventName };
  const rule = guard ? (findRule(guard.rules, event)?.id ?? null) : null;
  return { ...ignored(base, rule, null, `the guard failed: ${describeError(error)}`), outcome: 'failed' };
}

function ignoredWithoutGuard(event: CloudTrailEvent): HandledEvent {
  const base = { eventId: event.detail.eventID, eventName: event.detail.eventName };
  return ignored(base, null, null, `no rule handles ${event.source} ${event.detail.eventName}`);
}

/** Tells whether a notice reached the local notice inbox (a queue subscribed to the notice topic), emptying it. */
export interface NoticeInbox {
  received(subject: string): Promise<boolean>;
}

/** The region in a queue URL of AWS (https://sqs.<region>.amazonaws.com/...); an emulator's URL names none. */
function queueUrlRegion(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1];
}

/**
 * The inbox named by DRIFTGUARD_NOTICE_QUEUE_URL, read in its own region (else its topic's, beside which it is
 * provisioned). Reading it is a display: the first failure is said in one line and the inbox is not read again.
 */
export function openNoticeInbox(warn: (line: string) => void, env = process.env): NoticeInbox | undefined {
  const queueUrl = env.DRIFTGUARD_NOTICE_QUEUE_URL;
  if (!queueUrl) return undefined;
  const region = queueUrlRegion(queueUrl) ?? arnRegion(env.DRIFTGUARD_NOTICE_TOPIC_ARN ?? '') ?? stateRegion();
  const sqs = new SQSClient({ region });
  let unreadable = false;
  return {
    async received(subject) {
      if (unreadable) return false;
      try {
        return (await drainNotices(sqs, queueUrl)).includes(subject);
      } catch (error) {
        unreadable = true;
        warn(
          `replay: notices not read back from ${queueUrl} in ${region} (${describeError(error)}); events keep their outcomes`,
        );
        return false;
      }
    },
  };
}

/** The subjects of the notices waiting in the queue, which are deleted once read. */
async function drainNotices(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  if (!Messages || Messages.length === 0) return [];
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
    }),
  );
  return Messages.map((message) => String((JSON.parse(message.Body ?? '{}') as { Subject?: string }).Subject));
}

export async function runReplay(options: ReplayOptions): Promise<ReplayReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.reenact && !options.emulator && !options.endpoint) {
    throw new BadInputError('--reenact is refused against a real account: use it with --emulator or --endpoint URL');
  }
  if (options.emulator && options.endpoint) throw new BadInputError('--emulator and --endpoint are mutually exclusive');
  if (options.files.length === 0) throw new BadInputError('no event files given');
  // Every file is checked before anything runs: bad input changes nothing.
  const loaded = loadEventFiles(options.files);

  const logger = new Logger({ serviceName: 'driftguard', logLevel: options.verbose ? 'INFO' : 'SILENT' });
  const emulator = options.emulator ? await startEmulator() : undefined;
  try {
    const endpoint = emulator?.url ?? options.endpoint;
    if (endpoint) {
      const applied = await useEndpoint(endpoint, emulator !== undefined);
      if (!emulator && !options.json) {
        for (const [name, value] of Object.entries(applied).sort())
          print(`settings: ${name}=${value} (provisioned on the endpoint)`);
      }
    }
    const settings = loadSettings();
    await checkStateTable(settings.stateTable, endpoint);
    const inbox = openNoticeInbox(warn);
    const identity = await new STSClient({ region: process.env.AWS_REGION ?? 'us-east-1' }).send(
      new GetCallerIdentityCommand({}),
    );
    const account = identity.Account ?? '';
    const engine = { settings, aws: createAwsClients() };
    const keys = new Map<string, { keyId: string; arn: string }>();
    const handlers = new Map(
      GUARDS.map((guard) => [
        guard,
        createGuardHandler(guard, {
          settings,
          logger,
          ownPrincipalArns: identity.Arn ? [identity.Arn] : [],
          dryRun: options.dryRun ?? false,
          // One attempt, no Lambda retries: a failure is notified at once.
          attempts: 1,
        }),
      ]),
    );
    // The alarm-notice function's handler, as Lambda runs it: a notice per alarm state change of the engine's alarms.
    const alarmHandler = createAlarmNoticeHandler(ALARM_NOTICE_DEFAULTS, {
      settings,
      logger,
      dryRun: options.dryRun ?? false,
    });
    const items: ReplayItem[] = [];
    for (const { file, event: original } of loaded) {
      const notes: string[] = [];
      if (isAlarm(original)) {
        if (options.reenact) notes.push('not reenacted: an alarm state change is no API call');
        let result: HandledEvent;
        try {
          result = await alarmHandler(original, alarmContext(original, account));
        } catch (error) {
          result = alarmFailed(original, error);
        }
        const { notice } = result;
        const noticeDelivered = notice?.published && inbox ? await inbox.received(notice.subject) : false;
        const item = { file, result, notes, noticeDelivered };
        items.push(item);
        print(options.json ? JSON.stringify(jsonLine(item)) : readable(item));
        continue;
      }
      let event = original;
      if (options.reenact && endpoint) event = await reenact(event, { endpoint, account, notes, engine, keys });
      const guard = GUARDS.find((g) => findRule(g.rules, event) !== undefined);
      const handler = guard ? handlers.get(guard) : undefined;
      let result: HandledEvent;
      try {
        result =
          handler && guard
            ? await handler(event, lambdaContext(event, account, `driftguard-replay-${guard.file}`))
            : ignoredWithoutGuard(event);
      } catch (error) {
        // One event's failure is that event's result: the rest of the batch still runs.
        result = error instanceof RemediationFailedError ? error.result : handlerFailed(event, guard, error);
      }
      const { notice } = result;
      const noticeDelivered = notice?.published && inbox ? await inbox.received(notice.subject) : false;
      const item = { file, result, notes, noticeDelivered };
      items.push(item);
      print(options.json ? JSON.stringify(jsonLine(item)) : readable(item));
    }
    return { items, exitCode: items.some((item) => item.result.outcome === 'failed') ? 1 : 0 };
  } finally {
    await emulator?.stop();
  }
}

async function reenact(event: CloudTrailEvent, ctx: ReenactContext) {
  const { account, notes } = ctx;
  const rebased = rebase(event, account, notes);
  if (rebased.detail.errorCode !== undefined) {
    notes.push(`not reenacted: the original call failed (${rebased.detail.errorCode}), so it changed nothing`);
    return rebased;
  }
  const reenactment = REENACTMENTS[reenactmentKey(rebased)];
  if (reenactment === undefined) {
    notes.push(`not reenacted: no reenactment for ${reenactmentKey(rebased)}`);
    return rebased;
  }
  let result: CloudTrailEvent;
  try {
    result = await reenactment(rebased, ctx);
  } catch (error) {
    notes.push(`not reenacted, replayed as it is: ${describeError(error)}`);
    return rebased;
  }
  // The call was just made: the event's time is now (a logging gap is measured from it).
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  notes.push(`reenacted ${rebased.detail.eventName} in ${rebased.detail.awsRegion} at ${now}`);
  return { ...result, time: now, detail: { ...result.detail, eventTime: now } };
}

function jsonLine({ file, result, notes, noticeDelivered }: ReplayItem) {
  return {
    eventId: result.eventId,
    eventName: result.eventName,
    rule: result.rule,
    outcome: result.outcome,
    reason: result.reason,
    actions: result.actions,
    notice: result.notice
      ? { subject: result.notice.subject, severity: result.notice.severity, delivered: noticeDelivered }
      : null,
    file,
    resource: result.resource?.id ?? null,
    findings: result.findings,
    failures: result.failures,
    needsHuman: result.needsHuman,
    notes,
  };
}

function readable({ file, result, notes, noticeDelivered }: ReplayItem): string {
  const lines = [
    `${file}`,
    `  ${result.eventName} ${result.resource ? `${result.resource.type} ${result.resource.id} ` : ''}-> ${result.outcome}: ${result.reason}`,
  ];
  for (const note of notes) lines.push(`    reenact: ${note}`);
  for (const finding of result.findings) lines.push(`    ${finding.attribute}: ${finding.before} -> ${finding.after}`);
  for (const failure of result.failures) lines.push(`    FAILED ${failure.api}: ${failure.error}`);
  for (const step of result.needsHuman) lines.push(`    a human must: ${step}`);
  if (result.notice) {
    const where = result.notice.published
      ? noticeDelivered
        ? 'published, read back from the notice queue'
        : 'published'
      : 'not published';
    lines.push(`  notice (${where}): ${result.notice.subject}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseReplayArgs>;
  try {
    parsed = parseReplayArgs(argv);
  } catch (error) {
    process.stderr.write(`replay: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const report = await runReplay(parsed);
    return report.exitCode;
  } catch (error) {
    if (error instanceof BadInputError || error instanceof SettingsError) {
      process.stderr.write(`replay: ${(error as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`replay: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  }
}

export function parseReplayArgs(argv: string[]): ReplayOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      emulator: { type: 'boolean' },
      endpoint: { type: 'string' },
      reenact: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
  });
  return {
    files: positionals,
    emulator: values.emulator ?? false,
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    reenact: values.reenact ?? false,
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    verbose: values.verbose ?? false,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
