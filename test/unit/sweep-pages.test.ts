/**
 * The sweep's passes and pages without an emulator: which events are page requests and how a wrong one is refused,
 * how the sweep function reads a guard's answer and its list of guard functions, the plan the bundle takes as data,
 * and how the loop carries on past a page that fails.
 */
import { createHash } from 'node:crypto';
import type { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../lib/aws.js';
import { MalformedEventError } from '../../lib/envelope.js';
import { GUARDS, REGION_FORWARDERS, RULES } from '../../lib/registry.js';
import { type AnyRuleDeclaration, HOME, noAction } from '../../lib/rule.js';
import { forwardPatterns, regionForwardersRule } from '../../lib/rules/region-forwarders.js';
import { loadSettings } from '../../lib/settings.js';
import { GuardPageError, invokedPasses, pageResultOf, parseGuardFunctions } from '../../lib/sweep/invoked-pass.js';
import {
  admitPage,
  keptRuns,
  PAGE_REQUEST_KIND,
  type PageItem,
  type PageResult,
  pageRequestOf,
  sweepPage,
} from '../../lib/sweep/page.js';
import { SWEEP_PLAN, sweepPlan } from '../../lib/sweep/plan.js';
import { localPasses, runSweep, type SweepPass } from '../../lib/sweep/sweep.js';

const REQUEST = {
  kind: PAGE_REQUEST_KIND,
  version: 1,
  pass: 'log-groups',
  region: 'eu-west-1',
  token: 'page-2',
  sweepId: 'sweep-2026-12-01T06:00:00.000Z',
  run: 'sweep-2026-12-01T06:00:00.000Z#0b5c6f0e-5d0b-4c07-9a43-54c49c7b7f50',
  secret: 'a'.repeat(64),
};
const PASSES = ['log-groups'];

describe('a page request', () => {
  it.each([
    ['a CloudTrail event', { version: '0', 'detail-type': 'AWS API Call via CloudTrail', detail: {} }],
    ['a custom resource request', { RequestType: 'Create', ResponseURL: 'https://example.com' }],
    ['null', null],
    ['a string', PAGE_REQUEST_KIND],
    ['another kind', { ...REQUEST, kind: 'driftguard.sweep' }],
  ])('is not %s', (_, event) => {
    expect(pageRequestOf(event, PASSES)).toBeUndefined();
  });

  it('is read as sent, with or without a token, with or without rate limits', () => {
    expect(pageRequestOf(REQUEST, PASSES)).toEqual(REQUEST);
    const limited = { ...REQUEST, limits: { DescribeLogGroups: 5, '*': 10 } };
    expect(pageRequestOf(limited, PASSES)).toEqual(limited);
    const { token: _, ...first } = REQUEST;
    expect(pageRequestOf(first, PASSES)).toEqual(first);
  });

  it.each([
    ['version', { version: 2 }, 'version 2'],
    ['pass of another guard', { pass: 'trails' }, 'pass "trails"'],
    ['pass missing', { pass: undefined }, 'pass undefined'],
    ['region', { region: 'mars-1' }, 'region "mars-1"'],
    ['region injected', { region: 'eu-west-1/../x' }, 'region "eu-west-1/../x"'],
    ['token not a string', { token: 7 }, 'token 7'],
    ['token too long', { token: 'x'.repeat(4097) }, `token "${'x'.repeat(79)}`],
    ['sweep id', { sweepId: 'yesterday' }, 'sweepId "yesterday"'],
    ['run', { run: 'a b' }, 'run "a b"'],
    ['secret', { secret: 'A'.repeat(64) }, `secret "${'A'.repeat(64)}"`],
    ['secret missing', { secret: undefined }, 'secret undefined'],
    ['rate limit of none', { limits: { DescribeLogGroups: 0 } }, 'limits {"DescribeLogGroups":0}'],
    ['rate limit of no API', { limits: { 'a b': 1 } }, 'limits {"a b":1}'],
    ['rate limits not a table', { limits: 'off' }, 'limits "off"'],
  ])('is refused when its %s is wrong, naming the field', (_, change, named) => {
    expect(() => pageRequestOf({ ...REQUEST, ...change }, PASSES)).toThrow(MalformedEventError);
    expect(() => pageRequestOf({ ...REQUEST, ...change }, PASSES)).toThrow(named);
  });

  it('names every wrong field at once, and the passes this guard has', () => {
    expect(() => pageRequestOf({ kind: PAGE_REQUEST_KIND }, PASSES)).toThrow(
      /version undefined, pass undefined, region undefined, sweepId undefined, run undefined, secret undefined invalid \(passes: log-groups\)/,
    );
  });
});

/** A sweep context with no AWS behind it: the rules below make no call. */
const IN_PROCESS = {
  settings: loadSettings({}),
  aws: {} as AwsClients,
  dryRun: false,
  account: '1',
  sweepId: 's',
  now: 'n',
};

/**
 * A rule whose page lists the groups named (and a next page), each compliant when looked at; `first` runs before a
 * group is looked at (it may throw, or move the clock).
 */
function groupsRule(groups: string[], first: (name: string) => void = () => {}): AnyRuleDeclaration {
  return {
    id: 'groups',
    severity: 'medium',
    commands: {},
    reads: [],
    sweep: {
      pass: 'groups',
      list: async () => ({ items: groups.map((logGroupName) => ({ logGroupName })), next: 'more' }),
      assess: async (item: { logGroupName: string }) => {
        first(item.logGroupName);
        return {
          name: item.logGroupName,
          resource: { type: 'AWS::Logs::LogGroup', id: item.logGroupName, region: 'eu-west-1' },
          state: {},
          decision: noAction('compliant', 'as it should be'),
        };
      },
    },
  } as unknown as AnyRuleDeclaration;
}

describe('a page', () => {
  it('reports an item it cannot look at as one failed item, and settles the others and its token', async () => {
    const rule = groupsRule(['/a', '/b', '/c'], (name) => {
      if (name === '/b') throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    });
    const page = await sweepPage(rule, 'eu-west-1', undefined, IN_PROCESS);
    expect(page.seen).toBe(3);
    expect(page.next).toBe('more');
    expect(page.items.map(({ resource, outcome }) => `${resource} ${outcome}`).sort()).toEqual([
      '/a compliant',
      '/b failed',
      '/c compliant',
    ]);
    expect(page.items.find((item) => item.outcome === 'failed')).toEqual({
      rule: 'groups',
      outcome: 'failed',
      region: 'eu-west-1',
      resource: '/b',
      reason: 'could not be swept: AccessDeniedException: User is not authorized',
      actions: [],
      severity: 'medium',
    });
  });
});

describe('a page out of time', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const names = Array.from({ length: 10 }, (_, i) => `/g${i}`);
  /** Looking at the eighth group takes the clock to `late`. */
  const slow = (late: number) =>
    groupsRule(names, (name) => {
      if (name === '/g7') vi.setSystemTime(late);
    });

  it('starts no item past its deadline: those are failed items, each named, each told; the next page goes on', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000 });
    const told: string[] = [];
    const page = await sweepPage(slow(5_000), 'eu-west-1', undefined, IN_PROCESS, {
      deadline: 2_000,
      onItem: (item) => told.push(`${item.resource} ${item.outcome}`),
    });
    expect(page.seen).toBe(10);
    expect(page.next).toBe('more');
    expect(told.sort()).toEqual([...names.slice(0, 8).map((name) => `${name} compliant`), '/g8 failed', '/g9 failed']);
    expect(page.items.find((item) => item.resource === '/g9')?.reason).toBe("not looked at: the page's time ran out");
  });
});

