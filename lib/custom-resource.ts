/** CloudFormation custom resource requests, recognised without loading what serves them. */
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
