import { describe, expect, it } from 'vitest';
import { type ConfigBaseline, followLosses } from '../../lib/config-baselines.js';
import {
  type ChannelConfig,
  channelNarrowings,
  putRecorderInput,
  type RecorderConfig,
  type RegionRecording,
  recorderNarrowings,
  recordingGaps,
  restoredChannel,
  restoredRecorder,
} from '../../lib/config-recording.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { isSkip } from '../../lib/rule.js';
import {
  type ConfigAction,
  type ConfigState,
  configRecorderOn,
  decideConfigFixes,
  explainConfigFailure,
} from '../../lib/rules/config-recorder-on.js';
import { ACCOUNT, params, sample, sampleWith } from './fixtures.js';

const REGION = 'eu-west-1';
/** The service-linked role the policy (Security Hub Config.1) wants. */
const ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`;
const OTHER_ACCOUNT = '444455556666';
const EVENT_TIME = '2026-11-30T14:01:00Z';
const CAPTURED_AT = '2026-11-29T08:00:00Z';

function recorder(change: Partial<RecorderConfig> = {}): RecorderConfig {
  return {
    name: 'default',
    roleArn: ROLE,
    allSupported: true,
    includeGlobalResourceTypes: true,
    resourceTypes: [],
    excludedResourceTypes: [],
    recordingFrequency: 'CONTINUOUS',
    overrides: [],
    ...change,
  };
}

function channel(change: Partial<ChannelConfig> = {}): ChannelConfig {
  return {
    name: 'default',
    s3BucketName: 'config-archive',
    s3KeyPrefix: 'config',
    s3KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    snsTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:config-changes`,
    deliveryFrequency: 'Six_Hours',
    ...change,
  };
}

const BASELINE: ConfigBaseline = {
  region: REGION,
  recorder: recorder(),
  channel: channel(),
  recording: true,
  capturedAt: CAPTURED_AT,
  capturedFrom: 'deploy',
};

const allOn: RegionRecording = { recorder: recorder(), channel: channel(), recording: true };

/** 'none': no baseline was ever captured. */
function state(eventName: string | undefined, current: RegionRecording, baseline: ConfigBaseline | 'none' = BASELINE) {
  const target = eventName
    ? { region: REGION, account: ACCOUNT, recorderName: 'default', eventName, eventId: 'ev-1', eventTime: EVENT_TIME }
    : { region: REGION, account: ACCOUNT, sweepId: 'sweep-1' };
  return {
    target,
    current,
    baseline: baseline === 'none' ? undefined : baseline,
    now: '2026-11-30T14:05:00Z',
  } satisfies ConfigState;
}

const apis = (actions: ConfigAction[]) => actions.map((a) => a.api);