describe('a page of a run', () => {
  const hash = createHash('sha256').update(REQUEST.secret).digest('hex');
  const live = { regions: ['eu-west-1'], secret: hash, expiresAt: Date.now() / 1000 + 600 };
  const request = { ...REQUEST, limits: undefined } as never;

  it('is admitted for a live run, its secret, and a region the run sweeps (or the one of a one-region pass)', () => {
    expect(() => admitPage(live, request, undefined)).not.toThrow();
    expect(() => admitPage({ ...live, regions: ['us-east-1'] }, request, 'eu-west-1')).not.toThrow();
  });

  it.each([
    ['a run that ended', { ...live, expiresAt: Date.now() / 1000 - 1 }, undefined, 'has ended'],
    [
      'another secret',
      { ...live, secret: createHash('sha256').update('b'.repeat(64)).digest('hex') },
      undefined,
      'does not take this secret',
    ],
    ['a record with no secret', { ...live, secret: 'undefined' }, undefined, 'does not take this secret'],
    [
      'a region the run does not sweep',
      { ...live, regions: ['us-east-1'] },
      undefined,
      'sweeps no log-groups in eu-west-1',
    ],
    ['another region than its pass’s one', live, 'us-east-1', 'sweeps no log-groups in eu-west-1'],
  ])('is refused for %s', (_, record, only, why) => {
    expect(() => admitPage(record, request, only)).toThrow(MalformedEventError);
    expect(() => admitPage(record, request, only)).toThrow(`sweep page request: run ${REQUEST.run} ${why}`);
  });

  it("is kept (its reads) while the same run asks, and afresh for another run's admitted page", () => {
    const runs = keptRuns();
    const kept = runs.keep('run-1');
    expect(runs.keep('run-1')).toBe(kept);
    expect(kept.reads.size).toBe(0);
    expect(runs.keep('run-2')).not.toBe(kept);
  });
});

