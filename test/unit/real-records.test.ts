/**
 * What real CloudTrail records look like (CloudTrail's userIdentity and record-contents documentation): every identity
 * type and optional field parsed, screened and named; "global" as a record's region; the key a record is known by.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedEventError, parseCloudTrailEvent } from '../../lib/envelope.js';
import { eventFacts } from '../../lib/mfa/event-facts.js';
import { recordKey } from '../../lib/record-key.js';
import { isSkip } from '../../lib/rule.js';
import { consoleSignInMfa } from '../../lib/rules/console-signin-mfa.js';
import { mfaQuarantine } from '../../lib/rules/mfa-quarantine.js';
import { actorName, type ScreeningContext, screenEvent } from '../../lib/screening.js';
import { IDENTITIES } from '../fixtures/identities.js';
import { ACCOUNT, FIXTURE_EVENTS_DIR, type RawEvent, rawSample, sampleWith } from './fixtures.js';

const ENGINE_ROLE = `arn:aws:iam::${ACCOUNT}:role/driftguard-dev-logGroupGuard`;
const ctx: ScreeningContext = { accountId: ACCOUNT, engineRoleArns: [ENGINE_ROLE], ownPrincipalArns: [] };

/** Optional record fields, present or absent as real records have them. */
const RECORD_VARIANTS: [string, (raw: RawEvent) => void][] = [
  [
    'invokedBy (a service acting for the caller)',
    (raw) => {
      (raw.detail.userIdentity as Record<string, unknown>).invokedBy = 'cloudformation.amazonaws.com';
    },
  ],
  ['vpcEndpointId', (raw) => Object.assign(raw.detail, { vpcEndpointId: 'vpce-0123456789abcdef0' })],
  ['sessionCredentialFromConsole', (raw) => Object.assign(raw.detail, { sessionCredentialFromConsole: 'true' })],
  [
    'tlsDetails',
    (raw) =>
      Object.assign(raw.detail, {
        tlsDetails: {
          tlsVersion: 'TLSv1.2',
          cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
          clientProvidedHostHeader: 'logs.eu-west-1.amazonaws.com',
        },
      }),
  ],
  ['no recipientAccountId', (raw) => Reflect.deleteProperty(raw.detail, 'recipientAccountId')],
  ['no eventType', (raw) => Reflect.deleteProperty(raw.detail, 'eventType')],
  [
    'accessKeyId ""',
    (raw) => {
      (raw.detail.userIdentity as Record<string, unknown>).accessKeyId = '';
    },
  ],
];

