// Targets that take a signal without installing a handler: the C program
// signal-reader.c in each of its modes, and the init shims tini and
// dumb-init from Debian running a child that reports the signals forwarded
// to it. Each runs under a name of the test's choosing (through a symlink,
// so comm and argv[0] carry it), reports "ready" once set up, and reports
// what it receives on stdout.
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { buildHelper } from './c-program';
import { type Cleanup, killAndReap, waitForExit } from './child-process';
import { waitFor } from './wait-for';

export type ReaderMode =
  | 'sigtimedwait' | 'sigwait' | 'signalfd' | 'blocked' | 'unblocked-wait' | 'threaded-open' | 'threaded-wait' | 'late';

export interface RunningReader {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every line it printed so far. */
  readonly lines: readonly string[];
  readonly alive: boolean;
  /** Waits until it printed `line` (`count` times), failing at once if it dies. */
  waitForLine(line: string, count?: number): Promise<void>;
}

/** Builds signal-reader.c; the binary is removed when `cleanup` runs. */
export function buildSignalReader(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'signal-reader', ['-pthread']);
}

/**
 * Runs `program ...args` through a symlink called `name` in a directory any
 * uid may enter, behind `wrapper` (setpriv, say), and waits until it prints
 * `ready` (a line starting with it).
 */
export async function startNamed(
  cleanup: Cleanup,
  name: string,
  program: string,
  args: readonly string[],
  wrapper: readonly string[] = [],
): Promise<RunningReader> {
  const dir = mkdtempSync(join(tmpdir(), 'signal-reader-'));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const path = join(dir, name);
  symlinkSync(program, path);
  const [command = path, ...rest] = [...wrapper, path, ...args];
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'ignore'] });
  // SIGTERM first: an init shim passes it on to its child and exits with
  // it, where SIGKILL would leave the child running.
  cleanup.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([waitForExit(child), sleep(2000)]);
    await killAndReap(child);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const { pid } = child;
  if (pid === undefined) throw new Error(`${name} started without a pid`);
  const lines: string[] = [];
  const stdout = child.stdout;
  if (stdout === null) throw new Error('stdout is not piped');
  createInterface({ input: stdout }).on('line', (line) => lines.push(line));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const reader: RunningReader = {
    pid,
    child,
    lines,
    get alive() {
      return alive();
    },
    async waitForLine(line: string, count = 1): Promise<void> {
      await waitFor(() => `${count} x "${line}" from ${name} (got ${JSON.stringify(lines)})`, () => {
        if (lines.filter((seen) => seen === line || seen.startsWith(`${line} `)).length >= count) return true;
        if (!alive()) throw new Error(`${name} exited (${String(child.signalCode ?? child.exitCode)}); it printed ${JSON.stringify(lines)}`);
        return false;
      }, { timeoutMs: 15_000 });
    },
  };
  await reader.waitForLine('ready');
  return reader;
}

/** signal-reader in `mode` for `signals` (numbers), under `name`. */
export async function startSignalReader(
  cleanup: Cleanup,
  name: string,
  mode: ReaderMode,
  signals: readonly number[],
  wrapper: readonly string[] = [],
): Promise<RunningReader> {
  return startNamed(cleanup, name, await buildSignalReader(cleanup), [mode, ...signals.map(String)], wrapper);
}

// The child of an init shim: reports each SIGHUP forwarded to it.
const CHILD_SCRIPT = 'trap "echo hup" HUP; echo ready; while :; do sleep 0.05; done';

/** An init shim (`tini` or `dumb-init` from Debian) under `name`, running a shell that reports each SIGHUP as `hup`. */
export function startInitShim(cleanup: Cleanup, shim: 'tini' | 'dumb-init', name: string, wrapper: readonly string[] = []): Promise<RunningReader> {
  const args = shim === 'tini' ? ['--', 'sh', '-c', CHILD_SCRIPT] : ['sh', '-c', CHILD_SCRIPT];
  return startNamed(cleanup, name, `/usr/bin/${shim}`, args, wrapper);
}
