/**
 * Attack: a trail deleted and created again under its own name with less (one region, no validation, no key, no
 * CloudWatch Logs, no data events or insights). The captures that run meanwhile (deploy, replay, sweep) must not
 * take the weaker trail as its baseline, and the CreateTrail is compared with the baseline and restored.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { trailGuard } from '../../../lib/guards/trail-guard.js';
import { loadSettings } from '../../../lib/settings.js';
import { captureTrailBaselines, TrailBaselineStore } from '../../../lib/trail-baselines.js';
import { readTrail } from '../../../lib/trails.js';
import { freshEngine, readNotices } from '../../support/emulator.js';
import {
  ACCOUNT,
  CallRecorder,
  contextFor,
  guardHandler,
  reenacted,
  sampleEvent,
} from '../../support/handler-harness.js';

const TRAIL = 'org-audit-trail';
const REGION = 'eu-west-1';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${TRAIL}`;
const BUCKET = `reenact-trail-${TRAIL}-${ACCOUNT}`;

const engine = () => ({ settings: loadSettings(), aws: createAwsClients() });
const baseline = () => new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(TRAIL_ARN);

/** The attacker's CreateTrail: the same name and bucket, nothing else. */
function weakerCreateTrail(): CloudTrailEvent {
  const event = sampleEvent('cloudtrail-CreateTrail');
  event.detail.eventID = 'attack-0001-recreated-weaker';
  event.detail.requestParameters = { name: TRAIL, s3BucketName: BUCKET, isMultiRegionTrail: false };
  event.detail.responseElements = { name: TRAIL, trailARN: TRAIL_ARN };
  return event;
}

describe('attack: a trail deleted and re-created weaker under its own name', () => {
  beforeEach(async () => {
    await freshEngine();
    // A fully configured trail, its baseline captured, then deleted (no engine running).
    await reenacted(sampleEvent('cloudtrail-DeleteTrail-by-name'));
  });

  it('keeps the baseline through every capture, and restores the trail from it on CreateTrail', async () => {
    // Prepare: the weaker trail exists, and a capture runs before the engine sees the CreateTrail.
    const strong = await baseline();
    const event = await reenacted(weakerCreateTrail());
    const captured = await captureTrailBaselines(engine(), [REGION], 'capture');

    // Act
    const result = await guardHandler(trailGuard, new CallRecorder())(event, contextFor(trailGuard, event));

    // Assess: the capture stored nothing; the weakenings were put back and the notice says so.
    expect(captured).toEqual([]);
    expect(result.outcome).toBe('remediated');
    expect(result.findings.map((f) => f.attribute)).toEqual(
      expect.arrayContaining([
        'logging',
        'isMultiRegionTrail',
        'logFileValidationEnabled',
        'cloudWatchLogs',
        'kmsKeyId',
        'dataEvents',
        'insightSelectors',
      ]),
    );
    const now = await readTrail(createAwsClients(), TRAIL, REGION);
    const config = strong?.config;
    expect(now).toMatchObject({
      isLogging: true,
      isMultiRegionTrail: true,
      logFileValidationEnabled: true,
      cloudWatchLogsLogGroupArn: config?.cloudWatchLogsLogGroupArn,
      cloudWatchLogsRoleArn: config?.cloudWatchLogsRoleArn,
      kmsKeyId: config?.kmsKeyId,
      eventSelectors: config?.eventSelectors,
      insightSelectors: config?.insightSelectors,
    });
    // The baseline follows the restored trail: its strength kept, the accepted changes (prefix, tags) taken.
    const after = await baseline();
    expect(after?.capturedFrom).toBe(event.detail.eventID);
    expect(after?.config).toMatchObject({ isMultiRegionTrail: true, logFileValidationEnabled: true, tags: [] });
    const notices = await readNotices();
    expect(notices.map((n) => n.subject)).toEqual([
      expect.stringMatching(/^\[driftguard\] CRITICAL (trail )?org-audit-trail CreateTrail by alice: /),
    ]);
    expect(notices[0]?.document.findings).toContainEqual({
      attribute: 'isMultiRegionTrail',
      before: 'on',
      after: 'off',
    });
  });
});
