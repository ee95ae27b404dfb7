/** guardduty-enabled's pure parts: the event's target, what counts as weaker, and the decision for each state. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { MalformedEventError } from '../../lib/envelope.js';
import {
  type DetectorConfig,
  detectorGaps,
  detectorLosses,
  type GuardDutyBaseline,
  longerFrequency,
} from '../../lib/guardduty-baselines.js';
import { isSkip } from '../../lib/rule.js';
import {
  decideGuardDuty,
  featureList,
  type GuardDutyState,
  type GuardDutyTarget,
  RECREATED_DETECTOR,
  targetOf,
} from '../../lib/rules/guardduty-enabled.js';
import { sampleEvent } from '../support/handler-harness.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ON = { enabled: true };
const ENABLED_FEATURES = {
  S3_DATA_EVENTS: 'ENABLED',
  EKS_AUDIT_LOGS: 'ENABLED',
  EBS_MALWARE_PROTECTION: 'ENABLED',
  RDS_LOGIN_EVENTS: 'ENABLED',
  LAMBDA_NETWORK_LOGS: 'ENABLED',
  RUNTIME_MONITORING: 'ENABLED',
};
const DESTINATION = {
  destinationType: 'S3',
  destinationArn: 'arn:aws:s3:::findings',
  kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`,
};
const NOOP_FILTER = {
  name: 'ec2-recon',
  action: 'NOOP',
  rank: 1,
  findingCriteria: { Criterion: { type: { Eq: ['x'] } } },
};
/** A legitimate suppression rule: port probes on unprotected ports archived. */
const ARCHIVE_FILTER = {
  name: 'suppress-scanner',
  action: 'ARCHIVE',
  rank: 2,
  findingCriteria: {
    Criterion: { type: { Eq: ['Recon:EC2/PortProbeUnprotectedPort'] }, 'service.resourceRole': { Eq: ['TARGET'] } },
  },
};
const TRUSTED = { id: 'ip9', name: 'vpn', status: 'ACTIVE', location: 'https://s3.amazonaws.com/lists/vpn.txt' };
/** What GetDetector answers: the foundational sources too, and both runtime monitoring features. */
const GET_DETECTOR_FEATURES = {
  CLOUD_TRAIL: 'ENABLED',
  DNS_LOGS: 'ENABLED',
  FLOW_LOGS: 'ENABLED',
  ...ENABLED_FEATURES,
  EKS_RUNTIME_MONITORING: 'ENABLED',
};

function detector(over: Partial<DetectorConfig> = {}): DetectorConfig {
  return {
    detectorId: 'd1',
    ...ON,
    findingPublishingFrequency: 'FIFTEEN_MINUTES',
    features: { ...ENABLED_FEATURES },
    tags: { owner: 'security' },
    filters: [NOOP_FILTER],
    destinations: [DESTINATION],
    trustedIpSets: [{ id: 'ip1', name: 'office', status: 'INACTIVE', location: 'https://s3/x' }],
    administrator: '210987654321',
    ...over,
  };
}

const baseline = (config = detector()): GuardDutyBaseline => ({
  region: REGION,
  config,
  capturedAt: '2026-11-30T10:00:00.000Z',
  capturedFrom: 'deploy',
});

const target = (eventName?: string, over: Partial<GuardDutyTarget> = {}): GuardDutyTarget => ({
  region: REGION,
  account: ACCOUNT,
  ...(eventName
    ? { eventName, eventId: 'e1', eventTime: '2026-12-01T09:00:00Z', detectorId: 'd1' }
    : { sweepId: 's1' }),
  ...over,
});

const state = (t: GuardDutyTarget, current: DetectorConfig | undefined, base?: GuardDutyBaseline): GuardDutyState => ({
  target: t,
  current,
  baseline: base,
});

const ENABLE_MISSING = { guarddutyEnableMissing: true };

