/** The region forwarders' pure parts: the one pattern for every guard, the decision, their settings and template. */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Target } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { createAwsClients, homeRegion } from '../../lib/aws.js';
import { eventPatterns } from '../../lib/manifest.js';
import { GUARDS, REGION_FORWARDERS, RULES, SWEPT_RULES } from '../../lib/registry.js';
import {
  decideForwarderFixes,
  type ForwarderSpec,
  type ForwarderState,
  forwarderNames,
  forwarderSpecs,
  forwardersTemplate,
  forwardPatterns,
  forwardsFrom,
  HOME_BUS_TARGET_ID,
  handleForwardersResource,
  MAX_FORWARDERS,
  PATTERN_LIMIT,
} from '../../lib/rules/region-forwarders.js';
import { loadSettings, SettingsError } from '../../lib/settings.js';

const ROLE = 'arn:aws:iam::123456789012:role/driftguard-prod-forward';
/** The engine's own roles: their calls are excluded at home, and so from the forwarders. */
const ENGINE_ROLES = [
  'arn:aws:iam::123456789012:role/driftguard-prod-log-group-guard',
  'arn:aws:iam::123456789012:role/driftguard-prod-trail-guard',
  'arn:aws:iam::123456789012:role/driftguard-prod-kms-guard',
  'arn:aws:iam::123456789012:role/driftguard-prod-mfa-guard',
  'arn:aws:iam::123456789012:role/driftguard-prod-sweep',
];
const settings = loadSettings({
  DRIFTGUARD_ENGINE_ROLE_ARNS: ENGINE_ROLES.join(','),
  DRIFTGUARD_FORWARD_ROLE_ARN: ROLE,
  DRIFTGUARD_FORWARDER_NAME: 'driftguard-prod-forward',
});

const spec = forwarderSpecs(GUARDS, settings, {
  region: 'eu-west-1',
  home: 'us-east-1',
  account: '123456789012',
})[0] as ForwarderSpec;

const HOME_TARGET = {
  Id: HOME_BUS_TARGET_ID,
  Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
  RoleArn: ROLE,
};

/** The forwarder as the spec wants it, with the given changes. */
function forwarder(
  changes: Partial<NonNullable<ForwarderState['rule']>> = {},
  targets: Target[] = [HOME_TARGET],
): ForwarderState {
  return {
    spec,
    rule: { state: 'ENABLED', eventPattern: spec.eventPattern, description: spec.description, ...changes },
    targets,
  };
}

type ForwardPattern = {
  source: string[];
  detail: Record<string, unknown>;
  $or: { source: string[]; 'detail-type': string[]; detail: { eventName: string[] } }[];
};

describe('forwardPatterns', () => {
  const patterns = forwardPatterns(GUARDS) as ForwardPattern[];

  it('carries every source the guards handle, each event name of each source exactly once', () => {
    const sources = [...new Set(RULES.map((rule) => rule.trigger.source))].sort();
    expect([...new Set(patterns.flatMap((pattern) => pattern.source))].sort()).toEqual(sources);
    for (const source of sources) {
      const triggers = RULES.map((rule) => rule.trigger).filter((trigger) => trigger.source === source);
      const branches = patterns.flatMap((pattern) => pattern.$or).filter((branch) => branch.source[0] === source);
      expect(branches.flatMap((branch) => branch.detail.eventName).sort()).toEqual(
        [...new Set(triggers.flatMap((t) => t.eventNames))].sort(),
      );
      for (const branch of branches) {
        expect(branch['detail-type']).toEqual([...new Set(triggers.flatMap((t) => t.detailTypes))].sort());
      }
    }
    for (const pattern of patterns) {
      expect(pattern.source).toEqual([...new Set(pattern.$or.map((branch) => branch.source[0]))]);
    }
  });

  it('leaves failed calls out; the engine’s own calls are left to the home rules, which exclude them', () => {
    for (const pattern of patterns) expect(pattern.detail).toEqual({ errorCode: [{ exists: false }] });
    for (const guard of GUARDS) {
      for (const home of eventPatterns(guard, ENGINE_ROLES)) {
        expect((home.detail as Record<string, unknown>).errorCode).toEqual([{ exists: false }]);
        expect(JSON.stringify(home.detail)).toContain(ENGINE_ROLES[0]);
      }
    }
  });

  it('each fits EventBridge’s default event-pattern size quota (2048 characters), within MAX_FORWARDERS', () => {
    expect(patterns.length).toBeGreaterThan(0);
    expect(patterns.length).toBeLessThanOrEqual(MAX_FORWARDERS);
    for (const pattern of patterns) expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(PATTERN_LIMIT);
  });

  it('packs many events into as many forwarders as they need, splitting a source too large for one', () => {
    const names = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
    const rule = (source: string, eventNames: string[]) =>
      ({ trigger: { source, detailTypes: ['AWS API Call via CloudTrail'], eventNames } }) as never;
    const big = [
      { rules: [rule('aws.one', names('SomeRatherLongEventNameNumber', 60)), rule('aws.two', names('Short', 3))] },
    ] as never;
    const packed = forwardPatterns(big) as ForwardPattern[];
    expect(packed.length).toBeGreaterThan(1);
    for (const pattern of packed) expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(PATTERN_LIMIT);
    const carried = packed.flatMap((pattern) => pattern.$or.flatMap((branch) => branch.detail.eventName));
    expect(carried.sort()).toEqual([...names('SomeRatherLongEventNameNumber', 60), ...names('Short', 3)].sort());
    const tooMany = [{ rules: [rule('aws.one', names('SomeRatherLongEventNameNumber', 400))] }] as never;
    expect(() => forwardPatterns(tooMany)).toThrow(/MAX_FORWARDERS/);
  });

  it('names the forwarders after DRIFTGUARD_FORWARDER_NAME: the first as it is, then -2, -3, -4', () => {
    expect(forwarderNames('driftguard-prod-forward')).toEqual([
      'driftguard-prod-forward',
      'driftguard-prod-forward-2',
      'driftguard-prod-forward-3',
      'driftguard-prod-forward-4',
    ]);
    const specs = forwarderSpecs(GUARDS, settings, { region: 'eu-west-1', home: 'us-east-1', account: '1' });
    expect(specs.map((one) => one.name)).toEqual(forwarderNames('driftguard-prod-forward', patterns.length));
    expect(specs.map((one) => JSON.parse(one.eventPattern))).toEqual(patterns);
  });
});

