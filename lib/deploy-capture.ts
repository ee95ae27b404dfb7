/**
 * The one-time baseline capture at deploy: a CloudFormation custom resource served by the trail guard. On Create it
 * captures every trail of the stack's region that has no baseline yet; Update and Delete change nothing. Always answers CloudFormation, and
 * fails loudly when the answer is not taken (CloudFormation would otherwise wait an hour for it).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  answerCloudFormation,
  answerRequest,
  type CustomResourceRequest,
  foreignRequestReason,
} from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import type { RuleContext } from './rule.js';

/** The custom resource's logical id in the stack (serverless.yml): requests for any other resource are not ours. */
export const CAPTURE_RESOURCE_ID = 'TrailBaselineCapture';

/** What one deploy-time capture is: its custom resource, what it captures in the stack's region, and its name. */
export interface DeployCapture {
  resourceId: string;
  /** Captures what has no baseline yet in the region; returns what it captured. */
  capture(ctx: RuleContext, region: string): Promise<string[]>;
  /** What is captured, in the answer's reason (e.g. "trail baselines"). */
  what: string;
  /** The physical id's prefix, followed by the region. */
  physicalIdPrefix: string;
}

/**
 * Serves the stack's own capture resource. A request of another stack or resource, or whose ResponseURL is not
 * CloudFormation's, is malformed: logged and thrown, with no capture and no PUT (a forged request would otherwise
 * rewrite baselines, or carry an answer to any URL).
 */
export async function handleCaptureResource(
  capture: DeployCapture,
  request: CustomResourceRequest,
  ctx: RuleContext,
  region: string,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = answerCloudFormation,
) {
  const foreign = foreignRequestReason(request, capture.resourceId, ctx.settings.customResource);
  if (foreign !== undefined) {
    logger.error('malformed custom resource request: no capture, no answer', { reason: foreign });
    throw new MalformedEventError(`custom resource request ${String(request.RequestId)}: ${foreign}`);
  }
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'nothing to do';
  let captured: string[] = [];
  try {
    if (request.RequestType === 'Create') {
      captured = await capture.capture(ctx, region);
      reason = `captured ${captured.length} ${capture.what}`;
    }
  } catch (error) {
    logger.error('deploy-time baseline capture failed', error as Error);
    status = 'FAILED';
    reason = `baseline capture failed: ${(error as Error).message}`;
  }
  await answerRequest(
    request,
    {
      Status: status,
      Reason: reason,
      PhysicalResourceId: request.PhysicalResourceId ?? `${capture.physicalIdPrefix}${region}`,
      Data: { Captured: captured.length },
    },
    logger,
    send,
  );
  return { status, reason, captured };
}