describe('targetOf', () => {
  it.each([
    ['guardduty-DeleteDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0', eventName: 'DeleteDetector' }],
    ['guardduty-CreateFilter-archive-everything', { filterName: 'quiet' }],
    ['guardduty-UpdateFilter-to-archive', { filterName: 'ec2-recon' }],
    ['guardduty-CreateIPSet-trusted-activated', { ipSetId: '0cb0f1a2e3d4c5b6a7988796a5b4c3d2' }],
    ['guardduty-UpdateIPSet-activate', { ipSetId: '0cb0f1a2e3d4c5b6a7988796a5b4c3d2' }],
    ['guardduty-DeleteDetector-ap-southeast-2', { region: 'ap-southeast-2' }],
  ])('%s names %o', (sample, expected) => {
    expect(targetOf(sampleEvent(sample))).toMatchObject(expected);
  });

  const altered = (sample: string, params: Record<string, unknown>): CloudTrailEvent => {
    const event = sampleEvent(sample);
    return {
      ...event,
      detail: { ...event.detail, requestParameters: { ...event.detail.requestParameters, ...params } },
    };
  };

  it.each([
    ['a NOOP filter', altered('guardduty-CreateFilter-archive-everything', { action: 'NOOP' }), /NOOP/],
    [
      'an IP list not activated',
      altered('guardduty-CreateIPSet-trusted-activated', { activate: false }),
      /not activated/,
    ],
    ['an IP list deactivated', altered('guardduty-UpdateIPSet-activate', { activate: false }), /not activated/],
  ])('skips %s', (_label, event, reason) => {
    const result = targetOf(event);
    expect(isSkip(result) && result.skip).toMatch(reason);
  });

  it.each([
    ['no detector id', { detectorId: undefined }, /detectorId must be a non-empty string/],
    ['a detector id that is not one', { detectorId: '../../x' }, /is not a GuardDuty detector id/],
  ])('refuses %s', (_label, params, message) => {
    expect(() => targetOf(altered('guardduty-DeleteDetector', params))).toThrow(MalformedEventError);
    expect(() => targetOf(altered('guardduty-DeleteDetector', params))).toThrow(message);
  });
});