describe('forwardsFrom', () => {
  it.each([
    ['a region other than home', 'eu-west-1', {}, true],
    ['home itself', 'us-east-1', {}, false],
    ['a region outside DRIFTGUARD_FORWARD_REGIONS', 'eu-west-1', { DRIFTGUARD_FORWARD_REGIONS: 'eu-north-1' }, false],
    ['a region inside DRIFTGUARD_FORWARD_REGIONS', 'eu-north-1', { DRIFTGUARD_FORWARD_REGIONS: 'eu-north-1' }, true],
    ['any region when no forward role is set', 'eu-west-1', { DRIFTGUARD_FORWARD_ROLE_ARN: '' }, false],
  ])('%s: %s -> %s', (_case, region, env, expected) => {
    const configured = loadSettings({ DRIFTGUARD_FORWARD_ROLE_ARN: ROLE, ...env });
    expect(forwardsFrom(region, configured, 'us-east-1')).toBe(expected);
  });
});

describe('forwarderSpec', () => {
  it('targets the home region’s default bus in the role’s partition, with the forward role', () => {
    const china = loadSettings({
      DRIFTGUARD_FORWARD_ROLE_ARN: 'arn:aws-cn:iam::123456789012:role/driftguard-cn-forward',
    });
    const [cn] = forwarderSpecs(GUARDS, china, {
      region: 'cn-northwest-1',
      home: 'cn-north-1',
      account: '123456789012',
    });
    expect(cn?.target).toEqual({
      Id: HOME_BUS_TARGET_ID,
      Arn: 'arn:aws-cn:events:cn-north-1:123456789012:event-bus/default',
      RoleArn: 'arn:aws-cn:iam::123456789012:role/driftguard-cn-forward',
    });
    expect(cn?.name).toBe('driftguard-forward');
    expect(spec.target).toEqual(HOME_TARGET);
    expect(JSON.parse(spec.eventPattern)).toEqual(forwardPatterns(GUARDS)[0]);
  });

  it('is none without a forward role', () => {
    expect(forwarderSpecs(GUARDS, loadSettings({}), { region: 'eu-west-1', home: 'us-east-1', account: '1' })).toEqual(
      [],
    );
  });
});

