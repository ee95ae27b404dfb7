/** CloudFormation custom resource requests, recognised without loading what serves them, checked as the stack's, answered. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { arnRegion } from './aws.js';
import type { CustomResourceSettings } from './settings.js';

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

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Whether the URL is on CloudFormation's response bucket of `region` (cloudformation-custom-resource-response-<region
 * without dashes>), in any of S3's host forms: virtual-hosted (s3, s3.<region>, s3-<region>) or path-style.
 */
export function isCloudFormationResponseUrl(url: URL, region: string): boolean {
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') return false;
  const bucket = `cloudformation-custom-resource-response-${region.replaceAll('-', '')}`;
  const s3 = `(?:s3|s3[.-]${region.replaceAll('.', '\\.')})\\.amazonaws\\.com(?:\\.cn)?`;
  if (new RegExp(`^${bucket}\\.${s3}$`).test(url.hostname)) return true;
  return new RegExp(`^${s3}$`).test(url.hostname) && url.pathname.startsWith(`/${bucket}/`);
}

/**
 * Why the request is not CloudFormation's for this stack's resource `logicalResourceId`, or undefined when it is: the
 * stack (StackId), the resource, and the answer's address (CloudFormation's S3 response host of the stack's region)
 * must all be ours. Anything else is answered by no capture and no PUT.
 */
export function foreignRequestReason(
  request: CustomResourceRequest,
  logicalResourceId: string,
  settings: CustomResourceSettings,
): string | undefined {
  if (settings.stackId === undefined) return 'DRIFTGUARD_STACK_ID is not set: no request can be told to be the stack’s';
  if (request.StackId !== settings.stackId) return `StackId ${String(request.StackId)} is not this stack's`;
  if (request.LogicalResourceId !== logicalResourceId) {
    return `LogicalResourceId ${String(request.LogicalResourceId)} is not ${logicalResourceId}`;
  }
  let url: URL;
  try {
    url = new URL(request.ResponseURL);
  } catch {
    return 'ResponseURL is not a URL';
  }
  const region = arnRegion(settings.stackId) ?? '';
  if (isCloudFormationResponseUrl(url, region)) return undefined;
  // Loopback reaches nothing outside the function's own sandbox: allowing it (tests only) sends nothing away.
  if (settings.loopbackResponseUrl && url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname)) {
    return undefined;
  }
  return `ResponseURL host ${url.host} is not CloudFormation's response bucket in ${region}`;
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