describe('longerFrequency and detectorLosses', () => {
  it.each([
    ['SIX_HOURS', 'FIFTEEN_MINUTES', true],
    ['ONE_HOUR', 'FIFTEEN_MINUTES', true],
    ['FIFTEEN_MINUTES', 'SIX_HOURS', false],
    ['ONE_HOUR', 'ONE_HOUR', false],
  ])('%s longer than %s: %s', (a, b, longer) => {
    expect(longerFrequency(a, b)).toBe(longer);
  });

  it.each<[string, Partial<DetectorConfig>, string[]]>([
    ['nothing', {}, []],
    ['a strengthening', { findingPublishingFrequency: 'FIFTEEN_MINUTES', tags: { more: 'x' } }, []],
    ['a suspension', { enabled: false }, ['detector suspended']],
    [
      'a feature',
      { features: { ...ENABLED_FEATURES, S3_DATA_EVENTS: 'DISABLED' } },
      ['feature S3_DATA_EVENTS disabled'],
    ],
    [
      'the frequency',
      { findingPublishingFrequency: 'SIX_HOURS' },
      ['findings published SIX_HOURS instead of FIFTEEN_MINUTES'],
    ],
    ['a filter', { filters: [] }, ['filter ec2-recon deleted']],
    ['an archive filter', { filters: [{ ...NOOP_FILTER, action: 'ARCHIVE' }] }, ['filter ec2-recon archives findings']],
    ['the export', { destinations: [] }, ['findings no longer exported to arn:aws:s3:::findings']],
    [
      'a trusted list',
      { trustedIpSets: [{ id: 'ip1', name: 'office', status: 'ACTIVE', location: 'x' }] },
      ['trusted IP list office active'],
    ],
    ['the administrator', { administrator: undefined }, ['no longer a member of administrator 210987654321']],
  ])('%s', (_label, change, lost) => {
    expect(detectorLosses(detector(), detector(change))).toEqual(lost);
  });

  it.each<[string, Partial<DetectorConfig>, string[]]>([
    ['an ARCHIVE filter deleted (a suppression removed)', { filters: [NOOP_FILTER] }, []],
    [
      'an ARCHIVE filter widened',
      { filters: [NOOP_FILTER, { ...ARCHIVE_FILTER, findingCriteria: { Criterion: { severity: { Gte: 0 } } } }] },
      ['filter suppress-scanner archives other findings'],
    ],
    [
      'the rank changed, the criteria read back with their keys in another order',
      {
        filters: [
          NOOP_FILTER,
          {
            ...ARCHIVE_FILTER,
            findingCriteria: {
              Criterion: {
                'service.resourceRole': { Eq: ['TARGET'] },
                type: { Eq: ['Recon:EC2/PortProbeUnprotectedPort'] },
              },
            },
            rank: 3,
          },
        ],
      },
      [],
    ],
    [
      'the active trusted list pointed elsewhere',
      { trustedIpSets: [{ ...TRUSTED, location: 'https://s3.amazonaws.com/attacker/all.txt' }] },
      ['trusted IP list vpn reads another list'],
    ],
    [
      'the export under another key',
      { destinations: [{ ...DESTINATION, kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/theirs' }] },
      ['findings exported to arn:aws:s3:::findings under key arn:aws:kms:eu-west-1:444455556666:key/theirs'],
    ],
    [
      'an export the baseline does not name',
      { destinations: [DESTINATION, { ...DESTINATION, destinationArn: 'arn:aws:s3:::theirs' }] },
      ['findings exported to arn:aws:s3:::theirs, which the baseline does not name'],
    ],
  ])('with a suppression rule and an active list in the baseline: %s', (_label, change, lost) => {
    const base = detector({ filters: [NOOP_FILTER, ARCHIVE_FILTER], trustedIpSets: [TRUSTED] });
    expect(detectorLosses(base, { ...base, ...change })).toEqual(lost);
  });
});

describe('decideGuardDuty', () => {
  it('DeleteDetector with a baseline: re-created with its features, frequency and tags, then filters and export', () => {
    const decision = decideGuardDuty(state(target('DeleteDetector'), undefined, baseline()), ENABLE_MISSING);
    expect(decision.status).toBe('drifted');
    expect(decision.severity).toBe('critical');
    expect(decision.actions.map((a) => a.api)).toEqual([
      'guardduty:CreateDetector',
      'guardduty:CreateFilter',
      'guardduty:CreatePublishingDestination',
    ]);
    expect(decision.actions[0]?.params).toEqual({
      Enable: true,
      Features: Object.entries(ENABLED_FEATURES).map(([Name, Status]) => ({ Name, Status })),
      FindingPublishingFrequency: 'FIFTEEN_MINUTES',
      Tags: { owner: 'security' },
    });
    // The new detector's id is known only once it exists: resolved at send time.
    expect(decision.actions[1]?.params).toMatchObject({
      DetectorId: RECREATED_DETECTOR,
      Name: 'ec2-recon',
      Action: 'NOOP',
    });
    expect(decision.actions[1]?.resolve).toBeTypeOf('function');
    expect(decision.needsHuman[0]).toMatch(/findings in eu-west-1 are gone for good.*arn:aws:s3:::findings remain/);
    expect(decision.needsHuman[1]).toMatch(
      /aws guardduty create-members --region eu-west-1 .*AccountId=123456789012.*aws guardduty invite-members --region eu-west-1 .*--account-ids 123456789012/,
    );
  });

  it.each<[string, boolean, string, string[]]>([
    ['enables it when allowed', true, 'drifted', ['guardduty:CreateDetector']],
    ['tells a human when not', false, 'drifted', []],
  ])('a region with no detector and no baseline: %s', (_label, enableMissing, status, apis) => {
    const decision = decideGuardDuty(state(target(), undefined), { guarddutyEnableMissing: enableMissing });
    expect(decision.status).toBe(status);
    expect(decision.actions.map((a) => a.api)).toEqual(apis);
    if (enableMissing) {
      expect(decision.actions[0]?.params).toEqual({ Enable: true });
      expect(decision.bookkeeping).toEqual([expect.objectContaining({ kind: 'guardduty-baseline', mode: 'first' })]);
    } else {
      expect(decision.needsHuman[0]).toContain('aws guardduty create-detector --region eu-west-1 --enable');
    }
  });

  it.each<[string, Partial<DetectorConfig>, object]>([
    ['a suspension', { enabled: false }, { DetectorId: 'd1', Enable: true }],
    [
      'two features and the frequency',
      {
        features: { ...ENABLED_FEATURES, S3_DATA_EVENTS: 'DISABLED', EKS_AUDIT_LOGS: 'DISABLED' },
        findingPublishingFrequency: 'SIX_HOURS',
      },
      {
        DetectorId: 'd1',
        Features: [
          { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
          { Name: 'EKS_AUDIT_LOGS', Status: 'ENABLED' },
        ],
        FindingPublishingFrequency: 'FIFTEEN_MINUTES',
      },
    ],
  ])('UpdateDetector weakening %s: only that goes back', (_label, change, params) => {
    const decision = decideGuardDuty(state(target('UpdateDetector'), detector(change), baseline()), ENABLE_MISSING);
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toHaveLength(1);
    expect(decision.actions[0]).toMatchObject({ api: 'guardduty:UpdateDetector', params });
    expect(decision.bookkeeping ?? []).toEqual([]);
  });

  it('a strengthening UpdateDetector is accepted and the baseline follows', () => {
    const weaker = detector({ features: { ...ENABLED_FEATURES, RUNTIME_MONITORING: 'DISABLED' } });
    const decision = decideGuardDuty(state(target('UpdateDetector'), detector(), baseline(weaker)), ENABLE_MISSING);
    expect(decision.status).toBe('compliant');
    expect(decision.bookkeeping).toEqual([expect.objectContaining({ kind: 'guardduty-baseline', mode: 'follow' })]);
  });

  it('the sweep finding the detector as its baseline says: compliant, nothing kept', () => {
    const decision = decideGuardDuty(state(target(), detector(), baseline()), ENABLE_MISSING);
    expect(decision).toMatchObject({ status: 'compliant', actions: [] });
    expect(decision.bookkeeping).toBeUndefined();
  });

  it.each<[string, string, Partial<DetectorConfig>, RegExp]>([
    [
      'an ARCHIVE filter',
      'CreateFilter',
      {
        filters: [NOOP_FILTER, { name: 'quiet', action: 'ARCHIVE', findingCriteria: { Criterion: { severity: {} } } }],
      },
      /Filter quiet in eu-west-1 archives every new finding matching its criteria on severity.*go unseen/,
    ],
    [
      'a trusted IP list',
      'CreateIPSet',
      { trustedIpSets: [{ id: 'ip2', name: 'vpn', status: 'ACTIVE', location: 'https://s3/vpn.txt' }] },
      /Trusted IP list vpn \(https:\/\/s3\/vpn.txt\) is active.*no findings for traffic/,
    ],
    [
      'a disassociation',
      'DisassociateFromAdministratorAccount',
      { administrator: undefined },
      /no longer reach administrator account 210987654321.*aws guardduty invite-members/,
    ],
  ])('%s silences findings: needs-human, no write', (_label, eventName, change, step) => {
    const decision = decideGuardDuty(state(target(eventName), detector(change), baseline()), ENABLE_MISSING);
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toEqual([]);
    expect(decision.needsHuman).toEqual([expect.stringMatching(step)]);
  });

  it('a disassociation with no baseline still names the loss', () => {
    const decision = decideGuardDuty(
      state(target('DisassociateFromMasterAccount'), detector({ administrator: undefined })),
      ENABLE_MISSING,
    );
    expect(decision.needsHuman[0]).toMatch(/no longer reach administrator account \(unknown: no baseline named one\)/);
  });

  it('a suspended detector first seen by the sweep is enabled before its baseline is captured', () => {
    const decision = decideGuardDuty(state(target(), detector({ enabled: false })), ENABLE_MISSING);
    expect(decision.actions).toEqual([
      expect.objectContaining({ api: 'guardduty:UpdateDetector', params: { DetectorId: 'd1', Enable: true } }),
    ]);
    expect(decision.bookkeeping).toEqual([expect.objectContaining({ kind: 'guardduty-baseline', mode: 'first' })]);
  });

  it.each<[string, Record<string, string>, { Name: string; Status: string }[]]>([
    [
      'GetDetector’s answer: no foundational source, RUNTIME_MONITORING alone (it includes EKS)',
      GET_DETECTOR_FEATURES,
      Object.entries(ENABLED_FEATURES).map(([Name, Status]) => ({ Name, Status })),
    ],
    [
      'only EKS runtime monitoring on: EKS_RUNTIME_MONITORING alone',
      { S3_DATA_EVENTS: 'ENABLED', RUNTIME_MONITORING: 'DISABLED', EKS_RUNTIME_MONITORING: 'ENABLED' },
      [
        { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
        { Name: 'EKS_RUNTIME_MONITORING', Status: 'ENABLED' },
      ],
    ],
    ['a name no write call knows', { FLOW_LOGS: 'ENABLED', SOMETHING_NEW: 'ENABLED' }, []],
  ])('featureList, from %s', (_label, features, sent) => {
    expect(featureList(features)).toEqual(sent);
  });

  it('DeleteDetector with a baseline read from GetDetector: CreateDetector names only what it accepts', () => {
    const base = baseline(detector({ features: GET_DETECTOR_FEATURES }));
    const decision = decideGuardDuty(state(target('DeleteDetector'), undefined, base), ENABLE_MISSING);
    expect(decision.actions[0]).toMatchObject({
      api: 'guardduty:CreateDetector',
      params: { Features: Object.entries(ENABLED_FEATURES).map(([Name, Status]) => ({ Name, Status })) },
    });
  });

  it('UpdateDetector weakening both runtime features and a foundational source: only RUNTIME_MONITORING is sent', () => {
    const base = baseline(detector({ features: GET_DETECTOR_FEATURES }));
    const now = detector({
      features: {
        ...GET_DETECTOR_FEATURES,
        DNS_LOGS: 'DISABLED',
        RUNTIME_MONITORING: 'DISABLED',
        EKS_RUNTIME_MONITORING: 'DISABLED',
      },
    });
    const decision = decideGuardDuty(state(target('UpdateDetector'), now, base), ENABLE_MISSING);
    expect(decision.actions).toEqual([
      expect.objectContaining({
        api: 'guardduty:UpdateDetector',
        params: { DetectorId: 'd1', Features: [{ Name: 'RUNTIME_MONITORING', Status: 'ENABLED' }] },
      }),
    ]);
  });

  it('DeleteDetector with a suppression rule in the baseline: the ARCHIVE filter is not re-created, a human is told', () => {
    const base = baseline(detector({ filters: [NOOP_FILTER, ARCHIVE_FILTER] }));
    const decision = decideGuardDuty(state(target('DeleteDetector'), undefined, base), ENABLE_MISSING);
    expect(decision.actions.filter((a) => a.api === 'guardduty:CreateFilter').map((a) => a.params)).toEqual([
      expect.objectContaining({ Name: 'ec2-recon', Action: 'NOOP' }),
    ]);
    expect(decision.needsHuman).toContainEqual(
      expect.stringMatching(
        /Suppression filter suppress-scanner \(ARCHIVE\) of the deleted detector was not re-created.*aws guardduty create-filter --region eu-west-1 .*--name 'suppress-scanner' --action ARCHIVE --rank 2 --finding-criteria '\{/,
      ),
    );
  });

  it('an ARCHIVE filter deleted by a defender (the sweep): not put back, and the baseline may follow', () => {
    const base = baseline(detector({ filters: [NOOP_FILTER, ARCHIVE_FILTER] }));
    const swept = decideGuardDuty(state(target(), detector(), base), ENABLE_MISSING);
    expect(swept).toMatchObject({ status: 'compliant', actions: [], needsHuman: [] });
    expect(detectorLosses(base.config, detector())).toEqual([]);
  });

  it.each<[string, string, Partial<GuardDutyTarget>, Partial<DetectorConfig>, RegExp]>([
    [
      'an ARCHIVE filter widened (UpdateFilter without an action)',
      'UpdateFilter',
      { filterName: 'suppress-scanner' },
      { filters: [NOOP_FILTER, { ...ARCHIVE_FILTER, findingCriteria: { Criterion: { severity: { Gte: 0 } } } }] },
      /Filter suppress-scanner in eu-west-1 archives every new finding matching its criteria on severity/,
    ],
    [
      'an ARCHIVE filter changed by the event, criteria as before',
      'UpdateFilter',
      { filterName: 'suppress-scanner' },
      { filters: [NOOP_FILTER, ARCHIVE_FILTER] },
      /Filter suppress-scanner in eu-west-1 archives every new finding matching its criteria on type/,
    ],
    [
      'the active trusted list pointed at another object',
      'UpdateIPSet',
      { ipSetId: 'ip9' },
      { trustedIpSets: [{ ...TRUSTED, location: 'https://s3.amazonaws.com/attacker/all.txt?X-Amz-Signature=abc' }] },
      /Trusted IP list vpn \(https:\/\/s3.amazonaws.com\/attacker\/all.txt\) is active/,
    ],
    [
      'the active trusted list reloaded, same location (its object may have been overwritten)',
      'UpdateIPSet',
      { ipSetId: 'ip9' },
      { trustedIpSets: [TRUSTED] },
      /Trusted IP list vpn \(https:\/\/s3.amazonaws.com\/lists\/vpn.txt\) is active/,
    ],
    [
      'the export re-keyed (seen by the next event)',
      'UpdateDetector',
      {},
      {
        trustedIpSets: [TRUSTED],
        destinations: [{ ...DESTINATION, kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/theirs' }],
      },
      /export of findings to arn:aws:s3:::findings in eu-west-1 is now encrypted with key arn:aws:kms:eu-west-1:444455556666:key\/theirs instead of the baseline's .*update-publishing-destination/,
    ],
  ])('%s: needs-human, no write, no follow', (_label, eventName, over, change, step) => {
    const base = baseline(detector({ filters: [NOOP_FILTER, ARCHIVE_FILTER], trustedIpSets: [TRUSTED] }));
    const now = detector({ filters: [NOOP_FILTER, ARCHIVE_FILTER], trustedIpSets: [TRUSTED], ...change });
    const decision = decideGuardDuty(state(target(eventName, over), now, base), ENABLE_MISSING);
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toEqual([]);
    expect(decision.bookkeeping ?? []).toEqual([]);
    expect(decision.needsHuman).toEqual([expect.stringMatching(step)]);
    expect(decision.needsHuman.join(' ')).not.toContain('X-Amz-Signature');
  });

  it('deleted filters and export with the detector still there: put back on the present detector', () => {
    const decision = decideGuardDuty(
      state(target('DeletePublishingDestination'), detector({ filters: [], destinations: [] }), baseline()),
      ENABLE_MISSING,
    );
    expect(decision.actions.map((a) => [a.api, (a.params as { DetectorId: string }).DetectorId, a.resolve])).toEqual([
      ['guardduty:CreateFilter', 'd1', undefined],
      ['guardduty:CreatePublishingDestination', 'd1', undefined],
    ]);
  });
});

describe('the policy a first baseline taken from an event needs', () => {
  it.each<[string, Partial<DetectorConfig>, string[]]>([
    ['a detector as CreateDetector makes it, with a NOOP filter and an inactive list', {}, []],
    [
      'runtime monitoring off (opt-in) and a feature this region lacks',
      { features: { S3_DATA_EVENTS: 'ENABLED' } },
      [],
    ],
    ['any finding frequency', { findingPublishingFrequency: 'SIX_HOURS' }, []],
    ['suspended', { enabled: false }, ['detector suspended']],
    [
      'default features off',
      { features: { ...ENABLED_FEATURES, S3_DATA_EVENTS: 'DISABLED', LAMBDA_NETWORK_LOGS: 'DISABLED' } },
      ['feature S3_DATA_EVENTS DISABLED', 'feature LAMBDA_NETWORK_LOGS DISABLED'],
    ],
    ['an ARCHIVE filter', { filters: [NOOP_FILTER, ARCHIVE_FILTER] }, ['filter suppress-scanner ARCHIVE']],
    ['an active trusted IP list', { trustedIpSets: [TRUSTED] }, ['trusted IP list vpn ACTIVE']],
    [
      'a trusted IP list still activating',
      { trustedIpSets: [{ ...TRUSTED, status: 'ACTIVATING' }] },
      ['trusted IP list vpn ACTIVATING'],
    ],
    ['a trusted IP list deactivating', { trustedIpSets: [{ ...TRUSTED, status: 'DEACTIVATING' }] }, []],
    [
      'an export under another account’s key',
      { destinations: [{ ...DESTINATION, kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/theirs' }] },
      ['export to arn:aws:s3:::findings key arn:aws:kms:eu-west-1:444455556666:key/theirs'],
    ],
  ])('%s', (_label, change, gaps) => {
    const config = detector({ features: { ...ENABLED_FEATURES, RUNTIME_MONITORING: 'DISABLED' }, ...change });
    expect(detectorGaps(config, ACCOUNT, 'eu-west-1').map((g) => `${g.attribute} ${g.before}`)).toEqual(gaps);
  });

  it.each<[string, Partial<DetectorConfig>, string[]]>([
    [
      'suspended (the keeper’s re-read: an event’s decision enables it itself)',
      { enabled: false },
      ["aws guardduty update-detector --region eu-west-1 --detector-id 'd1' --enable"],
    ],
    [
      'a default feature off',
      { features: { ...ENABLED_FEATURES, RDS_LOGIN_EVENTS: 'DISABLED' } },
      [
        "aws guardduty update-detector --region eu-west-1 --detector-id 'd1' --features Name=RDS_LOGIN_EVENTS,Status=ENABLED",
      ],
    ],
    [
      'an ARCHIVE filter',
      { filters: [NOOP_FILTER, ARCHIVE_FILTER] },
      ["aws guardduty delete-filter --region eu-west-1 --detector-id 'd1' --filter-name 'suppress-scanner'"],
    ],
    [
      'an active trusted IP list',
      { trustedIpSets: [TRUSTED] },
      [`aws guardduty update-ip-set --region eu-west-1 --detector-id 'd1' --ip-set-id '${TRUSTED.id}' --no-activate`],
    ],
    [
      'an export under another account’s key',
      { destinations: [{ ...DESTINATION, kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/theirs' }] },
      [
        `aws guardduty update-publishing-destination --region eu-west-1 --detector-id 'd1' --destination-id DESTINATION_ID --destination-properties '{"DestinationArn":"arn:aws:s3:::findings","KmsKeyArn":"KEY_ARN"}' (DESTINATION_ID: aws guardduty list-publishing-destinations; KEY_ARN: a key of ${ACCOUNT})`,
      ],
    ],
  ])('the command that closes each gap: %s', (_label, change, fixes) => {
    const config = detector({ features: ENABLED_FEATURES, ...change });
    expect(detectorGaps(config, ACCOUNT, 'eu-west-1').flatMap((g) => g.fix ?? [])).toEqual(fixes);
  });

  it.each([
    'arn:aws:s3:::attacker-findings/x/$(touch /tmp/driftguard-pwned)/',
    'arn:aws:s3:::b/`id`',
    "arn:aws:s3:::b/it's; rm -rf ~",
    'arn:aws:s3:::b/a,b c"d',
    'arn:aws:s3:::b/line\nbreak',
  ])('hands the shell an intruder’s export ARN as data, never as code: %j', (destinationArn) => {
    const config = detector({
      features: ENABLED_FEATURES,
      destinations: [{ ...DESTINATION, destinationArn, kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/theirs' }],
      filters: [{ ...ARCHIVE_FILTER, name: "x'; touch /tmp/driftguard-pwned; '" }],
    });
    for (const fix of detectorGaps(config, ACCOUNT, 'eu-west-1').flatMap((g) => g.fix ?? [])) {
      const command = fix.replace(/ \(DESTINATION_ID: .*$/s, '');
      // bash runs the command with `aws` standing in, printing each argument it receives on a line of its own.
      const run = spawnSync('bash', ['-c', `aws() { for a in "$@"; do printf '%s\\0' "$a"; done; }; ${command}`]);
      expect(run.status).toBe(0);
      const args = run.stdout.toString().split('\0').slice(0, -1);
      const properties = args[args.indexOf('--destination-properties') + 1];
      if (properties !== undefined && args.includes('--destination-properties'))
        expect(JSON.parse(properties).DestinationArn).toBe(destinationArn);
      else expect(args[args.indexOf('--filter-name') + 1]).toBe("x'; touch /tmp/driftguard-pwned; '");
    }
    expect(existsSync('/tmp/driftguard-pwned')).toBe(false);
  });

  it.each<[string, GuardDutyTarget, Partial<DetectorConfig>, string[], string[], RegExp]>([
    [
      'an event, a feature off: no capture, a human told the gap and the next step',
      target('UpdateDetector'),
      { features: { ...ENABLED_FEATURES, EKS_AUDIT_LOGS: 'DISABLED' } },
      [],
      [],
      /GuardDuty in eu-west-1: no baseline captured: feature EKS_AUDIT_LOGS DISABLED\. Fix it \(aws guardduty update-detector --region eu-west-1 --detector-id 'd1' --features Name=EKS_AUDIT_LOGS,Status=ENABLED\), then the sweep captures it; as it is: npm run sweep -- --regions eu-west-1\./,
    ],
    [
      'an event, suspended with an active trusted list: enabled, no capture',
      target('UpdateIPSet', { ipSetId: 'ip9' }),
      { enabled: false, trustedIpSets: [TRUSTED] },
      ['guardduty:UpdateDetector'],
      [],
      /no baseline captured: trusted IP list vpn ACTIVE/,
    ],
    [
      'the sweep, an ARCHIVE filter: captured as it is, the gap told (as Config’s sweep)',
      target(),
      { filters: [ARCHIVE_FILTER] },
      [],
      ['first'],
      /^GuardDuty in eu-west-1: baseline captured as it is: filter suppress-scanner ARCHIVE\.$/,
    ],
  ])('no baseline: %s', (_label, t, change, apis, modes, step) => {
    const decision = decideGuardDuty(state(t, detector(change)), ENABLE_MISSING);
    expect(decision.status).toBe('drifted');
    expect(decision.actions.map((a) => a.api)).toEqual(apis);
    expect(decision.bookkeeping?.map((r) => (r.kind === 'guardduty-baseline' ? r.mode : r.kind))).toEqual(modes);
    expect(decision.needsHuman.join(' ')).toMatch(step);
  });

  it('an event on a detector that meets the policy: captured, on condition it still does when kept', () => {
    const decision = decideGuardDuty(state(target('UpdateDetector'), detector()), ENABLE_MISSING);
    expect(decision.status).toBe('compliant');
    expect(decision.bookkeeping).toEqual([
      expect.objectContaining({ kind: 'guardduty-baseline', mode: 'first', onlyIfCompliantFor: ACCOUNT }),
    ]);
  });
});
