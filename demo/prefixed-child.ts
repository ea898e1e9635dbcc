// A child process whose output lines are shown with a label as they arrive,
// so the demo's output interleaves the sidecar and the app in real order,
// and kept, so the demo can wait for a line and count them at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class PrefixedChild {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    show: (line: string) => void,
    tidy: (line: string) => string = (line) => line,
  ) {
    this.#child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        show(`${label.padEnd(8)}| ${tidy(line)}`);
        this.#notify();
      });
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('error', () => resolve({ code: null, signal: null }));
      this.#child.once('close', (code, signal) => {
        this.#notify();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  /** Resolves once `count` lines match, rejects if the child exits or `timeoutMs` passes first. */
  waitFor(pattern: RegExp, count = 1, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.count(pattern) >= count) finish();
        else if (!this.running) finish(new Error(`${this.label} exited while the demo waited for ${String(pattern)}`));
      };
      const timer = setTimeout(() => finish(new Error(`${this.label}: no line matching ${String(pattern)} within ${timeoutMs} ms`)), timeoutMs);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Sends `signal` (if still running) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<Exit> {
    if (this.running) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
