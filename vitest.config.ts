import { defineConfig } from 'vitest/config';
import { testEmulatorCount } from './test/support/workers.js';

/** One worker per emulator: each integration file resets only its own worker's (test/support/emulator.ts). */
const WORKERS = testEmulatorCount();

export default defineConfig({
  test: {
    testTimeout: 30_000,
    maxWorkers: WORKERS,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SLS_TELEMETRY_DISABLED: '1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
    projects: [
      {
        extends: true,
        // Pure tests: no emulator, no Python; `npm run test:unit` runs these alone.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // Each worker has its own emulator, which its files reset: as many files at once as emulators.
          fileParallelism: WORKERS > 1,
        },
      },
    ],
  },
});
