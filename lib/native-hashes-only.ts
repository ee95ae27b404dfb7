/**
 * Stands in for the SDK's pure-JavaScript SHA-256 and SHA-1 in the Lambda bundles (an esbuild plugin in
 * scripts/bundle-plugins.ts). The SDK's Sha256Node and Sha1Node use node:crypto and fall back to these only when
 * node:crypto cannot hash at all, which Lambda's Node.js always can. Should that ever happen, hashing throws
 * NativeHashUnavailableError instead of silently running another implementation.
 */
export class NativeHashUnavailableError extends Error {
  constructor(algorithm: string) {
    super(`node:crypto cannot compute ${algorithm} here, and driftguard's bundles carry no JavaScript fallback`);
    this.name = 'NativeHashUnavailableError';
  }
}

export class Sha256Js {
  constructor() {
    throw new NativeHashUnavailableError('SHA-256');
  }
}

export class Sha1Js {
  constructor() {
    throw new NativeHashUnavailableError('SHA-1');
  }
}
