/**
 * The one-time baseline capture at deploy: a CloudFormation custom resource served by the trail guard. On Create it
 * captures every trail of the stack's region; Update and Delete change nothing. Always answers CloudFormation.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CustomResourceRequest } from './custom-resource.js';
import type { RuleContext } from './rule.js';
import { captureTrailBaselines } from './rules/trail-integrity.js';

export async function handleCaptureResource(
  request: CustomResourceRequest,
  ctx: RuleContext,
  region: string,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = (url, body) => fetch(url, { method: 'PUT', body }),
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
  await send(
    request.ResponseURL,
    JSON.stringify({
      Status: status,
      Reason: reason,
      PhysicalResourceId: request.PhysicalResourceId ?? `driftguard-trail-baselines-${region}`,
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: request.LogicalResourceId,
      Data: { Captured: captured.length },
    }),
  );
  return { status, reason, captured };
}
