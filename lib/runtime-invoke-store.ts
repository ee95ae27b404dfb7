/**
 * Stands in for @aws/lambda-invoke-store in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts). The
 * SDK reads it in one place, its recursion-detection middleware: the invocation's X-Ray trace id and trace context
 * (traceparent, tracestate, baggage), for the headers of each call. The Lambda runtime keeps its store on
 * globalThis.awslambda.InvokeStore, and the package hands that one out when it is there; where it is not (an older
 * runtime, a local run), the package makes a store of its own that no invocation ever runs in, so every read is
 * empty; AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA (true or 1) makes it ignore the runtime's. This gives the same store,
 * or one whose reads are empty: the same answers, without the package's two store classes (~2.2 KB of each minified
 * bundle). It registers nothing on globalThis; the bundles' logger reads the runtime's store the same way
 * (lib/lambda-logger.ts).
 */

/** What the SDK reads of a store. */
export interface InvokeStoreReads {
  getRequestId(): string;
  getXRayTraceId(): string | undefined;
  getTenantId(): string | undefined;
  getTraceparent?(): string | undefined;
  getTracestate?(): string | undefined;
  getBaggage?(): string | undefined;
}

const EMPTY: InvokeStoreReads = {
  getRequestId: () => '-',
  getXRayTraceId: () => undefined,
  getTenantId: () => undefined,
  getTraceparent: () => undefined,
  getTracestate: () => undefined,
  getBaggage: () => undefined,
};

export const InvokeStore = {
  async getInstanceAsync(): Promise<InvokeStoreReads> {
    if (['true', '1'].includes(process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA ?? '')) return EMPTY;
    return (globalThis as { awslambda?: { InvokeStore?: InvokeStoreReads } }).awslambda?.InvokeStore ?? EMPTY;
  },
};