describe('decideForwarderFixes', () => {
  it('creates a missing forwarder: the rule, ENABLED with the guards’ pattern, then its target', () => {
    const decision = decideForwarderFixes({ spec, rule: undefined, targets: [] });
    expect(decision.status).toBe('drifted');
    expect(decision.actions.map(({ api, params }) => ({ api, params }))).toEqual([
      {
        api: 'events:PutRule',
        params: {
          Name: 'driftguard-prod-forward',
          EventPattern: spec.eventPattern,
          State: 'ENABLED',
          Description: spec.description,
        },
      },
      { api: 'events:PutTargets', params: { Rule: 'driftguard-prod-forward', Targets: [HOME_TARGET] } },
    ]);
    expect(decision.findings).toEqual([
      { attribute: 'forwarder', before: 'missing', after: expect.stringContaining(HOME_TARGET.Arn) },
    ]);
  });

  it('leaves a forwarder as the spec wants it alone, whatever the key order and spacing of its pattern', () => {
    const parsed = JSON.parse(spec.eventPattern) as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse()), null, 2);
    expect(decideForwarderFixes(forwarder()).status).toBe('compliant');
    expect(decideForwarderFixes(forwarder({ eventPattern: reordered })).status).toBe('compliant');
  });

  const narrowed = JSON.stringify({ source: ['aws.logs'] });
  const foreign = { Id: 'copy', Arn: 'arn:aws:events:us-east-1:999999999999:event-bus/default' };

  it.each([
    ['disabled', forwarder({ state: 'DISABLED' }), [['events:EnableRule', { Name: spec.name }]]],
    [
      'narrowed',
      forwarder({ eventPattern: narrowed }),
      [['events:PutRule', expect.objectContaining({ State: 'ENABLED' })]],
    ],
    [
      'narrowed and disabled (one PutRule restores both)',
      forwarder({ eventPattern: narrowed, state: 'DISABLED' }),
      [['events:PutRule', expect.objectContaining({ EventPattern: spec.eventPattern, State: 'ENABLED' })]],
    ],
    ['re-described', forwarder({ description: 'mine now' }), [['events:PutRule', expect.anything()]]],
    ['without its target', forwarder({}, []), [['events:PutTargets', { Rule: spec.name, Targets: [HOME_TARGET] }]]],
    [
      'with its target sent elsewhere',
      forwarder({}, [{ ...HOME_TARGET, Arn: foreign.Arn }]),
      [['events:PutTargets', { Rule: spec.name, Targets: [HOME_TARGET] }]],
    ],
    [
      'with its target under another role',
      forwarder({}, [{ ...HOME_TARGET, RoleArn: 'arn:aws:iam::123456789012:role/other' }]),
      [['events:PutTargets', { Rule: spec.name, Targets: [HOME_TARGET] }]],
    ],
    [
      'with its target rewriting the event',
      forwarder({}, [{ ...HOME_TARGET, InputPath: '$.detail' }]),
      [['events:PutTargets', { Rule: spec.name, Targets: [HOME_TARGET] }]],
    ],
    [
      'with another target beside its own',
      forwarder({}, [HOME_TARGET, foreign]),
      [['events:RemoveTargets', { Rule: spec.name, Ids: ['copy'] }]],
    ],
    [
      'changed in every way',
      forwarder({ eventPattern: narrowed, state: 'DISABLED' }, [foreign]),
      [
        ['events:PutRule', expect.anything()],
        ['events:PutTargets', { Rule: spec.name, Targets: [HOME_TARGET] }],
        ['events:RemoveTargets', { Rule: spec.name, Ids: ['copy'] }],
      ],
    ],
  ])('puts back a forwarder %s', (_case, state, expected) => {
    const decision = decideForwarderFixes(state);
    expect(decision.status).toBe('drifted');
    expect(decision.actions.map(({ api, params }) => [api, params])).toEqual(expected);
    expect(decision.findings.length).toBeGreaterThan(0);
    expect(decision.reason).toContain(`forwarder ${spec.name} in eu-west-1`);
  });
});

describe('the forwarders’ settings', () => {
  it.each([
    ['DRIFTGUARD_FORWARD_ROLE_ARN', 'driftguard-prod-forward', /IAM role ARN/],
    ['DRIFTGUARD_FORWARDER_NAME', 'someone-elses-rule', /starts with driftguard- and contains forward/],
    ['DRIFTGUARD_FORWARDER_NAME', `driftguard-${'x'.repeat(60)}-forward`, /up to 62/],
    ['DRIFTGUARD_FORWARD_REGIONS', 'eu-west-1,europe', /"europe" is invalid/],
  ])('refuse %s=%s', (name, value, message) => {
    expect(() => loadSettings({ [name]: value })).toThrow(SettingsError);
    expect(() => loadSettings({ [name]: value })).toThrow(message);
  });

  it('read a region list once each, and nothing as every region', () => {
    expect(loadSettings({ DRIFTGUARD_FORWARD_REGIONS: ' eu-west-1, eu-north-1,eu-west-1 ' }).forwardRegions).toEqual([
      'eu-west-1',
      'eu-north-1',
    ]);
    expect(loadSettings({}).forwardRegions).toBeUndefined();
  });
});

