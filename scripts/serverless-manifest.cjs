/**
 * serverless.yml's ${file(./scripts/serverless-manifest.cjs):...} source: the manifest computed from the registry
 * (scripts/serverless-manifest.ts) at variable resolution, so that no build product is read.
 */
const { loadTypeScript } = require('./load-typescript.cjs');

// serverless calls this once per reference: the registry is loaded once, and the manifest computed once it can be
// (an early pass, before the stage is known, rejects and is asked again).
let resolveManifest;
let manifest;

module.exports = (context) => {
  resolveManifest ??= loadTypeScript('serverless-manifest.ts').default;
  manifest ??= resolveManifest(context).catch((error) => {
    manifest = undefined;
    throw error;
  });
  return manifest;
};
