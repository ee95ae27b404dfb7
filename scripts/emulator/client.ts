/** How an SDK client talks to the emulator: its endpoint, a region, and the placeholder keys moto accepts. */

/** moto accepts any keys; these are the ones every script and test uses. */
export const emulatorCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function emulatorClientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: emulatorCredentials };
}
