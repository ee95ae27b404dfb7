/** Remediation notices: one SNS message per remediation or failure, readable by people and filterable by machines. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { CloudTrailEvent } from './envelope.js';
import type { Action, Finding, Outcome, Resource, Severity } from './rule.js';
import { actorName } from './screening.js';

/** What a notice is built from: the handled event and what the engine decided and did. */
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
const MIN_ID = 24;

/**
 * SNS subjects: printable ASCII, under 100 characters. When too long, the resource type goes first, then the
 * resource name is shortened in its middle, so that who did what and what was done stay readable.
 */
function composeSubject(head: string, type: string, id: string, tail: string): string {
  const [h, t] = [printable(head), printable(tail)];
  let name = printable(id);
  const full = `${h} ${printable(type)} ${name} ${t}`;
  if (full.length <= SUBJECT_LIMIT) return full;
  const room = Math.max(MIN_ID, SUBJECT_LIMIT - h.length - t.length - 2);
  if (name.length > room) {
    const keep = room - 3;
    name = `${name.slice(0, Math.ceil(keep / 2))}...${name.slice(name.length - Math.floor(keep / 2))}`;
  }
  const subject = `${h} ${name} ${t}`;
  return subject.length <= SUBJECT_LIMIT ? subject : `${subject.slice(0, SUBJECT_LIMIT - 3)}...`;
}

/** What the subject says was done: the fixes' briefs, with what failed or is left to a human. */
function subjectOutcome({ outcome, actions, failures }: NoticeInput): string {
  const briefs = actions
    .map((action) => action.brief)
    .filter((brief) => brief !== '')
    .join(', ');
  switch (outcome) {
    case 'remediated':
      return briefs;
    case 'planned':
      return `would do: ${briefs}`;
    case 'failed':
      return `FAILED ${failures.map(({ action }) => action.api.split(':')[1]).join(', ')}${briefs ? `; done: ${briefs}` : ''}`;
    case 'needs-human':
      return `needs a human${briefs ? `; done: ${briefs}` : ''}`;
    default:
      return OUTCOME_WORDS[outcome];
  }
}

export function buildNotice(input: NoticeInput): Notice {
  const { event, resource, outcome } = input;
  const { detail } = event;
  const actor = actorName(detail.userIdentity);
  const done = subjectOutcome(input);
  const subject = composeSubject(
    `[driftguard] ${input.severity.toUpperCase()}`,
    resource.type,
    resource.id,
    `${detail.eventName} by ${actor}: ${done}`,
  );
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
    actions: input.actions.map(({ api, params, summary }) => ({ api, params, summary })),
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
