/**
 * The one-time baseline capture at deploy: a CloudFormation custom resource served by the trail guard. On Create it
 * captures every trail of the stack's region that has no baseline yet; Update and Delete change nothing. Always answers CloudFormation, and
 * fails loudly when the answer is not taken (CloudFormation would otherwise wait an hour for it).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type CustomResourceRequest, foreignRequestReason } from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import type { RuleContext } from './rule.js';
import { captureTrailBaselines } from './trail-baselines.js';

/** CloudFormation did not take the custom resource's answer: the deploy waits for it until it times out. */
export class CloudFormationAnswerError extends Error {
  override name = 'CloudFormationAnswerError';
}

/** The ResponseURL without its query (a pre-signature that is not for the logs). */
function withoutSignature(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

/**
 * PUTs the answer at the pre-signed ResponseURL. The URL is signed with no content type, so the request carries an
 * empty one (fetch would add text/plain, and S3 would refuse the signature). A refusal throws.
 */
export async function answerCloudFormation(url: string, body: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  } catch (error) {
    throw new CloudFormationAnswerError(`the answer could not be sent to ${withoutSignature(url)}`, { cause: error });
  }
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 500);
    throw new CloudFormationAnswerError(
      `the answer was refused at ${withoutSignature(url)}: HTTP ${response.status}${detail ? ` ${detail}` : ''}`,
    );
  }
}

/** The custom resource's logical id in the stack (serverless.yml): requests for any other resource are not ours. */
export const CAPTURE_RESOURCE_ID = 'TrailBaselineCapture';

/**
 * Serves the stack's own capture resource. A request of another stack or resource, or whose ResponseURL is not
 * CloudFormation's, is malformed: logged and thrown, with no capture and no PUT (a forged request would otherwise
 * rewrite baselines, or carry an answer to any URL).
 */
export async function handleCaptureResource(
  request: CustomResourceRequest,
  ctx: RuleContext,
  region: string,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = answerCloudFormation,
) {
  const foreign = foreignRequestReason(request, CAPTURE_RESOURCE_ID, ctx.settings.customResource);
  if (foreign !== undefined) {
    logger.error('malformed custom resource request: no capture, no answer', { reason: foreign });
    throw new MalformedEventError(`custom resource request ${String(request.RequestId)}: ${foreign}`);
  }
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'nothing to do';
  let captured: string[] = [];
  try {
    if (request.RequestType === 'Create') {
      captured = await captureTrailBaselines(ctx, [region], 'deploy');
      reason = `captured ${captured.length} trail baselines`;
    }
  } catch (error) {
    logger.error('deploy-time baseline capture failed', error as Error);
    status = 'FAILED';
    reason = `baseline capture failed: ${(error as Error).message}`;
  }
  const answer = {
    Status: status,
    Reason: reason,
    PhysicalResourceId: request.PhysicalResourceId ?? `driftguard-trail-baselines-${region}`,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    Data: { Captured: captured.length },
  };
  try {
    await send(request.ResponseURL, JSON.stringify(answer));
  } catch (error) {
    // Thrown, the invocation fails and Lambda tries again (custom resources are invoked asynchronously).
    logger.error('CloudFormation did not take the answer', error as Error);
    throw new CloudFormationAnswerError(`${request.RequestType} ${request.LogicalResourceId} left unanswered`, {
      cause: error,
    });
  }
  return { status, reason, captured };
}
