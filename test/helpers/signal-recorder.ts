// A real process that reports the signals it receives: a node child that
// installs handlers for the signals it is told to, prints "ready" once they
// are installed, and then one "signal <NAME>" line per delivery. Use it as
// the target of anything that sends signals, to prove what arrived.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { type ProcessInfo, readProcess } from '../../lib/proc';
import { type Cleanup, type Exit, killAndReap, waitForExit } from './child-process';
import { waitFor } from './wait-for';

// Handlers are installed synchronously by process.on (sigaction via libuv),
// so once "ready" is printed the kernel's SigCgt mask already shows them.
const RECORDER_SCRIPT = `
const names = process.argv.slice(1);
for (const name of names) process.on(name, () => process.stdout.write('signal ' + name + '\\n'));
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\\n');
`;

export interface SignalRecorderOptions {
  /** Signals to install handlers for, e.g. ['SIGHUP']; none leaves every signal at its default action. */
  readonly handle?: readonly NodeJS.Signals[];
  /** A command prefix that execs the rest, e.g. ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']. */
  readonly wrapper?: readonly string[];
}

export interface SignalRecorder {
  readonly pid: number;
  /** The recorder as Node holds it, to hand to APIs that take a ChildProcess. */
  readonly child: ChildProcess;
  /** Names of the signals received so far, in order of arrival. */
  readonly received: readonly string[];
  /** Resolves with the exit status once the recorder is gone (a signal without a handler kills it). */
  readonly exited: Promise<Exit>;
  /** Waits until `name` has arrived `count` times (default 1). */
  waitForSignal(name: string, count?: number): Promise<void>;
  /** Kills the recorder and waits until it is reaped. */
  stop(): Promise<Exit>;
}

/** Starts a recorder and resolves once its handlers are installed. It is killed when `cleanup` runs. */
export async function startSignalRecorder(cleanup: Cleanup, options: SignalRecorderOptions = {}): Promise<SignalRecorder> {
  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, '-e', RECORDER_SCRIPT, ...(options.handle ?? [])];
  const child = spawn(command ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.after(() => killAndReap(child));

  const received: string[] = [];
  let ready = false;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') ready = true;
    else if (line.startsWith('signal ')) received.push(line.slice('signal '.length));
  });
  const exited = waitForExit(child);
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;

  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await waitFor('the signal recorder to install its handlers', () => {
    if (gone()) throw new Error(`signal recorder exited before it was ready: ${stderr}`);
    return ready;
  });
  const { pid } = child;
  if (pid === undefined) throw new Error('signal recorder started without a pid');

  return {
    pid,
    child,
    received,
    exited,
    async waitForSignal(name: string, count = 1): Promise<void> {
            await waitFor(() => `${count} x ${name} at the recorder (pid ${pid}, received so far: ${received.join(', ') || 'nothing'})`, () => {
        if (received.filter((signal) => signal === name).length >= count) return true;
        if (gone()) throw new Error(`signal recorder exited (${String(child.signalCode ?? child.exitCode)}) while waiting for ${name}`);
        return false;
      });
    },
    stop: () => killAndReap(child),
  };
}

/**
 * Asserts that nothing but `expected` arrived: SIGUSR2, sent last, marks
 * that everything sent before it has been delivered. The recorder must
 * handle SIGUSR2.
 */
export async function assertReceivedOnly(recorder: SignalRecorder, expected: readonly string[]): Promise<void> {
  process.kill(recorder.pid, 'SIGUSR2');
  await recorder.waitForSignal('SIGUSR2');
  assert.deepEqual(recorder.received, [...expected, 'SIGUSR2']);
}

/** The process as /proc shows it now, to pass as a signalling target; fails the test when it is not running. */
export function targetOf(pid: number): ProcessInfo {
  const info = readProcess(pid);
  assert.ok(info !== undefined, `pid ${pid} is not running`);
  return info;
}
