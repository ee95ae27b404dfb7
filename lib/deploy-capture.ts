/**
 * The one-time baseline capture at deploy: a CloudFormation custom resource served by the trail guard. On Create it
 * captures every trail of the stack's region; Update and Delete change nothing. Always answers CloudFormation, and
 * fails loudly when the answer is not taken (CloudFormation would otherwise wait an hour for it).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { answerCloudFormation, answerRequest, type CustomResourceRequest } from './custom-resource.js';
import type { RuleContext } from './rule.js';
import { captureTrailBaselines } from './trail-baselines.js';

// The answer's sender and its error moved to custom-resource.js (the sweep's forwarders answer too); kept here for callers.
export { answerCloudFormation, CloudFormationAnswerError } from './custom-resource.js';

export async function handleCaptureResource(
  request: CustomResourceRequest,
  ctx: RuleContext,
  region: string,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = answerCloudFormation,
) {
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
  await answerRequest(
    request,
    {
      Status: status,
      Reason: reason,
      PhysicalResourceId: request.PhysicalResourceId ?? `driftguard-trail-baselines-${region}`,
      Data: { Captured: captured.length },
    },
    logger,
    send,
  );
  return { status, reason, captured };
}
