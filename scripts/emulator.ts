// npm run emulator -- [--port P] [--host H] [--provision]: runs driftguard's embedded AWS emulator in the foreground.
import { parseArgs } from 'node:util';
import {
  EMULATOR_ACCOUNT_ID,
  EMULATOR_REGION,
  EmulatorStartError,
  EmulatorUnavailableError,
  type RunningEmulator,
  startEmulator,
} from './emulator/launcher.js';

const EXIT_USAGE = 2;
const EXIT_MOTO_MISSING = 3;
const USAGE = 'usage: npm run emulator -- [--port P] [--host 127.0.0.1] [--provision]';

/** The command line did not parse. */
export class EmulatorUsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorUsageError';
  }
}

interface EmulatorCliOptions {
  port?: number;
  host: string;
  provision: boolean;
}

export function parseEmulatorArgs(argv: string[]): EmulatorCliOptions {
  let values: { port?: string; host?: string; provision?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, provision: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new EmulatorUsageError(`${(error as Error).message} (${USAGE})`, { cause: error });
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65_536)) {
    throw new EmulatorUsageError(`--port must be a TCP port number, got '${values.port}' (${USAGE})`);
  }
  return { port, host: values.host ?? '127.0.0.1', provision: values.provision ?? false };
}

async function provision(url: string): Promise<void> {
  // Loaded only on request so the emulator runs even while the engine's provisioning code does not build.
  const { provisionEngineResources } = await import('./provision.js');
  const settings = await provisionEngineResources({ endpoint: url, region: EMULATOR_REGION });
  for (const [name, value] of Object.entries(settings)) console.log(`${name}=${value}`);
}

function stopOnSignals(emulator: RunningEmulator): void {
  const shutdown = async () => {
    await emulator.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function main(): Promise<void> {
  const options = parseEmulatorArgs(process.argv.slice(2));
  const emulator = await startEmulator({ port: options.port, host: options.host });
  stopOnSignals(emulator);
  if (options.provision) {
    await provision(emulator.url).catch(async (error: unknown) => {
      await emulator.stop();
      throw error;
    });
  }
  console.log(
    `driftguard emulator ready at ${emulator.url} (moto ${emulator.motoVersion}, account ${EMULATOR_ACCOUNT_ID})`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof EmulatorUsageError) {
    console.error(error.message);
    process.exit(EXIT_USAGE);
  }
  if (error instanceof EmulatorUnavailableError) {
    console.error(error.message);
    process.exit(EXIT_MOTO_MISSING);
  }
  // A start failure explains itself (with the server's stderr); anything else keeps its stack.
  console.error(error instanceof EmulatorStartError ? error.message : error);
  process.exit(1);
});