const ITEM: PageItem = {
  rule: 'log-group-encryption-retention',
  outcome: 'remediated',
  region: 'eu-west-1',
  resource: '/app/a',
  reason: 'retention none',
  actions: ['retention none -> 365 days'],
  severity: 'medium',
};

describe("a guard's answer", () => {
  it.each([
    ['a page', { seen: 1, items: [ITEM], next: 'n' }],
    ['the last page', { seen: 0, items: [] }],
  ])('is read when it is %s', (_, answer) => {
    expect(pageResultOf(answer, 'g')).toEqual(answer);
  });

  it.each([
    ['null', null],
    ['no seen', { items: [] }],
    ['items not a list', { seen: 1, items: {} }],
    ['an unknown outcome', { seen: 1, items: [{ ...ITEM, outcome: 'fixed' }] }],
    ['an unknown severity', { seen: 1, items: [{ ...ITEM, severity: 'severe' }] }],
    ['an action not text', { seen: 1, items: [{ ...ITEM, actions: [1] }] }],
    ['a next token not text', { seen: 1, items: [], next: 2 }],
  ])('is refused with %s', (_, answer) => {
    expect(() => pageResultOf(answer, 'driftguard-dev-logGroupGuard')).toThrow(GuardPageError);
  });
});

describe('DRIFTGUARD_GUARD_FUNCTIONS', () => {
  const plan = [{ pass: 'log-groups', rule: 'r', severity: 'medium' as const, functionKey: 'logGroupGuard' }];

  it('names the function of each guard', () => {
    expect(parseGuardFunctions(' logGroupGuard = driftguard-dev-logGroupGuard ,kmsGuard=k', plan)).toEqual({
      logGroupGuard: 'driftguard-dev-logGroupGuard',
      kmsGuard: 'k',
    });
  });

  it.each([
    [undefined, 'names no function for logGroupGuard, whose log-groups pass the sweep runs'],
    ['kmsGuard=k', 'names no function for logGroupGuard'],
    ['logGroupGuard', '"logGroupGuard" is not guardKey=function-name'],
    ['logGroupGuard=a/b', '"logGroupGuard=a/b" is not guardKey=function-name'],
  ])('refuses %j at start', (text, message) => {
    expect(() => parseGuardFunctions(text, plan)).toThrow(message);
  });
});

describe('the plan the sweep function takes as data', () => {
  it("lists every guard rule's pass in the registry's order, with the guard that runs it", () => {
    expect(SWEEP_PLAN).toEqual(sweepPlan());
    expect(SWEEP_PLAN.passes.map(({ pass, functionKey }) => `${pass}@${functionKey}`)).toEqual(
      GUARDS.flatMap((guard) =>
        guard.rules.flatMap((rule) => (rule.sweep ? [`${rule.sweep.pass}@${guard.functionKey}`] : [])),
      ),
    );
    expect(SWEEP_PLAN.passes.map(({ rule }) => rule)).toEqual(
      RULES.filter((rule) => rule.sweep).map((rule) => rule.id),
    );
    // A global service's pass names its region; the activity pass, the stack's own.
    expect(SWEEP_PLAN.passes.find((pass) => pass.pass === 'users')?.onlyRegion).toBe('us-east-1');
    expect(SWEEP_PLAN.passes.find((pass) => pass.pass === 'activity-alarms')?.onlyRegion).toBe(HOME);
  });

  it('survives JSON (the bundle has it as a literal), and gives the forwarders the same patterns', () => {
    const literal = JSON.parse(JSON.stringify(SWEEP_PLAN)) as typeof SWEEP_PLAN;
    expect(literal).toEqual(SWEEP_PLAN);
    expect(forwardPatterns(literal.triggers)).toEqual(forwardPatterns(GUARDS));
    expect(regionForwardersRule(literal.triggers).id).toBe(REGION_FORWARDERS.id);
  });
});

