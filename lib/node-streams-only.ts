/**
 * Stands in for the SDK's web-stream body mixin (@smithy/core's sdk-stream-mixin.browser) in the Lambda bundles (an
 * esbuild plugin in scripts/bundle-plugins.ts). The node mixin hands a body that is not a node Readable to it, for
 * runtimes whose HTTP handler gives web ReadableStreams or Blobs; the functions' node HTTP handler always gives node
 * streams. A body that is not one is refused, with the error the node mixin gives for an unknown stream.
 */
export class WebStreamsNotBundledError extends Error {
  constructor() {
    super('web stream bodies are not bundled in driftguard functions (lib/node-streams-only.ts)');
    this.name = 'WebStreamsNotBundledError';
  }
}

export const sdkStreamMixin = (_stream: unknown): never => {
  throw new WebStreamsNotBundledError();
};
