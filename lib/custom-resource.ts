/** CloudFormation custom resource requests, recognised without loading what serves them, and their answers. */
import type { Logger } from '@aws-lambda-powertools/logger';

export interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

export function isCustomResourceRequest(event: unknown): event is CustomResourceRequest {
  return typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event;
}

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

/** What a custom resource tells CloudFormation. */
export interface CustomResourceAnswer {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  Data?: Record<string, unknown>;
}

/**
 * Answers the request at its ResponseURL. Not taken, it throws: the invocation fails and Lambda tries again (custom
 * resources are invoked asynchronously), where CloudFormation would otherwise wait an hour for the answer.
 */
export async function answerRequest(
  request: CustomResourceRequest,
  answer: CustomResourceAnswer,
  logger: Logger,
  send: (url: string, body: string) => Promise<unknown> = answerCloudFormation,
): Promise<void> {
  const body = {
    ...answer,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  };
  try {
    await send(request.ResponseURL, JSON.stringify(body));
  } catch (error) {
    logger.error('CloudFormation did not take the answer', error as Error);
    throw new CloudFormationAnswerError(`${request.RequestType} ${request.LogicalResourceId} left unanswered`, {
      cause: error,
    });
  }
}
