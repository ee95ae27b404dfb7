/**
 * Attack: custom-resource requests forged to make the trail guard capture a weakened trail as its baseline (from
 * another stack, for another resource, or answered at the attacker's address). Each is a malformed event: no capture,
 * no PUT. Even the stack's own Create captures only trails that have no baseline.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import type { CustomResourceRequest } from '../../../lib/custom-resource.js';
import { CAPTURE_RESOURCE_ID, handleCaptureResource } from '../../../lib/deploy-capture.js';
import { MalformedEventError } from '../../../lib/envelope.js';
import { TRAIL_CAPTURE, trailGuard } from '../../../lib/guards/trail-guard.js';
import { loadSettings } from '../../../lib/settings.js';
import { TrailBaselineStore } from '../../../lib/trail-baselines.js';
import { readTrail } from '../../../lib/trails.js';
import { invocationContext } from '../../../scripts/replay.js';
import { freshEngine } from '../../support/emulator.js';
import { ACCOUNT, CallRecorder, guardHandler, reenacted, sampleEvent } from '../../support/handler-harness.js';
import { type ResponseUrl, startResponseUrl } from '../../support/response-url.js';

const HOME = 'us-east-1';
const TRAIL = 'org-audit-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${HOME}:${ACCOUNT}:trail/${TRAIL}`;
const STACK_ID = `arn:aws:cloudformation:${HOME}:${ACCOUNT}:stack/driftguard-prod/5b8e7a40-b0c4-11ef-9f5c-0a1b2c3d4e5f`;
const CLOUDFORMATION_ANSWER = `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${encodeURIComponent(STACK_ID)}%7C${CAPTURE_RESOURCE_ID}%7Creq?X-Amz-Signature=s`;

/** Stands in for the attacker's collector: any answer sent there would leak, or fake CloudFormation's. */
let collector: ResponseUrl;

beforeAll(async () => {
  collector = await startResponseUrl();
});

afterAll(() => collector.close());

function request(overrides: Partial<CustomResourceRequest>): CustomResourceRequest {
  return {
    RequestType: 'Create',
    ResponseURL: CLOUDFORMATION_ANSWER,
    StackId: STACK_ID,
    RequestId: 'forged-1',
    LogicalResourceId: CAPTURE_RESOURCE_ID,
    ...overrides,
  };
}

const baseline = () => new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(TRAIL_ARN);

describe('attack: a forged custom-resource request after a trail was weakened', () => {
  beforeEach(async () => {
    collector.reset();
    // The stack knows its own ARN; loopback answers are not allowed (as deployed).
    await freshEngine({ AWS_REGION: HOME, DRIFTGUARD_STACK_ID: STACK_ID });
    // A fully configured trail of the stack's region, its baseline captured, then weakened with no engine running.
    const event = sampleEvent('cloudtrail-UpdateTrail-disable-multiregion-and-validation');
    event.detail.awsRegion = HOME;
    await reenacted(event);
  });

  it.each([
    ['another stack', { StackId: STACK_ID.replace('driftguard-prod', 'attacker'), ResponseURL: '' }],
    ['another resource of the stack', { LogicalResourceId: 'AttackerCapture', ResponseURL: '' }],
    ['an answer address on loopback', { ResponseURL: '' }],
    ['an answer address of the attacker', { ResponseURL: 'https://collector.attacker.example/answer' }],
  ])('refuses a request from %s: no capture, no PUT', async (_label, overrides) => {
    // Prepare
    const kept = await baseline();
    const forged = request({ ...overrides, ResponseURL: overrides.ResponseURL || `${collector.base}/answer` });
    const handler = guardHandler(trailGuard, new CallRecorder());

    // Act
    const act = handler(
      forged,
      invocationContext('driftguard-prod-trailGuard', { region: HOME, account: ACCOUNT, requestId: 'r' }),
    );

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedEventError);
    expect(collector.received).toEqual([]);
    expect(await baseline()).toEqual(kept);
    expect(kept?.config.isMultiRegionTrail).toBe(true);
  });

  it('captures nothing over an existing baseline even on the stack’s own Create', async () => {
    // Prepare
    const kept = await baseline();
    const sent: { url: string; body: string }[] = [];
    const ctx = { settings: loadSettings(), aws: createAwsClients() };

    // Act
    const result = await handleCaptureResource(
      TRAIL_CAPTURE,
      request({ RequestId: 'genuine-1' }),
      ctx,
      HOME,
      new Logger({ logLevel: 'SILENT' }),
      async (url, body) => void sent.push({ url, body }),
    );

    // Assess
    expect(result).toEqual({ status: 'SUCCESS', reason: 'captured 0 trail baselines', captured: [] });
    expect(sent.map(({ url }) => url)).toEqual([CLOUDFORMATION_ANSWER]);
    expect(await baseline()).toEqual(kept);
    expect((await readTrail(createAwsClients(), TRAIL, HOME))?.isMultiRegionTrail).toBe(false);
  });
});
