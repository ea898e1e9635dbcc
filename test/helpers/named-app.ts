// A stand-in app with a name of the test's choosing: node started through a
// symlink, so the kernel's comm, argv[0] and the process title all carry
// that name while /proc/<pid>/exe still reads /usr/bin/node. It reports every
// signal it receives, can install its handler late, can run worker children
// under the same name (like an nginx master), and can be restarted.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { type Cleanup, killAndReap } from './child-process';
import { waitFor } from './wait-for';

// Runs as `<name> -e "$NAMED_APP_SCRIPT" -- SIGNAL HANDLER_DELAY_MS WORKERS ROLE`;
// workers are the same script started through the same symlink.
const APP_SCRIPT = `
const [signal, handlerDelay, workers, role] = process.argv.slice(1);
const report = (line) => process.stdout.write(line + ' pid=' + process.pid + ' role=' + role + ' t=' + process.hrtime.bigint() + '\\n');
const install = () => {
  process.on(signal, () => report('signal ' + signal));
  report('handler');
};
if (Number(handlerDelay) > 0) setTimeout(install, Number(handlerDelay)); else install();
const { spawn } = require('node:child_process');
for (let i = 0; i < Number(workers); i++) {
  spawn(process.argv0, ['-e', process.env.NAMED_APP_SCRIPT, '--', signal, '0', '0', 'worker'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
setInterval(() => {}, 1 << 30);
report('started');
`;

export interface AppEvent {
  readonly what: string;
  readonly pid: number;
  readonly role: string;
  /** CLOCK_MONOTONIC nanoseconds, comparable with process.hrtime.bigint() in the test. */
  readonly t: bigint;
}

export interface NamedAppOptions {
  readonly signal?: NodeJS.Signals;
  /** Install the handler this long after start (default 0: at once). */
  readonly handlerDelayMs?: number;
  /** Worker children started by the app under the same name. */
  readonly workers?: number;
  /** Prefix that execs the rest, e.g. setpriv to run as another uid. */
  readonly wrapper?: readonly string[];
}

export class NamedApp {
  readonly events: AppEvent[] = [];
  #child: ChildProcess | undefined;
  readonly #path: string;

  private constructor(readonly name: string, private readonly options: NamedAppOptions, dir: string) {
    this.#path = join(dir, name);
  }

  /** Starts the app and waits until it (and its workers) report "started". */
  static async start(cleanup: Cleanup, name: string, options: NamedAppOptions = {}): Promise<NamedApp> {
    const dir = mkdtempSync(join(tmpdir(), 'named-app-'));
    symlinkSync(process.execPath, join(dir, name));
    const app = new NamedApp(name, options, dir);
    cleanup.after(async () => {
      await app.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await app.#spawn();
    return app;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    return pid;
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get exitSignal(): NodeJS.Signals | null {
    return this.#child?.signalCode ?? null;
  }

  /** Signals received, optionally only by one role ('master' or 'worker'). */
  signals(role?: string): AppEvent[] {
    return this.events.filter((event) => event.what.startsWith('signal ') && (role === undefined || event.role === role));
  }

  async waitForSignals(count: number, role = 'master'): Promise<void> {
    await waitFor(() => `${count} signal(s) at ${this.name} ${role} (got ${this.signals(role).length})`, () => {
      if (!this.alive) throw new Error(`${this.name} died (${String(this.exitSignal)}) while waiting for a signal`);
      return this.signals(role).length >= count;
    }, { timeoutMs: 15_000 });
  }

  /** Kills the app (and with it its workers' parent) and starts it again under a new pid. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the whole group: workers too
      } catch {
        // already gone
      }
    }
    await killAndReap(child);
  }

  async #spawn(): Promise<void> {
    const { signal = 'SIGHUP', handlerDelayMs = 0, workers = 0, wrapper = [] } = this.options;
    const args = ['-e', APP_SCRIPT, '--', signal, String(handlerDelayMs), String(workers), 'master'];
    const command = [...wrapper, this.#path, ...args];
    const [file, ...rest] = command;
    const child = spawn(file ?? this.#path, rest, {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
      env: { ...process.env, NAMED_APP_SCRIPT: APP_SCRIPT },
    });
    this.#child = child;
    const stdout = child.stdout;
    if (stdout === null) throw new Error('app stdout is not piped');
    createInterface({ input: stdout }).on('line', (line) => {
      const match = /^(.*) pid=(\d+) role=(\w+) t=(\d+)$/.exec(line);
      if (match !== null) this.events.push({ what: match[1] ?? '', pid: Number(match[2]), role: match[3] ?? '', t: BigInt(match[4] ?? '0') });
    });
    await waitFor(`${this.name} to start with ${workers} worker(s)`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited at start`);
      const started = this.events.filter((event) => event.what === 'started' && (event.role === 'worker' || event.pid === child.pid));
      return started.length >= 1 + workers;
    });
  }
}
