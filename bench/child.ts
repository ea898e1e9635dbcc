// A child process seen as lines of output, for programs that announce their
// state ("ready", "signal <ns>") on stdout or stderr.
//
// Every child is started in its own process group so that a pipeline (the
// inotifywait | while-read baseline) stops as a whole, and every group still
// alive when the bench exits is killed: no stray watchers on a shared machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

type LineListener = (line: string, stream: 'stdout' | 'stderr') => void;

const liveGroups = new Set<number>();
function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}
process.on('exit', killLiveGroups);
// Interrupted runs clean up too: 'exit' does not run on a fatal signal.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killLiveGroups();
    process.kill(process.pid, signal);
  });
}

export class Child {
  readonly process: ChildProcess;
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  #exitCode: number | null | undefined;
  readonly #listeners = new Set<LineListener>();

  constructor(readonly label: string, command: string, args: readonly string[], options: ChildOptions = {}) {
    this.process = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = this.process.pid;
    if (pid !== undefined) liveGroups.add(pid);
    this.exited = new Promise((resolve) => {
      this.process.on('error', (error) => {
        this.output.push(`spawn error: ${error.message}`);
        this.#exitCode = null;
        resolve(null);
      });
      this.process.on('exit', (code, signal) => {
        if (pid !== undefined) liveGroups.delete(pid);
        this.#exitCode = code;
        if (signal !== null) this.output.push(`killed by ${signal}`);
        resolve(code);
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.process[stream];
      if (source === null) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
        this.output.push(line);
        for (const listener of this.#listeners) listener(line, stream);
      });
    }
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error(`${this.label} did not start: ${this.output.join('\n')}`);
    return this.process.pid;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first line (already seen or yet to come) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.output.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, line?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopListening();
        if (error !== undefined) reject(error);
        else resolve(line ?? '');
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.label}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.tail()}`)),
        timeoutMs,
      );
      const stopListening = this.onLine((line) => {
        if (pattern.test(line)) finish(undefined, line);
      });
      void this.exited.then((code) => {
        finish(new Error(`${this.label} exited (code ${String(code)}) before printing ${pattern}; output:\n${this.tail()}`));
      });
    });
  }

  /** SIGTERM to the whole group, SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running || this.process.pid === undefined) return;
    const pgid = this.process.pid;
    signalGroup(pgid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // The leader may exit before the rest of a pipeline does.
    signalGroup(pgid, 'SIGKILL');
  }

  tail(lines = 20): string {
    return this.output.slice(-lines).join('\n');
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}
