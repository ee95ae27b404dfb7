/**
 * Stands in for @smithy/core's S3 endpoint customization (resolveParamsForS3: bucket names, path style, ARN buckets,
 * multi-region access points) in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts). The endpoint
 * middleware calls it only for a client whose service is S3, and no function sends a command of the SDK's S3 client:
 * the engine's two S3 reads go through lib/s3-buckets.ts, which resolves its own endpoints. Should one ever be sent,
 * it throws instead of resolving an S3 endpoint without S3's rules.
 */
export class S3EndpointParamsNotBundledError extends Error {
  constructor() {
    super("the S3 client's endpoint customization is not bundled: S3 calls go through lib/s3-buckets.ts");
    this.name = 'S3EndpointParamsNotBundledError';
  }
}

export const resolveParamsForS3 = async (_params: unknown): Promise<never> => {
  throw new S3EndpointParamsNotBundledError();
};
