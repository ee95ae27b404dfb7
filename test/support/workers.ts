/** How many test workers (and emulators) a run uses: read by vitest.config.ts and test/global-setup.ts alike. */
export function testEmulatorCount(env: NodeJS.ProcessEnv = process.env): number {
  // An endpoint of the user's own is one emulator: the files share it and so run one at a time.
  if (env.DRIFTGUARD_TEST_ENDPOINT) return 1;
  const text = env.DRIFTGUARD_TEST_EMULATORS ?? '2';
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 8) {
    throw new Error(`DRIFTGUARD_TEST_EMULATORS="${text}" is invalid: values are a whole number from 1 to 8`);
  }
  return count;
}
