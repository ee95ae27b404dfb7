/**
 * The region forwarders against the emulator: `npm run sweep -- --endpoint URL --regions home,r1,r2` leaves in r1 and
 * r2 a forwarder of the guards' events to the home bus (and none at home); its pattern routes each sample in events/
 * exactly as the home patterns do; a forwarder deleted, disabled, narrowed or given another target by hand is put
 * back by the next sweep; and the sweep function, as Custom::RegionForwarders, puts them in place and removes them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import type { CustomResourceRequest } from '../../lib/custom-resource.js';
import { eventPatterns } from '../../lib/manifest.js';
import { GUARDS, REGION_FORWARDERS, RULES } from '../../lib/registry.js';
import { handleForwardersResource } from '../../lib/rules/region-forwarders.js';
import { loadSettings } from '../../lib/settings.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { invocationContext } from '../../scripts/replay.js';
import { sweepCommand } from '../../scripts/sweep.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { accessDenied, interceptedClients } from '../support/intercept.js';
import { type ResponseUrl, startResponseUrl } from '../support/response-url.js';

const ACCOUNT = '123456789012';
const HOME = 'us-east-1';
const R1 = 'eu-west-1';
const R2 = 'ap-southeast-2';
const HOME_BUS = `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default`;
/** The emulator's forward role and forwarder name (scripts/provision.ts). */
const FORWARD_ROLE = `arn:aws:iam::${ACCOUNT}:role/driftguard-local-forward`;
const NAME = 'driftguard-local-forward';

const events = (region: string) => new EventBridgeClient(emulatorClientConfig(testEndpoint(), region));

/** Every rule in the region whose name says it is driftguard's forwarder, read back with its targets. */
async function forwardersIn(region: string) {
  const { Rules = [] } = await events(region).send(new ListRulesCommand({ NamePrefix: 'driftguard-' }));
  return Promise.all(
    Rules.filter((rule) => rule.Name?.includes('forward')).map(async (rule) => {
      const { Targets = [] } = await events(region).send(new ListTargetsByRuleCommand({ Rule: rule.Name }));
      return {
        name: rule.Name,
        state: rule.State,
        pattern: JSON.parse(rule.EventPattern ?? '{}') as { source: string[] },
        targets: Targets.map(({ Id, Arn, RoleArn }) => ({ Id, Arn, RoleArn })),
      };
    }),
  );
}

/** The sweep CLI over home and two other regions, quietly; its report. */
const sweep = (options: { dryRun?: boolean } = {}) =>
  sweepCommand({ endpoint: testEndpoint(), regions: [HOME, R1, R2], print: () => undefined, ...options });

const allSources = () => [...new Set(RULES.map((rule) => rule.trigger.source))].sort();

/** What a forwarder put in place holds, as the contract says it. */
function expectForwarderInPlace(found: Awaited<ReturnType<typeof forwardersIn>>) {
  expect(found).toHaveLength(1);
  const [forwarder] = found;
  expect(forwarder?.name).toMatch(/^driftguard-.*forward/);
  expect(forwarder?.state).toBe('ENABLED');
  expect(forwarder?.pattern.source).toEqual(allSources());
  expect(forwarder?.targets).toEqual([{ Id: 'driftguard-home-bus', Arn: HOME_BUS, RoleArn: FORWARD_ROLE }]);
}