describe('the forwarders in the registry and the template', () => {
  it('are swept after every rule, by no guard', () => {
    expect(SWEPT_RULES.at(-1)).toBe(REGION_FORWARDERS);
    expect(SWEPT_RULES.slice(0, -1)).toEqual(RULES);
    expect(GUARDS.flatMap((guard) => guard.rules)).not.toContain(REGION_FORWARDERS);
    expect(REGION_FORWARDERS.sweep.pass).toBe('region-forwarders');
    expect(REGION_FORWARDERS.ownInfrastructure).toBe(true);
  });

  it('are listed in the README rules table, and what they cost is said', () => {
    const readme = readFileSync('README.md', 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${REGION_FORWARDERS.id}\``));
    expect(row).toContain(REGION_FORWARDERS.severity);
    expect(readme).toContain('## What the stack creates outside its region');
    expect(readme).toMatch(/billed as a custom event/);
  });

  it('give the stack a role that EventBridge of this account may only use to put events on the home bus', () => {
    const { resources, environment } = forwardersTemplate({ stage: 'prod', regions: 'eu-west-1', guards: GUARDS });
    const role = resources.ForwardRole.Properties;
    expect(role.RoleName).toBe('driftguard-prod-forward');
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.Policies).toEqual([
      {
        PolicyName: 'put-events-home',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['events:PutEvents'],
              Resource: {
                'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
              },
            },
          ],
        },
      },
    ]);
    expect(resources.RegionForwarders.Type).toBe('Custom::RegionForwarders');
    expect(resources.RegionForwarders.Properties.ServiceToken).toEqual({
      'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'],
    });
    expect(environment).toEqual({
      DRIFTGUARD_FORWARD_ROLE_ARN: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
      DRIFTGUARD_FORWARDER_NAME: 'driftguard-prod-forward',
      DRIFTGUARD_FORWARD_REGIONS: 'eu-west-1',
    });
  });

  it('update the custom resource when the guards’ events change, so that the deploy updates the forwarders', () => {
    const before = forwardersTemplate({ stage: 'prod', regions: '', guards: GUARDS });
    const fewer = forwardersTemplate({ stage: 'prod', regions: '', guards: GUARDS.slice(1) });
    expect(fewer.resources.RegionForwarders.Properties.Triggers).not.toBe(
      before.resources.RegionForwarders.Properties.Triggers,
    );
  });
});

describe('Custom::RegionForwarders when the regions cannot be read', () => {
  const ownStack = {
    ...settings,
    customResource: {
      stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/driftguard-prod/1',
      loopbackResponseUrl: false,
    },
  };
  const request = (RequestType: 'Create' | 'Delete') => ({
    RequestType,
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/r?sig=x',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/driftguard-prod/1',
    RequestId: `${RequestType}-1`,
    LogicalResourceId: 'RegionForwarders',
  });

  it.each([
    ['Create', 'FAILED'],
    ['Delete', 'SUCCESS'],
  ] as const)('answers a %s %s, saying why', async (type, status) => {
    // Prepare
    const bodies: Record<string, unknown>[] = [];
    const send = async (_url: string, body: string) => bodies.push(JSON.parse(body));
    const unreadable = async () => {
      throw new Error('User is not authorized to perform account:ListRegions');
    };

    // Act
    const result = await handleForwardersResource(
      request(type),
      REGION_FORWARDERS,
      { settings: ownStack, aws: createAwsClients() },
      unreadable,
      new Logger({ logLevel: 'SILENT' }),
      send,
    );

    // Assess
    expect(result.status).toBe(status);
    expect(bodies).toEqual([
      {
        Status: status,
        Reason: 'the regions to cover could not be read: User is not authorized to perform account:ListRegions',
        // The stack's region: the function's own.
        PhysicalResourceId: `driftguard-prod-forward@${homeRegion()}`,
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/driftguard-prod/1',
        RequestId: `${type}-1`,
        LogicalResourceId: 'RegionForwarders',
        Data: { Regions: '' },
      },
    ]);
  });
});

describe('Custom::RegionForwarders from another stack', () => {
  it('is malformed: no forwarder touched, no answer sent', async () => {
    const sent: string[] = [];
    const act = handleForwardersResource(
      {
        RequestType: 'Delete',
        ResponseURL: 'https://attacker.example/answer',
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/other/1',
        RequestId: 'forged-1',
        LogicalResourceId: 'RegionForwarders',
        PhysicalResourceId: 'driftguard-prod-forward@us-east-1',
      },
      REGION_FORWARDERS,
      { settings, aws: createAwsClients() },
      async () => {
        throw new Error('the scope is not read for a foreign request');
      },
      new Logger({ logLevel: 'SILENT' }),
      async (url) => sent.push(url),
    );
    await expect(act).rejects.toThrow(/DRIFTGUARD_STACK_ID is not set/);
    expect(sent).toEqual([]);
  });
});
