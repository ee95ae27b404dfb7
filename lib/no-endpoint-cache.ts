/**
 * Stands in for @aws-sdk/endpoint-cache in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts). The
 * DynamoDB client builds an endpoint cache for endpoint discovery, which none of its commands uses (discovery is off
 * unless configured, and the SDK attaches no discovery middleware to DynamoDB's commands), so the cache and its LRU
 * map need not be bundled. Built at client creation as the original; any use throws EndpointDiscoveryNotBundledError.
 */
export class EndpointDiscoveryNotBundledError extends Error {
  constructor() {
    super('endpoint discovery is not bundled in driftguard functions (lib/no-endpoint-cache.ts)');
    this.name = 'EndpointDiscoveryNotBundledError';
  }
}

const notBundled = (): never => {
  throw new EndpointDiscoveryNotBundledError();
};

export class EndpointCache {
  constructor(readonly capacity: number) {}

  getEndpoint = notBundled;
  get = notBundled;
  set = notBundled;
  delete = notBundled;
  has = notBundled;
  clear = notBundled;
}