describe('the sweep’s forwarder pass', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('leaves a forwarder in every region but home, and finds them in place the next time', async () => {
    const first = await sweep();

    expectForwarderInPlace(await forwardersIn(R1));
    expectForwarderInPlace(await forwardersIn(R2));
    expect(await forwardersIn(HOME)).toEqual([]);
    expect(first.counts['region-forwarders']).toEqual({ remediated: 2 });
    expect(first.first['region-forwarders#remediated']?.map((item) => [item.region, item.resource])).toEqual([
      [R1, NAME],
      [R2, NAME],
    ]);
    const [digest] = await readNotices();
    // The two forwarders, and GuardDuty enabled in each of the three regions (none had a detector). The 3 need a
    // human: AWS Config is off in each region, with nothing to restore it from.
    expect(digest?.subject).toBe('[driftguard] sweep of 3 regions: 5 fixed, 3 need a human, 0 failed');
    // A region that was not forwarding is a gap in what the guards see: the digest says so at high severity.
    expect(digest?.attributes.severity).toBe('high');
    expect(digest?.document.first).toMatchObject({
      'region-forwarders#remediated': [
        { region: R1, reason: `forwarder ${NAME} in ${R1} is missing: the guards see none of ${R1}'s events` },
        { region: R2 },
      ],
    });

    const second = await sweep();
    expect(second.counts['region-forwarders']).toEqual({ compliant: 2 });
  });

  it('takes home to be AWS_REGION (the state table may be elsewhere): eu-west-1 gets none, us-east-1 one to it', async () => {
    process.env.AWS_REGION = R1;

    await sweepCommand({ endpoint: testEndpoint(), regions: [R1, HOME, R2], print: () => undefined });

    expect(await forwardersIn(R1)).toEqual([]);
    for (const region of [HOME, R2]) {
      const [forwarder] = await forwardersIn(region);
      expect(forwarder?.targets).toEqual([
        { Id: 'driftguard-home-bus', Arn: `arn:aws:events:${R1}:${ACCOUNT}:event-bus/default`, RoleArn: FORWARD_ROLE },
      ]);
    }
  });

  it('forwards each sample in events/ that the home patterns take, and no failed call (TestEventPattern)', async () => {
    await sweep();
    const forwarders = await forwardersIn(R1);
    expect(forwarders.length).toBeGreaterThan(0);
    const forwardPatterns = await Promise.all(
      forwarders.map(async ({ name }) =>
        String((await events(R1).send(new DescribeRuleCommand({ Name: name }))).EventPattern),
      ),
    );
    const homePatterns = GUARDS.flatMap((guard) => eventPatterns(guard, loadSettings().engineRoleArns)).map((p) =>
      JSON.stringify(p),
    );
    const matches = async (pattern: string, event: string) =>
      (await events(HOME).send(new TestEventPatternCommand({ EventPattern: pattern, Event: event }))).Result === true;
    const anyOf = async (patterns: string[], event: string) =>
      (await Promise.all(patterns.map((pattern) => matches(pattern, event)))).some(Boolean);
    const routed: Record<string, { home: boolean; forwarded: boolean }> = {};
    for (const name of readdirSync('events').filter((file) => file.endsWith('.json'))) {
      const event = readFileSync(join('events', name), 'utf8');
      routed[name] = { home: await anyOf(homePatterns, event), forwarded: await anyOf(forwardPatterns, event) };
      // Whatever the home rules take is carried home; only the engine's own calls go further than they do.
      const engineOwn = name.includes('by-remediation-engine');
      expect([name, routed[name].forwarded]).toEqual([name, routed[name].home || engineOwn]);
    }
    expect(routed['logs-CreateLogGroup-plain.json']).toEqual({ home: true, forwarded: true });
    expect(routed['signin-ConsoleLogin-no-MFA-root.json']).toEqual({ home: true, forwarded: true });
    // Failed calls go nowhere; the engine's own are carried home and dropped there.
    expect(routed['kms-DisableKey-failed-AccessDenied.json']).toEqual({ home: false, forwarded: false });
    expect(routed['logs-PutRetentionPolicy-by-remediation-engine.json']).toEqual({ home: false, forwarded: true });
  });

  it.each([
    [
      'deleted',
      async () => {
        await events(R1).send(new RemoveTargetsCommand({ Rule: NAME, Ids: ['driftguard-home-bus'] }));
        await events(R1).send(new DeleteRuleCommand({ Name: NAME }));
      },
    ],
    ['disabled', () => events(R1).send(new DisableRuleCommand({ Name: NAME }))],
    [
      'narrowed to one source',
      () =>
        events(R1).send(
          new PutRuleCommand({ Name: NAME, EventPattern: JSON.stringify({ source: ['aws.logs'] }), State: 'ENABLED' }),
        ),
    ],
    [
      'given another target',
      () =>
        events(R1).send(
          new PutTargetsCommand({
            Rule: NAME,
            Targets: [{ Id: 'exfiltrate', Arn: 'arn:aws:events:us-east-1:999999999999:event-bus/default' }],
          }),
        ),
    ],
    [
      'sent home under another role',
      () =>
        events(R1).send(
          new PutTargetsCommand({
            Rule: NAME,
            Targets: [{ Id: 'driftguard-home-bus', Arn: HOME_BUS, RoleArn: `arn:aws:iam::${ACCOUNT}:role/other` }],
          }),
        ),
    ],
  ])('puts back a forwarder %s by hand, and leaves the untouched one alone', async (_change, change) => {
    await sweep();
    const untouched = await forwardersIn(R2);
    await change();

    const report = await sweep();

    expect(report.counts['region-forwarders']).toEqual({ remediated: 1, compliant: 1 });
    expect(report.first['region-forwarders#remediated']?.map((item) => item.region)).toEqual([R1]);
    expectForwarderInPlace(await forwardersIn(R1));
    expect(await forwardersIn(R2)).toEqual(untouched);
  });

  it('keeps the forwarders in notify mode too (they are the engine’s own), and writes nothing in a dry run', async () => {
    const dry = await sweep({ dryRun: true });
    expect(dry.counts['region-forwarders']).toEqual({ planned: 2 });
    expect(await forwardersIn(R1)).toEqual([]);

    process.env.DRIFTGUARD_MODE = 'notify';
    const notify = await sweep();
    expect(notify.counts['region-forwarders']).toEqual({ remediated: 2 });
    expectForwarderInPlace(await forwardersIn(R1));
  });
});

