/** One embedded emulator for the whole test run; each integration file resets it (or uses DRIFTGUARD_TEST_ENDPOINT). */
import { startEmulator } from '../scripts/emulator/launcher.js';

export default async function setup() {
  if (process.env.DRIFTGUARD_TEST_ENDPOINT) return undefined;
  const emulator = await startEmulator();
  process.env.DRIFTGUARD_TEST_ENDPOINT = emulator.url;
  return async () => {
    await emulator.stop();
  };
}