describe('decideConfigFixes with a baseline', () => {
  it.each([
    ['StopConfigurationRecorder', { ...allOn, recording: false }, ['config:StartConfigurationRecorder']],
    [
      'DeleteConfigurationRecorder',
      { channel: channel(), recording: false },
      ['config:PutConfigurationRecorder', 'config:StartConfigurationRecorder'],
    ],
    [
      'DeleteDeliveryChannel',
      { recorder: recorder(), recording: false },
      ['config:PutDeliveryChannel', 'config:StartConfigurationRecorder'],
    ],
    [
      'PutConfigurationRecorder',
      {
        ...allOn,
        recorder: recorder({
          allSupported: false,
          includeGlobalResourceTypes: false,
          resourceTypes: ['AWS::EC2::Instance'],
        }),
      },
      ['config:PutConfigurationRecorder'],
    ],
    [
      'PutConfigurationRecorder',
      { ...allOn, recorder: recorder({ recordingFrequency: 'DAILY' }) },
      ['config:PutConfigurationRecorder'],
    ],
    [
      'PutConfigurationRecorder',
      { ...allOn, recorder: recorder({ roleArn: `arn:aws:iam::${ACCOUNT}:role/other` }) },
      ['config:PutConfigurationRecorder'],
    ],
    [
      'PutDeliveryChannel',
      { ...allOn, channel: channel({ s3BucketName: 'attacker-bucket' }) },
      ['config:PutDeliveryChannel'],
    ],
    [
      'PutDeliveryChannel',
      { ...allOn, channel: channel({ deliveryFrequency: 'TwentyFour_Hours' }) },
      ['config:PutDeliveryChannel'],
    ],
    // Everything gone (sweep): recorder, then channel, then start: the order AWS requires.
    [
      undefined,
      { recording: false },
      ['config:PutConfigurationRecorder', 'config:PutDeliveryChannel', 'config:StartConfigurationRecorder'],
    ],
  ] as [string | undefined, RegionRecording, string[]][])('%s: writes %j', (eventName, current, expected) => {
    const decision = decideConfigFixes(state(eventName, current));
    expect(decision.status).toBe('drifted');
    expect(apis(decision.actions)).toEqual(expected.length ? expected : []);
  });

  it('re-creates a deleted recorder exactly as its baseline says, then starts it', () => {
    const decision = decideConfigFixes(state('DeleteConfigurationRecorder', { channel: channel(), recording: false }));
    expect(decision.actions[0]?.params).toEqual(putRecorderInput(recorder()));
    expect(decision.actions[1]?.params).toEqual({ ConfigurationRecorderName: 'default' });
    expect(decision.findings[0]).toMatchObject({
      attribute: 'recorder',
      before: `deleted (nothing recorded since ${EVENT_TIME})`,
    });
  });

  it.each([
    ['bucket', { s3BucketName: 'attacker-bucket' }],
    ['KMS key', { s3KmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/attacker' }],
    ['SNS topic', { snsTopicArn: 'arn:aws:sns:eu-west-1:444455556666:attacker' }],
    ['SNS topic', { snsTopicArn: undefined }],
  ])('a channel whose %s changed is suspicious: the baseline channel back, and a human told', (what, change) => {
    const decision = decideConfigFixes(state('PutDeliveryChannel', { ...allOn, channel: channel(change) }));
    expect(decision.reason).toContain('suspicious');
    expect(decision.needsHuman[0]).toContain(`channel ${what}`);
    expect(decision.actions).toEqual([
      expect.objectContaining({
        api: 'config:PutDeliveryChannel',
        params: {
          DeliveryChannel: expect.objectContaining({
            s3BucketName: 'config-archive',
            s3KmsKeyArn: channel().s3KmsKeyArn,
            snsTopicARN: channel().snsTopicArn,
          }),
        },
      }),
    ]);
    expect(decision.bookkeeping).toEqual([expect.objectContaining({ kind: 'config-baseline', mode: 'follow' })]);
  });

  it.each([
    ['more types', recorder({ allSupported: true, includeGlobalResourceTypes: true })],
    ['a shorter delivery', undefined],
  ])('a widening (%s) is accepted and the baseline follows', (_what, widened) => {
    const narrowBaseline = {
      ...BASELINE,
      recorder: recorder({
        allSupported: false,
        includeGlobalResourceTypes: false,
        resourceTypes: ['AWS::S3::Bucket'],
      }),
    };
    const current = widened
      ? { ...allOn, recorder: widened }
      : { ...allOn, recorder: narrowBaseline.recorder, channel: channel({ deliveryFrequency: 'One_Hour' }) };
    const decision = decideConfigFixes(
      state(widened ? 'PutConfigurationRecorder' : 'PutDeliveryChannel', current, narrowBaseline),
    );
    expect(decision.status).toBe('compliant');
    expect(decision.actions).toEqual([]);
    expect(decision.bookkeeping).toEqual([
      { kind: 'config-baseline', region: REGION, from: 'ev-1', mode: 'follow', summary: 'the baseline follows' },
    ]);
  });

  it('a stop with nothing else changed follows nothing (only Put calls carry accepted changes)', () => {
    const decision = decideConfigFixes(state('StopConfigurationRecorder', { ...allOn, recording: false }));
    expect(decision.bookkeeping).toBeUndefined();
  });

  it('the sweep finds a region as its baseline says: compliant, no write', () => {
    expect(decideConfigFixes(state(undefined, allOn))).toMatchObject({ status: 'compliant', actions: [] });
  });

  it('a failing delivery is told to a human', () => {
    const decision = decideConfigFixes(state(undefined, { ...allOn, deliveryError: 'AccessDenied' }));
    expect(decision.status).toBe('drifted');
    expect(decision.needsHuman[0]).toContain('AccessDenied');
  });
});

describe('decideConfigFixes without a baseline', () => {
  it('no recorder: needs a human, with the exact commands (the engine invents no bucket or role)', () => {
    const decision = decideConfigFixes(state(undefined, { recording: false }, 'none'));
    expect(decision.actions).toEqual([]);
    expect(decision.status).toBe('drifted');
    const [step] = decision.needsHuman;
    for (const command of ['put-configuration-recorder', 'put-delivery-channel', 'start-configuration-recorder']) {
      expect(step).toContain(`aws configservice ${command} --region ${REGION}`);
    }
  });

  it.each([
    ['the sweep', undefined, ['config:StartConfigurationRecorder'], true],
    ['a StopConfigurationRecorder', 'StopConfigurationRecorder', ['config:StartConfigurationRecorder'], true],
  ])(
    '%s: a stopped recorder that records everything is started, its baseline captured',
    (_who, eventName, expected, captured) => {
      const decision = decideConfigFixes(state(eventName, { ...allOn, recording: false }, 'none'));
      expect(apis(decision.actions)).toEqual(expected);
      expect(decision.bookkeeping?.some((r) => r.kind === 'config-baseline' && r.mode === 'first')).toBe(captured);
    },
  );

  it('an event on a narrowed recorder captures nothing (a narrowing must not become the baseline)', () => {
    const narrowed = { ...allOn, recorder: recorder({ recordingFrequency: 'DAILY' }) };
    const decision = decideConfigFixes(state('PutConfigurationRecorder', narrowed, 'none'));
    expect(decision.bookkeeping).toEqual([]);
    expect(decision.needsHuman[0]).toContain('no baseline');
  });

  it.each([
    [
      'a customer role of the intruder',
      { ...allOn, recorder: recorder({ roleArn: `arn:aws:iam::${ACCOUNT}:role/intruder` }) },
    ],
    [
      "a key and a topic of the intruder's account",
      {
        ...allOn,
        channel: channel({
          s3KmsKeyArn: `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
          snsTopicArn: `arn:aws:sns:${REGION}:${OTHER_ACCOUNT}:exfil`,
        }),
      },
    ],
    ['global types off', { ...allOn, recorder: recorder({ includeGlobalResourceTypes: false }) }],
    ['a recorder that fails to record', { ...allOn, recorderError: 'AccessDenied' }],
    ['a channel that fails to deliver', { ...allOn, deliveryError: 'AccessDenied' }],
  ])('an event on a region with %s captures nothing (it would become the baseline)', (_case, current) => {
    const decision = decideConfigFixes(state('PutDeliveryChannel', current, 'none'));
    expect(decision.bookkeeping ?? []).toEqual([]);
    expect(decision.status).toBe('drifted');
    expect(decision.needsHuman[0]).toContain('no baseline');
  });

  it("an event's capture is re-checked when kept (the record asks for the policy, with the account)", () => {
    const decision = decideConfigFixes(state('PutDeliveryChannel', allOn, 'none'));
    expect(decision.bookkeeping).toEqual([
      expect.objectContaining({ kind: 'config-baseline', mode: 'first', onlyIfCompliantFor: ACCOUNT }),
    ]);
    const sweep = decideConfigFixes(state(undefined, allOn, 'none'));
    expect(sweep.bookkeeping?.[0]).not.toHaveProperty('onlyIfCompliantFor');
  });

  it('the sweep captures a narrowed recorder as it is, and says so', () => {
    const narrowed = { ...allOn, recorder: recorder({ recordingFrequency: 'DAILY' }) };
    const decision = decideConfigFixes(state(undefined, narrowed, 'none'));
    expect(decision.bookkeeping).toEqual([expect.objectContaining({ mode: 'first', from: 'sweep-1' })]);
    expect(decision.needsHuman[0]).toContain('first seen by the sweep');
  });
});

describe('recordingGaps: what a region lacks of the policy', () => {
  it.each([
    ['everything as the policy wants', allOn, []],
    [
      'global types off',
      { ...allOn, recorder: recorder({ includeGlobalResourceTypes: false }) },
      ['includeGlobalResourceTypes'],
    ],
    [
      'a customer role',
      { ...allOn, recorder: recorder({ roleArn: `arn:aws:iam::${ACCOUNT}:role/config` }) },
      ['roleARN'],
    ],
    [
      "another account's service-linked role",
      { ...allOn, recorder: recorder({ roleArn: ROLE.replace(ACCOUNT, OTHER_ACCOUNT) }) },
      ['roleARN'],
    ],
    ['recording fails', { ...allOn, recorderError: 'AccessDenied' }, ['recorder status']],
    ['delivery fails', { ...allOn, deliveryError: 'AccessDenied' }, ['channel delivery']],
    [
      "another account's key",
      { ...allOn, channel: channel({ s3KmsKeyArn: `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/k` }) },
      ['channel KMS key'],
    ],
    [
      "another account's topic",
      { ...allOn, channel: channel({ snsTopicArn: `arn:aws:sns:${REGION}:${OTHER_ACCOUNT}:t` }) },
      ['channel SNS topic'],
    ],
    ['no channel', { ...allOn, channel: undefined }, ['delivery channel']],
    ['daily', { ...allOn, recorder: recorder({ recordingFrequency: 'DAILY' }) }, ['recordingMode']],
  ] satisfies [string, RegionRecording, string[]][])('%s', (_case, current, expected) => {
    expect(recordingGaps(current, ACCOUNT).map((g) => g.attribute)).toEqual(expected);
  });
});

describe('a recorder that is on but fails to record', () => {
  it.each([undefined, 'StopConfigurationRecorder'])('(%s) is told to a human, with its error and role', (eventName) => {
    const decision = decideConfigFixes(state(eventName, { ...allOn, recorderError: 'AccessDenied' }));
    expect(decision.status).toBe('drifted');
    expect(decision.actions).toEqual([]);
    expect(decision.needsHuman.join(' ')).toContain('fails to record (AccessDenied)');
    expect(decision.needsHuman.join(' ')).toContain(ROLE);
  });
});

describe('recorderNarrowings and restoredRecorder', () => {
  const only = (...types: string[]) =>
    recorder({ allSupported: false, includeGlobalResourceTypes: false, resourceTypes: types });
  const allBut = (...types: string[]) =>
    recorder({ allSupported: false, includeGlobalResourceTypes: false, excludedResourceTypes: types });
  it.each([
    ['all -> only one type', recorder(), only('AWS::EC2::Instance'), ['recordingGroup', 'includeGlobalResourceTypes']],
    [
      'all -> all but one',
      recorder({ includeGlobalResourceTypes: false }),
      allBut('AWS::S3::Bucket'),
      ['recordingGroup'],
    ],
    ['only A,B -> only B,C', only('A', 'B'), only('B', 'C'), ['recordingGroup']],
    ['only A -> only A,B', only('A'), only('A', 'B'), []],
    ['only A -> all but B', only('A'), allBut('B'), []],
    ['only A -> all but A', only('A'), allBut('A'), ['recordingGroup']],
    ['all but A,B -> all but A', allBut('A', 'B'), allBut('A'), []],
    ['all but A -> all but A,B', allBut('A'), allBut('A', 'B'), ['recordingGroup']],
    ['global off', recorder(), recorder({ includeGlobalResourceTypes: false }), ['includeGlobalResourceTypes']],
    ['daily', recorder(), recorder({ recordingFrequency: 'DAILY' }), ['recordingMode']],
    [
      'a daily override',
      recorder(),
      recorder({ overrides: [{ resourceTypes: ['AWS::EC2::Instance'], recordingFrequency: 'DAILY' }] }),
      ['recordingMode'],
    ],
    ['daily -> continuous', recorder({ recordingFrequency: 'DAILY' }), recorder(), []],
    ['role changed', recorder(), recorder({ roleArn: 'arn:aws:iam::123456789012:role/x' }), ['roleARN']],
  ])('%s', (_case, baseline, current, expected) => {
    expect(recorderNarrowings(baseline, current).map((n) => n.attribute)).toEqual(expected);
    // Restoring undoes every narrowing and keeps the widening.
    const restored = restoredRecorder(baseline, current);
    expect(recorderNarrowings(baseline, restored)).toEqual([]);
    expect(recorderNarrowings(current, restored).filter((n) => n.attribute !== 'roleARN')).toEqual([]);
  });

  it('keeps what a change widened: only A,B narrowed to only B,C comes back as only A,B,C', () => {
    expect(restoredRecorder(only('A', 'B'), only('B', 'C')).resourceTypes).toEqual(['A', 'B', 'C']);
  });

  it.each([
    [recorder(), { allSupported: true, includeGlobalResourceTypes: true }],
    [
      only('AWS::S3::Bucket'),
      {
        allSupported: false,
        includeGlobalResourceTypes: false,
        resourceTypes: ['AWS::S3::Bucket'],
        recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
      },
    ],
    [
      allBut('AWS::S3::Bucket'),
      {
        allSupported: false,
        includeGlobalResourceTypes: false,
        exclusionByResourceTypes: { resourceTypes: ['AWS::S3::Bucket'] },
        recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
      },
    ],
  ])('writes the recording group in the form Config accepts', (config, group) => {
    expect(putRecorderInput(config).ConfigurationRecorder?.recordingGroup).toEqual(group);
  });
});

describe('channelNarrowings and restoredChannel', () => {
  it.each([
    [{ s3BucketName: 'other' }, ['channel bucket'], true],
    [{ s3KeyPrefix: 'elsewhere' }, ['channel prefix'], false],
    [{ s3KmsKeyArn: undefined }, ['channel KMS key'], true],
    [{ deliveryFrequency: 'TwentyFour_Hours' as const }, ['channel deliveryFrequency'], false],
    [{ deliveryFrequency: undefined }, ['channel deliveryFrequency'], false],
    [{ deliveryFrequency: 'One_Hour' as const }, [], false],
  ])('%j', (change, expected, suspicious) => {
    const found = channelNarrowings(channel(), channel(change));
    expect(found.map((n) => n.attribute)).toEqual(expected);
    expect(found.some((n) => n.suspicious)).toBe(suspicious);
    expect(channelNarrowings(channel(), restoredChannel(channel(), channel(change)))).toEqual([]);
  });
});

describe('followLosses: the baseline follows only a state that narrows nothing', () => {
  it.each([
    ['as it was', BASELINE, []],
    ['stopped meanwhile', { ...BASELINE, recording: false }, ['recording on -> off']],
    ['channel gone meanwhile', { ...BASELINE, channel: undefined }, ['delivery channel default -> none']],
    [
      'daily meanwhile',
      { ...BASELINE, recorder: recorder({ recordingFrequency: 'DAILY' }) },
      ['recordingMode CONTINUOUS -> DAILY'],
    ],
  ])('%s', (_case, fresh, expected) => {
    expect(followLosses(BASELINE, fresh)).toEqual(expected);
  });
});

describe('the rule reads its target from the event', () => {
  it.each([
    ['config-StopConfigurationRecorder', { recorderName: 'default', region: 'eu-west-1' }],
    ['config-DeleteConfigurationRecorder', { recorderName: 'default', region: 'us-west-2' }],
    ['config-DeleteDeliveryChannel', { channelName: 'default', region: 'ap-southeast-2' }],
    ['config-PutConfigurationRecorder-narrowed-daily', { recorderName: 'default' }],
    ['config-PutDeliveryChannel-other-bucket', { channelName: 'default', region: 'eu-central-1' }],
  ])('%s', (name, expected) => {
    expect(configRecorderOn.target(sample(name))).toMatchObject(expected);
  });

  it('ignores service-linked recorders, with the reason', () => {
    const target = configRecorderOn.target(sample('config-StopConfigurationRecorder-service-linked'));
    expect(isSkip(target) && target.skip).toContain('service-linked');
  });

  it.each([
    ['no recorder name', (p: Record<string, unknown>) => delete p.configurationRecorderName],
    ['a name that is not a string', (p: Record<string, unknown>) => (p.configurationRecorderName = { name: 'x' })],
    ['an empty name', (p: Record<string, unknown>) => (p.configurationRecorderName = '')],
    ['a blank name', (p: Record<string, unknown>) => (p.configurationRecorderName = '   ')],
    ['a name past 256 characters', (p: Record<string, unknown>) => (p.configurationRecorderName = 'r'.repeat(257))],
  ])('a malformed event (%s) is a clear error', (_case, change) => {
    expect(() =>
      configRecorderOn.target(sampleWith('config-StopConfigurationRecorder', (raw) => change(params(raw)))),
    ).toThrow(MalformedEventError);
  });
});

describe('names AWS accepts are read as they are (AWS: 1-256 characters, not all blank)', () => {
  it.each(['rec#1', 'a,b', 'team (prod)', "o'neil", 'enregistreur-été', 'r'.repeat(256)])('%s', (name) => {
    const target = configRecorderOn.target(
      sampleWith('config-StopConfigurationRecorder', (raw) => {
        params(raw).configurationRecorderName = name;
      }),
    );
    expect(target).toMatchObject({ recorderName: name });
  });
});

describe('explainConfigFailure', () => {
  const channelWrite: ConfigAction = {
    api: 'config:PutDeliveryChannel',
    params: { DeliveryChannel: { name: 'default', s3BucketName: 'config-archive' } },
    summary: '',
    brief: '',
  };
  const failure = (name: string) => Object.assign(new Error('refused'), { name });
  it.each([
    ['NoSuchBucketException', 'config-archive is gone'],
    ['InsufficientDeliveryPolicyException', 'config.amazonaws.com'],
    ['MaxNumberOfDeliveryChannelsExceededException', 'Another recorder or channel'],
  ])('%s: a step for a human', (name, text) => {
    expect(explainConfigFailure(channelWrite, failure(name))).toContain(text);
  });

  it('a plain failure is not a refusal', () => {
    expect(explainConfigFailure(channelWrite, failure('ThrottlingException'))).toBeUndefined();
  });
});
