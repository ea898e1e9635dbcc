// Child processes for tests: every child is killed and reaped when its test
// ends, however the test ends, and finished commands report everything a
// failing assertion needs to explain itself.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

/** Where cleanup is registered: a node:test TestContext (t) or a suite's `after`. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). */
export function waitForExit(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Sends SIGKILL unless the child has exited, then waits until it is reaped. */
export async function killAndReap(child: ChildProcess): Promise<Exit> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  return waitForExit(child);
}

/**
 * spawn() whose child is killed and reaped when `cleanup` runs. Throws when
 * the command cannot be started, instead of leaving an 'error' event behind.
 */
export async function spawnTracked(
  cleanup: Cleanup,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<ChildProcess & { pid: number }> {
  const child = spawn(command, args, { stdio: 'ignore', ...options });
  cleanup.after(() => killAndReap(child));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const { pid } = child;
  if (pid === undefined) throw new Error(`${command} started without a pid`);
  return Object.assign(child, { pid });
}

export interface CommandResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion and collects its output; it is killed after `timeoutMs` (default 20 s). */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  const { timeoutMs = 20_000, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const exit = await new Promise<Exit>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    return { ...exit, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** "exit 1, stderr: ..." for assertion messages. */
export function describeResult(result: CommandResult): string {
  const how = result.signal === null ? `exit ${String(result.code)}` : `killed by ${result.signal}`;
  return `${how}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}
