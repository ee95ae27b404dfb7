/**
 * CloudTrail API-call events as EventBridge delivers them, written by tests from AWS's documented shapes (CloudTrail
 * record contents and userIdentity reference) rather than copied from events/: the replay must handle records it has
 * never seen.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// biome-ignore lint/suspicious/noExplicitAny: events are JSON written field by field
export type Json = Record<string, any>;

export interface ApiCall {
  account: string;
  /** e.g. aws.logs; the eventSource is the service's host (logs.amazonaws.com). */
  source: string;
  eventName: string;
  region: string;
  requestParameters: Json;
  responseElements?: Json | null;
  /** The ARNs of detail.resources, as CloudTrail lists them for KMS calls. */
  resources?: { type: string; ARN: string }[];
  /** The caller; an IAM user named alice by default. */
  userIdentity?: Json;
}

/** An IAM user calling with an access key, as CloudTrail's userIdentity reference shows it. */
export function iamUser(account: string, userName: string): Json {
  return {
    type: 'IAMUser',
    principalId: 'AIDAJ45Q7YFFAREXAMPLE',
    arn: `arn:aws:iam::${account}:user/${userName}`,
    accountId: account,
    accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
    userName,
  };
}

let sequence = 0;

/** The EventBridge envelope around the CloudTrail record of one successful call, with ids of its own. */
export function apiCallEvent(call: ApiCall): Json {
  sequence += 1;
  const id = `${Date.now().toString(16)}-${sequence.toString().padStart(4, '0')}`;
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const service = call.source.replace(/^aws\./, '');
  return {
    version: '0',
    id: `4f1a2b3c-${id}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: call.source,
    account: call.account,
    time,
    region: call.region,
    resources: [],
    detail: {
      eventVersion: '1.11',
      userIdentity: call.userIdentity ?? iamUser(call.account, 'alice'),
      eventTime: time,
      eventSource: `${service}.amazonaws.com`,
      eventName: call.eventName,
      awsRegion: call.region,
      sourceIPAddress: '203.0.113.25',
      userAgent: 'aws-cli/2.24.0 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.9',
      requestParameters: call.requestParameters,
      responseElements: call.responseElements ?? null,
      requestID: `9b8c7d6e-${id}`,
      eventID: `e5d4c3b2-${id}`,
      readOnly: false,
      ...(call.resources ? { resources: call.resources.map((r) => ({ accountId: call.account, ...r })) } : {}),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: call.account,
      eventCategory: 'Management',
      tlsDetails: {
        tlsVersion: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        clientProvidedHostHeader: `${service}.${call.region}.amazonaws.com`,
      },
    },
  };
}

/** Each event in a file of its own, in a fresh folder outside the repository; the paths in order. */
export function writeEventFiles(events: Json[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'driftguard-api-calls-'));
  return events.map((event, index) => {
    const file = join(dir, `${index + 1}-${event.detail.eventName}.json`);
    writeFileSync(file, JSON.stringify(event, null, 2));
    return file;
  });
}
