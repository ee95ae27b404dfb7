/**
 * Stands in for @smithy/core/event-streams in the Lambda bundles (an esbuild plugin in scripts/bundle-plugins.ts):
 * no function sends an event-stream operation (CloudWatch Logs StartLiveTail, S3 SelectObjectContent), so the codec,
 * its marshallers and their checksum need not be bundled. The clients still build their config with it; sending such
 * an operation throws EventStreamsNotBundledError instead of misbehaving.
 */
import type { EventStreamMarshaller, EventStreamSerdeProvider } from '@smithy/types';

export class EventStreamsNotBundledError extends Error {
  constructor() {
    super('event streams are not bundled in driftguard functions (lib/no-event-streams.ts): no rule may send one');
    this.name = 'EventStreamsNotBundledError';
  }
}

const notBundled = (): never => {
  throw new EventStreamsNotBundledError();
};

/** The clients' config resolver, as the original: the marshaller comes from the configured provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: EventStreamSerdeProvider }>(
  input: T,
): T & { eventStreamMarshaller: EventStreamMarshaller } =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** Called when a client is built (so it must not throw then); its marshaller throws when a stream is (de)serialised. */
export const eventStreamSerdeProvider: EventStreamSerdeProvider = () => ({
  serialize: notBundled,
  deserialize: notBundled,
});

/** What a protocol builds on an event-stream operation (HttpProtocol.loadEventStreamCapability). */
export class EventStreamSerde {
  constructor() {
    notBundled();
  }
}