describe('identity shapes', () => {
  it.each(IDENTITIES)('parses, acts on and names %s', (_label, userIdentity, actor) => {
    // Prepare
    const raw = rawSample('logs-CreateLogGroup-plain');
    raw.detail.userIdentity = userIdentity;

    // Act
    const event = parseCloudTrailEvent(raw);

    // Assess
    expect(event.detail.userIdentity).toEqual(userIdentity);
    expect(screenEvent(event, ctx)).toBeUndefined();
    expect(actorName(event.detail.userIdentity)).toBe(actor);
  });

  it.each(RECORD_VARIANTS)('parses and acts on a record with %s', (_label, change) => {
    // Act
    const event = sampleWith('logs-CreateLogGroup-plain', change);

    // Assess
    expect(screenEvent(event, ctx)).toBeUndefined();
    expect(actorName(event.detail.userIdentity)).toBe('alice');
  });

  it('still knows the engine’s own role session without a sessionContext, by its ARN', () => {
    // Prepare
    const event = sampleWith('logs-CreateLogGroup-plain', (raw) => {
      raw.detail.userIdentity = {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/driftguard-dev-logGroupGuard/driftguard`,
        accountId: ACCOUNT,
        accessKeyId: '',
      };
    });

    // Act
    const verdict = screenEvent(event, ctx);

    // Assess
    expect(verdict?.code).toBe('engine-own-call');
  });

  it.each([
    ['IdentityCenterUser', 'an IdentityCenterUser'],
    ['FederatedUser', 'a FederatedUser'],
    ['WebIdentityUser', 'a WebIdentityUser'],
  ])('leaves a %s console sign-in to its identity provider', (type, named) => {
    // Prepare
    const identity = IDENTITIES.find(([, shape]) => shape.type === type)?.[1];
    const event = sampleWith('signin-ConsoleLogin-no-MFA-iam-user', (raw) => {
      raw.detail.userIdentity = identity;
    });

    // Act
    const target = consoleSignInMfa.target(event);

    // Assess
    expect(isSkip(target) && target.skip).toMatch(new RegExp(`^${named} sign-in:`));
  });
});

describe('a record whose region is "global"', () => {
  it.each([
    ['a root sign-in', 'signin-ConsoleLogin-no-MFA-root-global'],
    ['an assumed-role sign-in', 'signin-ConsoleLogin-assumed-role-global'],
  ])('acts in the envelope’s region: %s', (_label, name) => {
    // Prepare
    const raw = rawSample(name);

    // Act
    const event = parseCloudTrailEvent(raw);

    // Assess
    expect(raw.detail.awsRegion).toBe('global');
    expect(event.detail.awsRegion).toBe('us-east-1');
    expect(eventFacts(event).region).toBe('us-east-1');
  });

  it('acts in whatever region the envelope names', () => {
    // Act
    const event = sampleWith('signin-ConsoleLogin-no-MFA-root-global', (raw) => {
      raw.region = 'eu-central-1';
    });

    // Assess
    expect(event.detail.awsRegion).toBe('eu-central-1');
  });

  it('gives the root user’s global sign-in without MFA the us-east-1 target, a root one', () => {
    // Act
    const target = consoleSignInMfa.target(sampleWith('signin-ConsoleLogin-no-MFA-root-global', () => undefined));

    // Assess
    expect(target).toMatchObject({ kind: 'root', region: 'us-east-1', mfaUsed: false });
  });

  it('gives an IAM-user target of a global MFA event the envelope’s region', () => {
    // Act
    const target = mfaQuarantine.target(
      sampleWith('iam-DeactivateMFADevice-root-on-iam-user', (raw) => {
        raw.detail.awsRegion = 'global';
      }),
    );

    // Assess
    expect(target).toMatchObject({ kind: 'user', userName: 'user1', region: 'us-east-1' });
  });

  it.each(['Global', 'globally', 'us-global-1x'])('still refuses %s as a region', (awsRegion) => {
    // Act
    const act = () =>
      sampleWith('signin-ConsoleLogin-no-MFA-root-global', (raw) => Object.assign(raw.detail, { awsRegion }));

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow('detail.awsRegion: must be an AWS region like eu-west-1, or global');
  });
});

describe('recordKey', () => {
  const fixture = (name: string) =>
    parseCloudTrailEvent(JSON.parse(readFileSync(join(FIXTURE_EVENTS_DIR, `${name}.json`), 'utf8')));

  it('tells apart AWS’s documented pair: a root sign-in with MFA and one without, under one eventID', () => {
    // Prepare
    const withMfa = fixture('signin-ConsoleLogin-root-with-MFA-shared-event-id');
    const withoutMfa = fixture('signin-ConsoleLogin-root-no-MFA-shared-event-id');

    // Act
    const keys = [recordKey(withMfa), recordKey(withoutMfa)];

    // Assess
    expect(withMfa.detail.eventID).toBe(withoutMfa.detail.eventID);
    expect(keys[0]).not.toBe(keys[1]);
    for (const key of keys) expect(key).toMatch(/^deb1e1f9-c99b-4612-8e9f-21f93b5d79c0#[0-9a-f]{64}$/);
  });

  it('gives a redelivery the same key, whatever its envelope, time or key order', () => {
    // Prepare
    const first = rawSample('iam-DeactivateMFADevice-root-on-iam-user');
    const again = rawSample('iam-DeactivateMFADevice-root-on-iam-user');
    again.id = 'another-envelope-id';
    again.time = '2026-11-22T00:00:00Z';
    again.detail.eventTime = '2026-11-22T00:00:00Z';
    const { serialNumber, userName } = again.detail.requestParameters as Record<string, string>;
    again.detail.requestParameters = { serialNumber, userName };

    // Act
    const keys = [recordKey(parseCloudTrailEvent(first)), recordKey(parseCloudTrailEvent(again))];

    // Assess
    expect(keys[0]).toBe(keys[1]);
  });

  it.each([
    ['the identity', (raw: RawEvent) => Object.assign(raw.detail.userIdentity as object, { userName: 'mallory' })],
    ['the event name', (raw: RawEvent) => Object.assign(raw.detail, { eventName: 'EnableMFADevice' })],
    [
      'the request',
      (raw: RawEvent) => Object.assign(raw.detail, { requestParameters: { userName: 'user2', serialNumber: 'x' } }),
    ],
    ['the response', (raw: RawEvent) => Object.assign(raw.detail, { responseElements: { done: true } })],
    ['the additional data', (raw: RawEvent) => Object.assign(raw.detail, { additionalEventData: { MFAUsed: 'No' } })],
  ])('gives another key to a record that differs in %s', (_label, change) => {
    // Prepare
    const original = sampleWith('iam-DeactivateMFADevice-root-on-iam-user', () => undefined);
    const changed = sampleWith('iam-DeactivateMFADevice-root-on-iam-user', change);

    // Act
    const keys = [recordKey(original), recordKey(changed)];

    // Assess
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[1]?.startsWith(`${original.detail.eventID}#`)).toBe(true);
  });
});
