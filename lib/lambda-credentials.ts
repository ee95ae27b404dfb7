/**
 * Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (an esbuild alias in scripts/build.ts):
 * Lambda hands its role's credentials over in environment variables, so the SSO, INI, process and web-identity
 * providers (and their nested STS/SSO clients) need not be bundled. Local runs keep the full default chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = () => fromEnv();
