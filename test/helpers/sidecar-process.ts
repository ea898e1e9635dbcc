// Runs the real `config-reloader` command as a child process with JSON logs,
// so tests can wait for and assert on its log lines.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

import { freshCliBundle } from './cli-bundle';

/** The command as it ships: dist/bin/config-reloader.js, rebuilt first if dist/lib is newer. */
export const CLI = freshCliBundle();

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface SidecarOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** Node's and V8's own options, before the script (e.g. ['--trace-gc']); their output joins the log as raw lines. */
  readonly nodeArgs?: readonly string[];
  /** Prefix the command (e.g. ['unshare', '--pid', ...] or ['setpriv', ...]). */
  readonly wrapper?: readonly string[];
  /** Another copy of the CLI, e.g. one a different uid can read (see package-copy.ts). */
  readonly cli?: string;
  readonly spawnOptions?: SpawnOptions;
}

export class SidecarProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(options: SidecarOptions = {}) {
    const command = [...(options.wrapper ?? []), process.execPath, ...(options.nodeArgs ?? []), options.cli ?? CLI, ...(options.args ?? [])];
    const [file, ...args] = command;
    this.child = spawn(file ?? process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LOG_FORMAT: 'json', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options.spawnOptions,
    });
    const out = this.child.stdout;
    const err = this.child.stderr;
    if (out === null || err === null) throw new Error('sidecar stdio is not piped');
    createInterface({ input: out }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ level: 'raw', msg: line });
      }
      this.#notify();
    });
    createInterface({ input: err }).on('line', (line) => {
      this.stderr.push(line);
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#notify();
        resolve({ code, signal });
      });
    });
  }

  /** Log lines with this message. */
  messages(msg: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg);
  }

  /** Waits until `predicate` holds over the log, or fails with the log so far. */
  async waitFor(description: string, predicate: (lines: readonly LogLine[]) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.lines)) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.lines)) {
          cleanup();
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          cleanup();
          reject(new Error(`sidecar exited while waiting for ${description}\n${this.transcript()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${description}\n${this.transcript()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  waitForMessage(msg: string, count = 1, timeoutMs?: number): Promise<void> {
    return this.waitFor(`${count} x "${msg}"`, () => this.messages(msg).length >= count, timeoutMs);
  }

  /** Stops the sidecar with SIGTERM and waits for it to exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  transcript(): string {
    return [...this.lines.map((line) => JSON.stringify(line)), ...this.stderr.map((line) => `stderr: ${line}`)].join('\n');
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
