/**
 * The read-back after a deleted trail is re-created, through the trail guard's Lambda handler: a re-created trail
 * that differs from its baseline (a write silently dropped or not done, which the emulator never does by itself, so
 * injected under the SDK) ends as needs-human naming the attribute, in the result and in the notice.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { trailGuard } from '../../lib/guards/trail-guard.js';
import { createGuardHandler } from '../../lib/handler.js';
import { loadSettings } from '../../lib/settings.js';
import { TrailBaselineStore } from '../../lib/trail-baselines.js';
import { readTrail } from '../../lib/trails.js';
import { trailReenactments } from '../../scripts/reenact/trails.js';
import { lambdaContext } from '../../scripts/replay.js';
import { freshEngine, readNotices, testEndpoint } from '../support/emulator.js';
import { type Interceptor, interceptedClients } from '../support/intercept.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const TRAIL = 'org-audit-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${TRAIL}`;
const deleteTrail = JSON.parse(readFileSync('events/cloudtrail-DeleteTrail-by-name.json', 'utf8')) as CloudTrailEvent;

const RECREATE_CALLS = ['CreateTrail', 'PutEventSelectors', 'PutInsightSelectors', 'StartLogging'];

/** A fully configured trail, its baseline captured, then deleted with no engine running. */
async function deletedTrailWithBaseline() {
  const engine = { settings: loadSettings(), aws: createAwsClients() };
  await trailReenactments['aws.cloudtrail:DeleteTrail']?.(deleteTrail, {
    endpoint: testEndpoint(),
    account: ACCOUNT,
    notes: [],
    engine,
    keys: new Map(),
  });
  expect(await readTrail(engine.aws, TRAIL, REGION)).toBeUndefined();
}

/** The trail guard's Lambda handler (functions/trail-guard.ts) on clients passing through `intercept`. */
async function handleDeleteTrail(intercept: Interceptor) {
  const writes: string[] = [];
  const handler = createGuardHandler(trailGuard, {
    settings: loadSettings(),
    aws: interceptedClients((call, send) => {
      if (RECREATE_CALLS.includes(call.command)) writes.push(call.command);
      return intercept(call, send);
    }),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  const result = await handler(deleteTrail, lambdaContext(deleteTrail, ACCOUNT, 'driftguard-dev-trail-guard'));
  return { result, writes };
}

const passThrough: Interceptor = (_call, send) => send();

/** A field of one call's input dropped on the way, the call otherwise answered by the emulator. */
const dropping =
  (command: string, field: string): Interceptor =>
  (call, send) => {
    if (call.command === command) delete call.input[field];
    return send();
  };

/** One call acknowledged as done without reaching the emulator. */
const acknowledgedNotDone =
  (command: string): Interceptor =>
  (call, send) =>
    call.command === command ? Promise.resolve({ $metadata: { httpStatusCode: 200 } }) : send();

describe('the trail read-back after a re-creation, through the trail guard’s handler', () => {
  beforeEach(async () => {
    await freshEngine();
    await deletedTrailWithBaseline();
  });

  it('is remediated, with nothing for a human, when the re-created trail equals its baseline', async () => {
    const { result, writes } = await handleDeleteTrail(passThrough);
    expect(writes).toEqual(RECREATE_CALLS);
    expect(result).toMatchObject({ outcome: 'remediated', needsHuman: [] });
    const notices = await readNotices();
    expect(notices.map((n) => n.attributes.outcome)).toEqual(['remediated']);
  });

  it.each([
    [
      'CreateTrail drops EnableLogFileValidation',
      dropping('CreateTrail', 'EnableLogFileValidation'),
      'logFileValidationEnabled',
      'false',
    ],
    ['CreateTrail drops TagsList', dropping('CreateTrail', 'TagsList'), 'tags', '[]'],
    ['PutEventSelectors is acknowledged, not done', acknowledgedNotDone('PutEventSelectors'), 'eventSelectors', '[]'],
    [
      'PutInsightSelectors is acknowledged, not done',
      acknowledgedNotDone('PutInsightSelectors'),
      'insightSelectors',
      '[]',
    ],
  ] as const)('gives needs-human naming the attribute when %s', async (_fault, intercept, attribute, now) => {
    const store = new TrailBaselineStore(createAwsClients(), loadSettings().stateTable);
    const baselineBefore = await store.get(TRAIL_ARN);
    const { result, writes } = await handleDeleteTrail(intercept);

    // Every write was made and answered: only the read-back can tell that the trail is not what it was.
    expect(writes).toEqual(RECREATE_CALLS);
    expect(result.failures).toEqual([]);
    expect(result.outcome).toBe('needs-human');
    // Exactly the differing attribute, with what the baseline says and what the trail now has.
    expect(result.needsHuman).toHaveLength(1);
    const [step] = result.needsHuman;
    expect(step).toMatch(new RegExp(`^${attribute} could not be restored`));
    expect(step).toContain(`baseline ${JSON.stringify(baselineBefore?.config[attribute])}`);
    expect(step).toContain(`now ${now}`);

    const notices = await readNotices();
    expect(notices).toHaveLength(1);
    const [notice] = notices;
    expect(notice?.attributes).toMatchObject({ outcome: 'needs-human', rule: 'cloudtrail-trail-integrity' });
    expect(notice?.subject).toContain('needs a human');
    expect(notice?.document.outcome).toBe('needs-human');
    expect(notice?.document.needsHuman).toEqual(result.needsHuman);

    // The baseline keeps what the trail should be, so a later restore still knows it.
    expect(await store.get(TRAIL_ARN)).toEqual(baselineBefore);
  });
});
