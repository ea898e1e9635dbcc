// Podman from the container tests: the images scripts/container/ builds, a
// runner that always uses the test configuration, and containers that are
// removed when the test ends.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogLine } from '../test/helpers/sidecar-process';
import { waitFor } from '../test/helpers/wait-for';

export const REPO_ROOT = join(__dirname, '..', '..');

// The names scripts/container/lib.sh gives the images it builds.
export const IMAGES = {
  sidecar: process.env['SIDECAR_IMAGE'] ?? 'localhost/config-reloader:test',
  nginx: process.env['NGINX_IMAGE'] ?? 'localhost/config-reloader-test/nginx:bookworm',
  haproxy: process.env['HAPROXY_IMAGE'] ?? 'localhost/config-reloader-test/haproxy:bookworm',
  debian: process.env['DEBIAN_IMAGE'] ?? 'localhost/config-reloader-test/debian:bookworm-minbase',
} as const;

const ENV = { ...process.env, CONTAINERS_CONF: join(REPO_ROOT, 'scripts', 'container', 'containers.conf') };

export interface PodmanResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs podman to completion; never throws for a non-zero exit. */
export function podman(args: readonly string[]): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { env: ENV, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`podman ${args.join(' ')}: ${error.message}`));
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

/** Runs podman and returns its stdout, or throws with what it printed. */
export async function podmanOk(args: readonly string[]): Promise<string> {
  const result = await podman(args);
  if (result.code !== 0) {
    throw new Error(`podman ${args.join(' ')} exited ${result.code}\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Registers work to run when a test or suite ends: `(fn) => t.after(fn)`, or a suite's Deferred. */
export type Defer = (cleanup: () => Promise<void>) => void;

/** Cleanups for a suite: register `after(() => deferred.run())` when defining it, pass `deferred.add` on. */
export class Deferred {
  readonly #cleanups: (() => Promise<void>)[] = [];
  readonly add: Defer = (cleanup) => {
    this.#cleanups.push(cleanup);
  };

  async run(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
  }
}

let counter = 0;

/** A container name unique to this test process; the container is removed when `defer` says. */
export function containerName(defer: Defer, role: string): string {
  counter += 1;
  const name = `config-reloader-test-${process.pid}-${counter}-${role}`;
  defer(async () => {
    await podman(['rm', '--force', '--time', '0', name]);
  });
  return name;
}

/** The host pid of a running container's first process. */
export async function hostPid(name: string): Promise<number> {
  return Number((await podmanOk(['inspect', '--format', '{{.State.Pid}}', name])).trim());
}

export interface AppContainer {
  readonly name: string;
  /** Everything the app printed, stdout and stderr. */
  log(): Promise<string>;
}

export interface AppOptions {
  readonly image: string;
  readonly role: string;
  /** Host directory mounted read-only at `mountPath`, as a ConfigMap volume is. */
  readonly volume: string;
  readonly mountPath: string;
  /** Host network (so the test can fetch from 127.0.0.1), or none. */
  readonly hostNetwork: boolean;
  /** Printed by the app once it serves. */
  readonly ready: RegExp;
}

/** Starts an app container detached and waits until its log shows it ready. */
export async function startApp(defer: Defer, options: AppOptions): Promise<AppContainer> {
  const name = containerName(defer, options.role);
  await podmanOk([
    'run', '--detach', '--name', name, '--network', options.hostNetwork ? 'host' : 'none',
    '--volume', `${options.volume}:${options.mountPath}:ro`, options.image,
  ]);
  const log = async (): Promise<string> => {
    const result = await podman(['logs', name]);
    return result.stdout + result.stderr;
  };
  await waitFor(`${options.role} in ${name} to log ${String(options.ready)}`, async () => options.ready.test(await log()), {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  return { name, log };
}

/**
 * A container started attached, its stdout parsed as JSON log lines (the
 * sidecar's LOG_FORMAT=json), so a test can wait for a line.
 */
export class AttachedContainer {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];

  constructor(readonly name: string, runArgs: readonly string[]) {
    this.child = spawn('podman', ['run', '--rm', '--name', name, ...runArgs], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout, stderr } = this.child;
    if (stdout === null || stderr === null) throw new Error('podman stdio is not piped');
    createInterface({ input: stdout }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ level: 'raw', msg: line });
      }
    });
    createInterface({ input: stderr }).on('line', (line) => this.stderr.push(line));
  }

  messages(msg: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg);
  }

  /** Waits for a log line with this message, failing with the transcript if the container exits first. */
  async waitForMessage(msg: string, count = 1, timeoutMs = 20_000): Promise<void> {
    try {
      await waitFor(`${count} "${msg}" log line(s) from ${this.name}`, () => {
        if (this.messages(msg).length >= count) return true;
        if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}) before logging "${msg}"`);
        return false;
      }, { timeoutMs, intervalMs: 25 });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${this.transcript()}`);
    }
  }

  transcript(): string {
    return [...this.lines.map((line) => JSON.stringify(line)), ...this.stderr.map((line) => `stderr: ${line}`)].join('\n');
  }
}
