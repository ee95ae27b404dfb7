/** CloudFormation custom resource requests, recognised without loading what serves them, and checked as the stack's. */
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
