/**
 * Attack: a trail weakened between the engine's decision (an accepted UpdateTrail) and the baseline's follow. The
 * weakened configuration must not become the baseline, or every later weakening would be compared with it as compliant.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudTrailClient, StopLoggingCommand, UpdateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import { trailGuard } from '../../../lib/guards/trail-guard.js';
import { createGuardHandler } from '../../../lib/handler.js';
import { checkEvent, settleDecision } from '../../../lib/pipeline.js';
import { type TrailTarget, trailIntegrity } from '../../../lib/rules/trail-integrity.js';
import { loadSettings } from '../../../lib/settings.js';
import { TrailBaselineStore } from '../../../lib/trail-baselines.js';
import { readTrail } from '../../../lib/trails.js';
import { freshEngine } from '../../support/emulator.js';
import {
  ACCOUNT,
  CallRecorder,
  contextFor,
  guardHandler,
  reenacted,
  sampleEvent,
} from '../../support/handler-harness.js';
import { interceptedClients } from '../../support/intercept.js';

const REGION = 'eu-west-1';
const TRAIL = 'org-audit-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${TRAIL}`;

const baseline = () => new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(TRAIL_ARN);

describe('attack: the trail weakened between the decision and the baseline follow', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('keeps the old baseline, says so, and the attacker’s own StopLogging is then restored', async () => {
    const event = await reenacted(sampleEvent('cloudtrail-UpdateTrail-s3-prefix-only'));
    const before = await baseline();
    expect(before?.config).toMatchObject({ isLogging: true, logFileValidationEnabled: true, isMultiRegionTrail: true });
    const attacker = createAwsClients().client(CloudTrailClient, REGION);
    let describes = 0;
    const aws = interceptedClients(async ({ client, command }, send) => {
      // The second read of the trail is the follow's: the attacker's calls land just before it.
      if (client === 'CloudTrail' && command === 'DescribeTrails' && ++describes === 2) {
        await attacker.send(new StopLoggingCommand({ Name: TRAIL_ARN }));
        await attacker.send(
          new UpdateTrailCommand({ Name: TRAIL_ARN, EnableLogFileValidation: false, IsMultiRegionTrail: false }),
        );
      }
      return send();
    });
    const handler = createGuardHandler(trailGuard, {
      settings: loadSettings(),
      aws,
      logger: new Logger({ logLevel: 'SILENT' }),
    });

    const raced = await handler(event, contextFor(trailGuard, event));

    expect(describes).toBeGreaterThanOrEqual(2);
    expect(raced.outcome).not.toBe('compliant');
    expect(raced.reason).toMatch(/baseline kept: the trail changed again meanwhile \(.*logging.*\)/);
    expect((await baseline())?.config).toEqual(before?.config);

    // The attacker's StopLogging event then arrives: compared with the baseline the engine kept, it is restored.
    const stop = sampleEvent('cloudtrail-StopLogging');
    stop.detail.eventID = 'attack-stop-after-race';
    const restored = await guardHandler(trailGuard, new CallRecorder())(stop, contextFor(trailGuard, stop));
    expect(restored.outcome).toBe('remediated');
    expect(await readTrail(createAwsClients(), TRAIL, REGION)).toMatchObject({
      isLogging: true,
      logFileValidationEnabled: true,
      isMultiRegionTrail: true,
    });
  });

  it('never follows a trail the read-back says is not restored', async () => {
    const event = await reenacted(sampleEvent('cloudtrail-UpdateTrail-s3-prefix-only'));
    const before = await baseline();
    // The update also turned validation off: restored, and the new prefix accepted beside it, were it verified.
    await createAwsClients()
      .client(CloudTrailClient, REGION)
      .send(new UpdateTrailCommand({ Name: TRAIL_ARN, EnableLogFileValidation: false, S3KeyPrefix: 'elsewhere' }));
    const ctx = { settings: loadSettings(), aws: createAwsClients(), dryRun: false };
    const unverified = { ...trailIntegrity, verify: async () => ['logFileValidationEnabled could not be restored.'] };
    const target = checkEvent(event, [trailIntegrity]).target as TrailTarget;
    const state = await trailIntegrity.inspect(target, ctx);
    if (state === undefined) throw new Error('the trail was set up by the re-enactment');
    const decision = trailIntegrity.decide(state, ctx.settings);
    expect(decision.bookkeeping).toEqual([expect.objectContaining({ kind: 'trail-baseline', mode: 'follow' })]);

    const settled = await settleDecision(unverified, trailIntegrity.describe(target), state, decision, ctx);

    expect(settled.outcome).toBe('needs-human');
    expect(settled.reason).not.toMatch(/baseline follows/);
    expect((await baseline())?.config).toEqual(before?.config);
  });
});