/**
 * Clients whose Lambda client answers each Invoke with `answer` (what the emulator cannot be made to say), and whose
 * state table takes the run's record.
 */
function answering(answer: (input: InvokeCommand['input']) => object) {
  const sent: object[] = [];
  const records: object[] = [];
  const invoke = {
    client: () => ({
      send: async (command: InvokeCommand) => {
        sent.push(JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array)));
        return answer(command.input);
      },
    }),
  } as unknown as AwsClients;
  const aws = {
    client: () => ({
      send: async (command: { input: object }) => {
        records.push(command.input);
        return {};
      },
    }),
  } as unknown as AwsClients;
  return { clients: { aws, invoke }, sent, records };
}

const encoded = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const PLAN = [
  { pass: 'log-groups', rule: 'log-group-encryption-retention', severity: 'medium' as const, functionKey: 'g' },
];
const CTX = { sweepId: REQUEST.sweepId, settings: { stateTable: 'driftguard-dev-state' } } as never;
const RUN = { id: REQUEST.run, regions: ['eu-west-1', 'eu-north-1'] };

describe('a pass the sweep function has its guard run', () => {
  it('registers the run with its secret once, sends each page request with it, and deletes the run at its end', async () => {
    const { clients, sent, records } = answering(() => ({
      StatusCode: 200,
      Payload: encoded({ seen: 1, items: [ITEM] }),
    }));
    const invoked = invokedPasses(PLAN, { g: 'driftguard-dev-g' }, clients, 'us-east-1', { '*': 10 });
    const [pass] = invoked.passes;
    expect(await pass?.page('eu-west-1', 'page-2', CTX, RUN)).toEqual({ seen: 1, items: [ITEM] });
    await pass?.page('eu-north-1', undefined, CTX, RUN);
    const secret = (sent[0] as { secret: string }).secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const { token: _, ...first } = REQUEST;
    expect(sent).toEqual([
      { ...REQUEST, secret, limits: { '*': 10 } },
      { ...first, region: 'eu-north-1', secret, limits: { '*': 10 } },
    ]);
    await invoked.endRuns();
    // The record keeps the secret's hash only; the run's end deletes it.
    expect(records).toEqual([
      {
        TableName: 'driftguard-dev-state',
        Item: {
          pk: { S: 'sweep#run' },
          sk: { S: REQUEST.run },
          regions: { S: 'eu-west-1,eu-north-1' },
          secret: { S: createHash('sha256').update(secret).digest('hex') },
          expiresAt: { N: expect.stringMatching(/^\d{10}$/) },
        },
      },
      { TableName: 'driftguard-dev-state', Key: { pk: { S: 'sweep#run' }, sk: { S: REQUEST.run } } },
    ]);
  });

  it('gives each run a secret of its own', async () => {
    const { clients, sent } = answering(() => ({ StatusCode: 200, Payload: encoded({ seen: 0, items: [] }) }));
    const [pass] = invokedPasses(PLAN, { g: 'driftguard-dev-g' }, clients, 'us-east-1').passes;
    await pass?.page('eu-west-1', undefined, CTX, RUN);
    await pass?.page('eu-west-1', undefined, CTX, { ...RUN, id: `${REQUEST.run}-next` });
    const [one, two] = sent as { secret: string }[];
    expect(one?.secret).not.toBe(two?.secret);
  });

  it('sends no page without a state table to register its run in', async () => {
    const { clients, sent } = answering(() => ({ StatusCode: 200, Payload: encoded({ seen: 0, items: [] }) }));
    const [pass] = invokedPasses(PLAN, { g: 'driftguard-dev-g' }, clients, 'us-east-1').passes;
    await expect(pass?.page('eu-west-1', undefined, { settings: {} } as never, RUN)).rejects.toThrow(
      'the guards serve pages only for a run registered in the state table',
    );
    expect(sent).toEqual([]);
  });

  it.each([
    [
      'the error the guard threw',
      { FunctionError: 'Unhandled', Payload: encoded({ errorType: 'MalformedEventError', errorMessage: 'pass' }) },
      'driftguard-dev-g (the log-groups page in eu-west-1) failed: MalformedEventError: pass',
    ],
    [
      'a time-out',
      {
        FunctionError: 'Unhandled',
        Payload: encoded({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 60.00 seconds' }),
      },
      'failed: Sandbox.Timedout: Task timed out after 60.00 seconds',
    ],
    ['an answer that is not JSON', { Payload: encoded('<html>') }, 'answered something that is not JSON'],
    ['an answer of another shape', { Payload: encoded({ ok: true }) }, 'answered something that is not a sweep page'],
  ])('fails the page with %s', async (_, answer, message) => {
    const { clients } = answering(() => ({ StatusCode: 200, ...answer }));
    const [pass] = invokedPasses(PLAN, { g: 'driftguard-dev-g' }, clients, 'us-east-1').passes;
    const page = pass?.page('eu-west-1', undefined, CTX, RUN);
    await expect(page).rejects.toThrow(GuardPageError);
    await expect(page).rejects.toThrow(message);
  });
});

describe('the sweep loop over passes', () => {
  const home = process.env.AWS_REGION;
  afterEach(() => {
    process.env.AWS_REGION = home;
  });

  /** A pass whose pages answer from `pages` (by region), or throw when the region's answer is an Error. */
  function pass(name: string, pages: Record<string, PageResult | Error>, extra: Partial<SweepPass> = {}) {
    const asked: string[] = [];
    const sweepPass: SweepPass = {
      pass: name,
      rule: `${name}-rule`,
      severity: 'high',
      async page(region, token) {
        asked.push(`${region}${token ? `@${token}` : ''}`);
        const answer = pages[region] ?? { seen: 0, items: [] };
        if (answer instanceof Error) throw answer;
        return answer;
      },
      ...extra,
    };
    return { sweepPass, asked };
  }

  const engine = () => ({ settings: { ...loadSettings({}), stateTable: undefined }, aws: {} as AwsClients });

  it('reports a page that fails as one failed item of its rule, and goes on with the next region and pass', async () => {
    const broken = pass('trails', {
      'eu-west-1': Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' }),
      'eu-north-1': { seen: 2, items: [] },
    });
    const next = pass('keys', { 'eu-west-1': { seen: 1, items: [{ ...ITEM, rule: 'keys-rule', severity: 'low' }] } });
    const report = await runSweep(engine(), {
      passes: [broken.sweepPass, next.sweepPass],
      regions: ['eu-west-1', 'eu-north-1'],
      account: '123456789012',
    });
    expect(broken.asked).toEqual(['eu-west-1', 'eu-north-1']);
    expect(next.asked).toEqual(['eu-west-1', 'eu-north-1']);
    expect(report.complete).toBe(true);
    expect(report.seen).toEqual({ trails: 2, keys: 1 });
    expect(report.counts).toEqual({ 'trails-rule': { failed: 1 }, 'keys-rule': { remediated: 1 } });
    expect(report.first['trails-rule#failed']).toEqual([
      {
        rule: 'trails-rule',
        outcome: 'failed',
        region: 'eu-west-1',
        resource: 'trails pass',
        reason:
          "the trails pass failed in eu-west-1, the region's rest is left for the next sweep: TooManyRequestsException: Rate Exceeded.",
        actions: [],
      },
    ]);
    // A failed pass is as severe as its rule: the digest says so.
    expect(report.severest).toBe('high');
  });

  it("follows a page's token to the next page, and runs a pass of the stack's region only there", async () => {
    process.env.AWS_REGION = 'eu-north-1';
    let calls = 0;
    const paged = pass(
      'log-groups',
      {},
      {
        async page(region, token) {
          calls += 1;
          return token ? { seen: 1, items: [] } : { seen: 50, items: [], next: `${region}-2` };
        },
      },
    );
    const homeOnly = pass('activity-alarms', { 'eu-north-1': { seen: 1, items: [] } }, { onlyRegion: HOME });
    const report = await runSweep(engine(), {
      passes: [paged.sweepPass, homeOnly.sweepPass],
      regions: ['eu-west-1', 'eu-north-1'],
      account: '123456789012',
    });
    expect(calls).toBe(4);
    expect(homeOnly.asked).toEqual(['eu-north-1']);
    expect(report.seen).toEqual({ 'log-groups': 102, 'activity-alarms': 1 });
  });

  it("runs the registry's rules in process, one pass per rule that sweeps", () => {
    expect(localPasses([...RULES, REGION_FORWARDERS]).map((one) => one.pass)).toEqual([
      ...SWEEP_PLAN.passes.map((planned) => planned.pass),
      REGION_FORWARDERS.sweep?.pass,
    ]);
  });
});
