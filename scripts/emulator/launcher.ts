import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { emulatorCredentials } from './client.js';

/** moto's server mode always answers as this account. */
export const EMULATOR_ACCOUNT_ID = '123456789012';

export const EMULATOR_REGION = 'us-east-1';

/** The pip command that makes the emulator available. */
export const MOTO_INSTALL_COMMAND = "pip install 'moto[server]'";

const SERVER_SCRIPT = fileURLToPath(new URL('./driftguard_moto.py', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

const execFileAsync = promisify(execFile);

export interface EmulatorOptions {
  port?: number;
  host?: string;
}

export interface RunningEmulator {
  url: string;
  port: number;
  pid: number;
  /** moto's version, as the server reported it. */
  motoVersion: string;
  stop(): Promise<void>;
}

/** Python or moto is missing on this machine. */
export class EmulatorUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message}: run ${MOTO_INSTALL_COMMAND}`, options);
    this.name = 'EmulatorUnavailableError';
  }
}

/** The emulator process started but did not serve, or died. */
export class EmulatorStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorStartError';
  }
}

export interface PythonWithMoto {
  /** The interpreter itself, not a pyenv shim, so the pid we hold is the server's. */
  executable: string;
  motoVersion: string;
}

/** Finds the real python interpreter (DRIFTGUARD_PYTHON, else python3, else python) and checks that moto's server
 * mode imports. */
export async function findPythonWithMoto(): Promise<PythonWithMoto> {
  const probe = 'import sys, moto, moto.server; print(sys.executable); print(moto.__version__)';
  const override = process.env.DRIFTGUARD_PYTHON;
  const candidates = override ? [override] : ['python3', 'python'];
  const errors: unknown[] = [];
  for (const candidate of candidates) {
    try {
      const { stdout } = await execFileAsync(candidate, ['-c', probe], { timeout: READY_TIMEOUT_MS });
      const [executable, motoVersion] = stdout.trim().split('\n');
      if (executable && motoVersion) return { executable, motoVersion };
    } catch (error) {
      errors.push(error);
    }
  }
  throw new EmulatorUnavailableError(
    `moto is not installed (${candidates.join(' or ')} could not import moto.server)`,
    {
      cause: new AggregateError(errors),
    },
  );
}

/** Binds the port (0: any free one) for a moment and returns the port the OS gave. */
function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolve(bound) : reject(new Error('the OS gave no port'))));
    });
  });
}

/** Asks the OS for a free loopback port. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return probePort(host, 0);
}

/** A port taken by another server would answer our readiness probe, so a requested port must be free first. */
async function ensurePortFree(host: string, port: number): Promise<number> {
  try {
    return await probePort(host, port);
  } catch (error) {
    throw new EmulatorStartError(`port ${port} on ${host} is not free`, { cause: error });
  }
}

/** Starts the patched moto server and resolves once it answers HTTP. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const { executable, motoVersion } = await findPythonWithMoto();
  const port = opts.port === undefined ? await findFreePort(host) : await ensurePortFree(host, opts.port);
  const url = `http://${host}:${port}`;
  const args = [SERVER_SCRIPT, '--host', host, '--port', String(port), '--parent-pid', String(process.pid)];
  const child = spawn(executable, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Lambda Invoke runs Node.js functions with this node (scripts/emulator/lambda_patches.py).
    env: { ...process.env, DRIFTGUARD_EMULATOR_NODE: process.env.DRIFTGUARD_EMULATOR_NODE ?? process.execPath },
  });
  const stderr = collectTail(child);
  const removeExitHook = killOnParentExit(child);
  try {
    await waitUntilServing(url, child, stderr);
  } catch (error) {
    await stopChild(child);
    removeExitHook();
    throw error;
  }
  if (child.pid === undefined) throw new EmulatorStartError('the emulator process has no pid');
  return {
    url,
    port,
    pid: child.pid,
    motoVersion,
    stop: async () => {
      await stopChild(child);
      removeExitHook();
    },
  };
}

/** Clears all of moto's state (every service, every region). */
export async function resetEmulator(url: string): Promise<void> {
  const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new EmulatorStartError(`resetting the emulator at ${url} answered ${response.status}`);
}

/** Environment for SDK clients and child processes that should talk to the emulator. */
export function emulatorEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: emulatorCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulatorCredentials.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
  };
}

interface StderrTail {
  text(): string;
}

function collectTail(child: ChildProcess): StderrTail {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  return { text: () => tail.trim() };
}

async function waitUntilServing(url: string, child: ChildProcess, stderr: StderrTail): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const status = child.exitCode ?? child.signalCode;
      throw new EmulatorStartError(`the emulator exited (${status}) before serving:\n${stderr.text()}`);
    }
    if (await answersHttp(url)) return;
    await sleep(READY_POLL_MS);
  }
  throw new EmulatorStartError(
    `the emulator did not answer at ${url} within ${READY_TIMEOUT_MS} ms:\n${stderr.text()}`,
  );
}

async function answersHttp(url: string): Promise<boolean> {
  try {
    // Any answer (moto's dashboard data, or a 4xx) means the server is up; only a refused connection means not yet.
    const response = await fetch(`${url}/moto-api/config`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** A parent that exits (normally or through process.exit) takes the python child with it. */
function killOnParentExit(child: ChildProcess): () => void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  return () => process.removeListener('exit', kill);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The AWS requests the emulator served since its start or the last reset, by "service:Operation" (request_counter.py). */
export interface EmulatorRequests {
  total: number;
  calls: Record<string, number>;
}

export async function emulatorRequests(url: string): Promise<EmulatorRequests> {
  const response = await fetch(`${url}/driftguard-api/requests`);
  if (!response.ok) throw new EmulatorStartError(`the emulator at ${url} answered ${response.status} for its requests`);
  return (await response.json()) as EmulatorRequests;
}

export async function resetEmulatorRequests(url: string): Promise<void> {
  const response = await fetch(`${url}/driftguard-api/requests/reset`, { method: 'POST' });
  if (!response.ok) throw new EmulatorStartError(`resetting the emulator's request count answered ${response.status}`);
}