describe('the sweep function as Custom::RegionForwarders', () => {
  let responseUrl: ResponseUrl;
  const STACK_ID = `arn:aws:cloudformation:${HOME}:${ACCOUNT}:stack/driftguard-local/0d6e4f10-b0c4-11ef-9f5c-0a1b2c3d4e5f`;
  const PHYSICAL_ID = `${NAME}@${HOME}`;

  beforeAll(async () => {
    responseUrl = await startResponseUrl();
  });
  afterAll(async () => {
    delete process.env.DRIFTGUARD_STACK_ID;
    delete process.env.DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL;
    await responseUrl.close();
  });
  beforeEach(async () => {
    responseUrl.reset();
    // The stack's own requests only; the local ResponseURL stands in for CloudFormation's S3 host.
    await freshEngine({ DRIFTGUARD_STACK_ID: STACK_ID, DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL: 'allow' });
  });

  function request(type: CustomResourceRequest['RequestType'], id: string): CustomResourceRequest {
    return {
      RequestType: type,
      ResponseURL: `${responseUrl.base}/cloudformation-response/${id}?X-Amz-Signature=example`,
      StackId: STACK_ID,
      RequestId: id,
      LogicalResourceId: 'RegionForwarders',
      ...(type === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID }),
    };
  }

  /** functions/sweep.ts as a cold start sees it, with the given forward regions. */
  async function sweepFunction(forwardRegions: string) {
    process.env.DRIFTGUARD_FORWARD_REGIONS = forwardRegions;
    vi.resetModules();
    const { handler } = await import('../../functions/sweep.js');
    return (event: CustomResourceRequest) =>
      handler(event, invocationContext('driftguard-local-sweep', { account: ACCOUNT, requestId: event.RequestId }));
  }

  const answered = () => responseUrl.received.map(({ body }) => JSON.parse(body) as Record<string, unknown>);

  it('puts forwarders in place on Create, follows the regions on Update, and removes them all on Delete', async () => {
    await (await sweepFunction(`${R1},${R2}`))(request('Create', 'create-1'));
    expectForwarderInPlace(await forwardersIn(R1));
    expectForwarderInPlace(await forwardersIn(R2));

    await (await sweepFunction(R1))(request('Update', 'update-1'));
    expectForwarderInPlace(await forwardersIn(R1));
    expect(await forwardersIn(R2)).toEqual([]);

    await (await sweepFunction(R1))(request('Delete', 'delete-1'));
    expect(await forwardersIn(R1)).toEqual([]);

    expect(answered()).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        RequestId: 'create-1',
        PhysicalResourceId: PHYSICAL_ID,
        Reason: `forwarders in place in 2 regions: ${R1}, ${R2}`,
      }),
      expect.objectContaining({ Status: 'SUCCESS', RequestId: 'update-1', PhysicalResourceId: PHYSICAL_ID }),
      expect.objectContaining({
        Status: 'SUCCESS',
        RequestId: 'delete-1',
        PhysicalResourceId: PHYSICAL_ID,
        Reason: 'forwarders removed',
      }),
    ]);
  });

  it('removes forwarders a larger set of guards needed (-2 ... -4) on Update and Delete, and no other rule', async () => {
    const leftover = async (name: string) => {
      await events(R1).send(new PutRuleCommand({ Name: name, EventPattern: '{"source":["aws.kms"]}' }));
      await events(R1).send(
        new PutTargetsCommand({
          Rule: name,
          Targets: [{ Id: 'driftguard-home-bus', Arn: HOME_BUS, RoleArn: FORWARD_ROLE }],
        }),
      );
    };
    const names = async () =>
      ((await events(R1).send(new ListRulesCommand({ NamePrefix: NAME }))).Rules ?? []).map((rule) => rule.Name).sort();
    await (await sweepFunction(R1))(request('Create', 'create-2'));
    const needed = await names();
    await leftover(`${NAME}-4`);
    await leftover(`${NAME}-extra`);

    await (await sweepFunction(R1))(request('Update', 'update-2'));
    expect(await names()).toEqual([...needed, `${NAME}-extra`].sort());

    await leftover(`${NAME}-3`);
    await (await sweepFunction(R1))(request('Delete', 'delete-2'));
    expect(await names()).toEqual([`${NAME}-extra`]);
  });

  describe('where a region refuses (AccessDenied, which the emulator never answers)', () => {
    const refusingIn = (region: string) =>
      interceptedClients(async (call, send) => {
        if (call.region === region && call.client === 'EventBridge') throw accessDenied(`events:${call.command}`);
        return send();
      });
    const serve = (type: CustomResourceRequest['RequestType'], aws: ReturnType<typeof createAwsClients>) =>
      handleForwardersResource(
        request(type, `${type}-refused`),
        REGION_FORWARDERS,
        { settings: loadSettings(), aws },
        async () => ({ account: ACCOUNT, regions: [R1, R2], enabledRegions: [HOME, R1, R2] }),
        new Logger({ logLevel: 'SILENT' }),
      );

    it('answers a Create FAILED, naming the region and the way out', async () => {
      const result = await serve('Create', refusingIn(R2));

      expect(result.status).toBe('FAILED');
      expect(answered()).toEqual([
        expect.objectContaining({
          Status: 'FAILED',
          Reason: expect.stringMatching(
            new RegExp(`^forwarders failed in ${R2}: .*events:DescribeRule.*regions param`),
          ),
        }),
      ]);
      expectForwarderInPlace(await forwardersIn(R1));
    });

    it('answers a Delete SUCCESS all the same, and removes what it may', async () => {
      await serve('Create', createAwsClients());
      responseUrl.reset();

      const result = await serve('Delete', refusingIn(R2));

      expect(answered()).toEqual([
        expect.objectContaining({
          Status: 'SUCCESS',
          Reason: expect.stringMatching(new RegExp(`^forwarders removed; left in place: ${R2}: `)),
        }),
      ]);
      expect(result.status).toBe('SUCCESS');
      expect(await forwardersIn(R1)).toEqual([]);
      expectForwarderInPlace(await forwardersIn(R2));
    });
  });
});
