/**
 * Stands in for the SDK's region lookup in EC2 instance metadata (@smithy/core's getInstanceMetadataRegion) in the
 * Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts). The SDK asks the instance metadata service for a
 * region only when neither the client, AWS_REGION nor a config file gives one; Lambda always sets AWS_REGION and
 * the engine names each client's region, so the lookup (and its HTTP client for 169.254.169.254) is never needed.
 * Should it be reached, it throws RegionNotConfiguredError instead of asking a service Lambda does not have.
 */
export class RegionNotConfiguredError extends Error {
  constructor() {
    super('no AWS region configured (AWS_REGION), and driftguard functions do not ask EC2 instance metadata for one');
    this.name = 'RegionNotConfiguredError';
  }
}

export const getInstanceMetadataRegion = async (): Promise<string | undefined> => {
  throw new RegionNotConfiguredError();
};
