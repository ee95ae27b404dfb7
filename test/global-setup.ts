/**
 * The embedded emulators for the whole test run: one per test worker (DRIFTGUARD_TEST_EMULATORS, default 2), so that
 * integration files run side by side, each resetting only its own worker's emulator (test/support/emulator.ts picks
 * it). A DRIFTGUARD_TEST_ENDPOINT set beforehand is used alone, and the files then run one at a time.
 */
import { startEmulator } from '../scripts/emulator/launcher.js';
import { testEmulatorCount } from './support/workers.js';

export default async function setup() {
  if (process.env.DRIFTGUARD_TEST_ENDPOINT) return undefined;
  const emulators = await Promise.all(Array.from({ length: testEmulatorCount() }, () => startEmulator()));
  process.env.DRIFTGUARD_TEST_ENDPOINTS = emulators.map((emulator) => emulator.url).join(',');
  return async () => {
    await Promise.all(emulators.map((emulator) => emulator.stop()));
  };
}
