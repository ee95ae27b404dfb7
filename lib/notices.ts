/** Remediation notices: one SNS message per remediation or failure, readable by people and filterable by machines. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { CloudTrailEvent } from './envelope.js';
import type { Action, Finding, Outcome, Resource, Severity } from './rule.js';
import { actorName } from './screening.js';

/** What a notice is built from: the handled event and what the engine decided and did. */
/**
 * A value as one shell word for a command a notice tells a human to run: single-quoted, a quote inside it closed and
 * escaped. Names an intruder chose (an export's S3 prefix, a filter's criteria) then reach the command as data.
 */
export const shellWord = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

export interface NoticeInput {
  event: CloudTrailEvent;
  ruleId: string;
  ruleTitle: string;
  severity: Severity;
  outcome: Outcome;
  reason: string;
  resource: Resource;
  findings: Finding[];
  /** Writes made (or, when planned, that would be made). */
  actions: Action[];
  /** Writes that failed, with the error. */
  failures: { action: Action; error: string }[];
  needsHuman: string[];
  /** Writes an earlier attempt at this event made before it failed (the retry found them done). */
  earlierWrites?: EarlierWrite[];
}

/** A write an attempt made before it failed: what it was, never its request parameters. */
export interface EarlierWrite {
  api: string;
  summary: string;
}

export interface Notice {
  subject: string;
  severity: Severity;
  text: string;
  document: Record<string, unknown>;
  attributes: Record<string, string>;
}

const SUBJECT_LIMIT = 99;

const OUTCOME_WORDS: Record<Outcome, string> = {
  remediated: 'remediated',
  planned: 'would remediate',
  failed: 'remediation FAILED',
  'needs-human': 'needs a human',
  compliant: 'compliant',
  ignored: 'ignored',
};

/** SNS subjects: ASCII printable, no line breaks, under 100 characters. */
const printable = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');
const CUT = '...';

/** `text` at most `length` characters long, cut in its middle (names differ at their ends: /app/x/prod, x-eu-west-1). */
function middle(text: string, length: number): string {
  if (text.length <= length) return text;
  const keep = length - CUT.length;
  return `${text.slice(0, Math.ceil(keep / 2))}${CUT}${text.slice(text.length - Math.floor(keep / 2))}`;
}

/** What a subject says was done: a word that always stays, and lists of fixes that may be cut from their end. */
interface SubjectOutcome {
  /** FAILED, would do, needs a human; empty for a remediation, whose fixes say it. */
  word: string;
  lists: { prefix: string; items: string[] }[];
}

/**
 * The outcome's text with only the first `keep` fixes: a cut list ends in "...", the word always stays; a
 * remediation with no fix listed says "remediated".
 */
function renderOutcome({ word, lists }: SubjectOutcome, keep: number): string {
  let left = keep;
  let text = word;
  for (const { prefix, items } of lists) {
    const shown = items.slice(0, left);
    left -= shown.length;
    if (shown.length > 0) text += `${prefix}${shown.join(', ')}`;
  }
  const total = lists.reduce((count, { items }) => count + items.length, 0);
  if (keep === 0 && word === '') return OUTCOME_WORDS.remediated;
  if (keep >= total) return text;
  const first = lists.find(({ items }) => items.length > 0);
  return keep === 0 ? `${text}${first?.prefix ?? ' '}${CUT}` : `${text}, ${CUT}`;
}

function subjectOutcome({ outcome, actions, failures }: NoticeInput): SubjectOutcome {
  const briefs = actions.map((action) => action.brief).filter((brief) => brief !== '');
  switch (outcome) {
    case 'remediated':
      return { word: '', lists: [{ prefix: '', items: briefs }] };
    case 'planned':
      return { word: 'would do', lists: [{ prefix: ': ', items: briefs }] };
    case 'failed':
      return {
        word: 'FAILED',
        lists: [
          { prefix: ' ', items: failures.map(({ action }) => action.api.split(':')[1] ?? action.api) },
          { prefix: '; done: ', items: briefs },
        ],
      };
    case 'needs-human':
      return { word: 'needs a human', lists: [{ prefix: '; done: ', items: briefs }] };
    default:
      return { word: OUTCOME_WORDS[outcome], lists: [] };
  }
}

interface SubjectParts {
  severity: Severity;
  type: string;
  name: string;
  eventName: string;
  actor: string;
  outcome: SubjectOutcome;
}

/**
 * `[driftguard] SEVERITY type name EventName by actor: outcome`, printable ASCII, under 100 characters. Shortened in
 * order of least importance until it fits: the resource type goes, then the fixes from the end of their list, then
 * the name in its middle, then the actor. The severity, the outcome's word and the event name always stay.
 */
