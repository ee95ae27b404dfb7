/**
 * Stands in for the SDK's reader of the shared config and credentials files (~/.aws/config, ~/.aws/credentials) in
 * the Lambda bundles, where @smithy/core's config loader asks it for each setting a client resolves (an esbuild
 * plugin in scripts/bundle-plugins.ts). A Lambda function has no such files: the SDK finds none and uses the
 * environment and its defaults. This one answers "no files" as the SDK would, without bundling the INI parser, and
 * throws SharedConfigFilesNotBundledError if a file is there after all, rather than ignore what it says.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getHomeDir } from '@smithy/core/config';

export class SharedConfigFilesNotBundledError extends Error {
  constructor(files: string[]) {
    super(
      `${files.join(' and ')} would configure the AWS SDK, but driftguard functions do not read shared config files`,
    );
    this.name = 'SharedConfigFilesNotBundledError';
  }
}

/** The SDK's paths: the init's, AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else under the home folder. */
function resolved(file: string): string {
  return file.startsWith('~/') ? join(getHomeDir(), file.slice(2)) : file;
}

export const loadSharedConfigFiles = async (init: { filepath?: string; configFilepath?: string } = {}) => {
  const files = [
    init.configFilepath ?? (process.env.AWS_CONFIG_FILE || join(getHomeDir(), '.aws', 'config')),
    init.filepath ?? (process.env.AWS_SHARED_CREDENTIALS_FILE || join(getHomeDir(), '.aws', 'credentials')),
  ].map(resolved);
  const present = files.filter((file) => existsSync(file));
  if (present.length > 0) throw new SharedConfigFilesNotBundledError(present);
  return { configFile: {}, credentialsFile: {} };
};
