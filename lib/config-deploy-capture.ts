/**
 * The one-time AWS Config baseline capture at deploy: a CloudFormation custom resource served by the config guard. On
 * Create it captures the stack's region's recorder and channel when the region has no baseline yet (the other regions'
 * are the sweep's); Update and Delete change nothing. Always answers CloudFormation; a foreign request gets no answer.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { captureConfigBaselines } from './config-baselines.js';
import {
  answerCloudFormation,
  answerRequest,
  type CustomResourceRequest,
  foreignRequestReason,
} from './custom-resource.js';
import { MalformedEventError } from './envelope.js';
import type { RuleContext } from './rule.js';

/** The custom resource's logical id in the stack (serverless.yml). */
export const CONFIG_CAPTURE_RESOURCE_ID = 'ConfigBaselineCapture';

export async function handleConfigCaptureResource(
  request: CustomResourceRequest,
  ctx: RuleContext,
  region: string,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = answerCloudFormation,
) {
  const foreign = foreignRequestReason(request, CONFIG_CAPTURE_RESOURCE_ID, ctx.settings.customResource);
  if (foreign !== undefined) {
    logger.error('malformed custom resource request: no capture, no answer', { reason: foreign });
    throw new MalformedEventError(`custom resource request ${String(request.RequestId)}: ${foreign}`);
  }
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'nothing to do';
  let captured: string[] = [];
  try {
    if (request.RequestType === 'Create') {
      captured = await captureConfigBaselines(ctx, [region], 'deploy');
      reason = captured.length
        ? `captured the AWS Config baseline of ${region}`
        : `no AWS Config baseline captured in ${region} (no customer-managed recorder, or one captured already)`;
    }
  } catch (error) {
    logger.error('deploy-time AWS Config baseline capture failed', error as Error);
    status = 'FAILED';
    reason = `AWS Config baseline capture failed: ${(error as Error).message}`;
  }
  await answerRequest(
    request,
    {
      Status: status,
      Reason: reason,
      PhysicalResourceId: request.PhysicalResourceId ?? `driftguard-config-baselines-${region}`,
      Data: { Captured: captured.length },
    },
    logger,
    send,
  );
  return { status, reason, captured };
}