function composeSubject({ severity, type, name, eventName, actor, outcome }: SubjectParts): string {
  const head = `[driftguard] ${severity.toUpperCase()}`;
  const fixes = outcome.lists.reduce((count, { items }) => count + items.length, 0);
  const shortenedOutcomes = Array.from({ length: fixes + 1 }, (_, index) =>
    printable(renderOutcome(outcome, fixes - index)),
  );
  const parts = {
    type: printable(type),
    name: printable(name),
    eventName: printable(eventName),
    actor: printable(actor),
    outcome: shortenedOutcomes[0] ?? '',
  };
  const subject = () =>
    `${head} ${parts.type ? `${parts.type} ` : ''}${parts.name} ${parts.eventName} by ${parts.actor}: ${parts.outcome}`;
  const squeeze = (field: 'name' | 'actor' | 'eventName', floor: number) => () => {
    const excess = subject().length - SUBJECT_LIMIT;
    parts[field] = middle(parts[field], Math.max(floor, parts[field].length - excess));
  };
  const shortenings = [
    () => {
      parts.type = '';
    },
    ...shortenedOutcomes.slice(1).map((text) => () => {
      parts.outcome = text;
    }),
    squeeze('name', 20),
    squeeze('actor', 16),
    squeeze('name', 7),
    squeeze('actor', 7),
    // Only an event name far longer than any a guard is sent gets here (the schema allows 128 characters).
    squeeze('eventName', 7),
  ];
  for (const shorten of shortenings) {
    if (subject().length <= SUBJECT_LIMIT) break;
    shorten();
  }
  return subject();
}

export function buildNotice(input: NoticeInput): Notice {
  const { event, resource, outcome } = input;
  const { detail } = event;
  const actor = actorName(detail.userIdentity);
  const subject = composeSubject({
    severity: input.severity,
    type: resource.type,
    name: resource.id,
    eventName: detail.eventName,
    actor,
    outcome: subjectOutcome(input),
  });
  const document = {
    kind: 'driftguard.notice',
    version: 1,
    rule: input.ruleId,
    title: input.ruleTitle,
    severity: input.severity,
    outcome,
    reason: input.reason,
    account: event.account,
    region: resource.region,
    resource,
    actor: { arn: detail.userIdentity.arn ?? null, name: actor, type: detail.userIdentity.type },
    sourceIPAddress: detail.sourceIPAddress ?? null,
    event: { id: detail.eventID, name: detail.eventName, time: detail.eventTime, source: detail.eventSource },
    findings: input.findings,
    // What a write did, in words (a policy change names its statements): never its parameters, a whole policy included.
    actions: input.actions.map(({ api, summary }) => ({ api, summary })),
    earlierAttempts: input.earlierWrites ?? [],
    failures: input.failures.map(({ action, error }) => ({ api: action.api, summary: action.summary, error })),
    needsHuman: input.needsHuman,
  };
  return {
    subject,
    severity: input.severity,
    text: renderText(input, actor),
    document,
    attributes: { severity: input.severity, rule: input.ruleId, outcome, account: event.account },
  };
}

function renderText(input: NoticeInput, actor: string): string {
  const { event, resource } = input;
  const { detail } = event;
  const lines = [
    `${OUTCOME_WORDS[input.outcome].toUpperCase()}: ${input.ruleTitle}`,
    '',
    `What drifted: ${resource.type} ${resource.id} (${detail.eventName})`,
    ...input.findings.map((finding) => `  - ${finding.attribute}: ${finding.before} -> ${finding.after}`),
    `Who: ${actor} (${detail.userIdentity.arn ?? detail.userIdentity.type}) from ${detail.sourceIPAddress ?? 'unknown IP'}`,
    `When: ${detail.eventTime}`,
  ];
  const verb = input.outcome === 'planned' ? 'What would be done (notify mode, nothing changed)' : 'What was done';
  if (input.actions.length > 0) {
    lines.push(`${verb}:`, ...input.actions.map((action) => `  - ${action.summary} (${action.api})`));
  } else {
    lines.push(`${verb}: nothing`);
  }
  for (const { action, error } of input.failures) lines.push(`  ! FAILED ${action.summary} (${action.api}): ${error}`);
  if (input.earlierWrites?.length) {
    lines.push(
      'Done by an earlier attempt at this event, which then failed:',
      ...input.earlierWrites.map((write) => `  - ${write.summary} (${write.api})`),
    );
  }
  if (input.needsHuman.length > 0)
    lines.push('What a human must do:', ...input.needsHuman.map((step) => `  - ${step}`));
  lines.push(
    `Why: ${input.reason}`,
    '',
    `Rule: ${input.ruleId}   Severity: ${input.severity}   Outcome: ${input.outcome}`,
    `Account: ${event.account}   Region: ${resource.region}`,
    `Resource: ${resource.arn ?? resource.id}`,
    ...(resource.consoleUrl ? [`Console: ${resource.consoleUrl}`] : []),
    `Event: ${detail.eventID}`,
  );
  return lines.join('\n');
}

/** Per-protocol message (MessageStructure json) and filterable attributes. */
export function publishInput(notice: Notice, topicArn: string) {
  const json = JSON.stringify(notice.document);
  return {
    TopicArn: topicArn,
    Subject: notice.subject,
    MessageStructure: 'json',
    Message: JSON.stringify({
      default: notice.text,
      email: notice.text,
      sqs: json,
      lambda: json,
      https: json,
      http: json,
    }),
    MessageAttributes: Object.fromEntries(
      Object.entries(notice.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    ),
  };
}

export async function publishNotice(sns: SNSClient, notice: Notice, topicArn: string): Promise<string | undefined> {
  const output = await sns.send(new PublishCommand(publishInput(notice, topicArn)));
  return output.MessageId;
}
