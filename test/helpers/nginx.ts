// A real nginx (Debian's nginx-light) as the app container of a test Pod:
// master + N workers, joined to a PidNamespace, configured from a kubelet
// volume, serving on 127.0.0.1 so a test can see which configuration is live.
//
// The configuration it writes (everything under a private prefix directory,
// nothing under /etc, /var/log or /var/lib):
// - `error_log ... notice`: nginx then logs every signal with its sender and
//   its action ("reconfiguring" in the master, "ignoring" in a worker), the
//   witness of what a reloader did; see nginx-log.ts.
// - `include <volume>/*.conf` inside the server block: the volume's files are
//   locations, so a new configuration shows in responses only after a reload.
// - `location /volume/ { alias <volume>/; }`: the volume's files served as
//   files, read at request time: they change WITHOUT a reload.
// - `user root`: workers must read a volume under a 0700 temp dir.
// - every *_temp_path under the prefix, `access_log off`.
//
// nginx runs with `daemon off` so the master stays the process nsenter
// started; it is not pid 1 of the namespace (the pause process is), as in a
// Pod with shareProcessNamespace.
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hasCode } from '../../lib/errors';
import type { Cleanup } from './child-process';
import { freePort } from './free-port';
import { ignoredSighups, nginxSignals, parseNginxLog, reloads, type NginxLogEntry, type NginxSignal } from './nginx-log';
import type { NamespacedProcess, NamespaceMember, PidNamespace } from './pid-namespace';
import { waitFor } from './wait-for';

export interface NginxOptions {
  /** The Pod to run in. */
  readonly namespace: PidNamespace;
  /** The kubelet volume: its matching files are included into the server block, all served under /volume/. */
  readonly volumeDir: string;
  /** Globs relative to volumeDir included into the server block (default ['*.conf']; 'conf.d/*.conf' for nested keys). */
  readonly include?: readonly string[];
  /** worker_processes (default 2). */
  readonly workers?: number;
  /** Port on 127.0.0.1 (default: a free one, retried if taken meanwhile). */
  readonly port?: number;
  /** Registers stop() here. */
  readonly cleanup?: Cleanup;
  /** How long to wait for nginx to serve (default 10 s). */
  readonly startTimeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** A volume file making nginx answer `body` at `location`, e.g. `{ 'site.conf': { data: servedBodyConf('v2'), mode: 0o644 } }`. */
export function servedBodyConf(body: string, location = '/'): string {
  if (body.includes('$')) {
    throw new Error(`servedBodyConf: body ${JSON.stringify(body)} contains '$', which nginx would expand as a variable; use another character`);
  }
  const quoted = body.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  return `location ${location} {\n    return 200 "${quoted}";\n}\n`;
}

export interface NginxConfOptions {
  readonly prefix: string;
  readonly port: number;
  readonly workers: number;
  readonly volumeDir: string;
  readonly include: readonly string[];
}

/** The whole nginx.conf the harness runs. */
export function nginxConf(options: NginxConfOptions): string {
  const { prefix, volumeDir } = options;
  const temp = (name: string): string => join(prefix, 'temp', name);
  return [
    'user root;',
    `worker_processes ${options.workers};`,
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} notice;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    '  default_type text/plain;',
    `  client_body_temp_path ${temp('client_body')};`,
    `  proxy_temp_path ${temp('proxy')};`,
    `  fastcgi_temp_path ${temp('fastcgi')};`,
    `  uwsgi_temp_path ${temp('uwsgi')};`,
    `  scgi_temp_path ${temp('scgi')};`,
    '  server {',
    `    listen 127.0.0.1:${options.port};`,
    `    location /volume/ { alias ${volumeDir}/; }`,
    ...options.include.map((glob) => `    include ${join(volumeDir, glob)};`),
    '  }',
    '}',
    '',
  ].join('\n');
}

export class Nginx {
  #stopped = false;

  private constructor(
    readonly namespace: PidNamespace,
    readonly prefix: string,
    readonly port: number,
    readonly workerCount: number,
    /** The master: `hostPid` to signal it from the test, `nsPid` as the sidecar and the log see it. */
    readonly master: NamespacedProcess,
  ) {}

  /** Writes the configuration, starts nginx in the namespace, waits until it serves with all its workers. */
  static async start(options: NginxOptions): Promise<Nginx> {
    const workers = options.workers ?? 2;
    const prefix = await mkdtemp(join(tmpdir(), 'nginx-prefix-'));
    try {
      for (let attempt = 1; ; attempt++) {
        const port = options.port ?? (await freePort());
        const nginx = await Nginx.#launch(options, prefix, port, workers).catch(async (error: unknown) => {
          // Another process may take the free port between our check and nginx's bind.
          const taken = (await readIfExists(join(prefix, 'error.log'))).includes('Address already in use');
          if (taken && options.port === undefined && attempt < 5) return undefined;
          throw error;
        });
        if (nginx !== undefined) {
          options.cleanup?.after(() => nginx.stop());
          return nginx;
        }
      }
    } catch (error) {
      await rm(prefix, { recursive: true, force: true });
      throw error;
    }
  }

  static async #launch(options: NginxOptions, prefix: string, port: number, workers: number): Promise<Nginx> {
    const confPath = join(prefix, 'nginx.conf');
    const errorLog = join(prefix, 'error.log');
    await rm(errorLog, { force: true });
    // nginx creates each *_temp_path itself, but not its parent.
    await mkdir(join(prefix, 'temp'), { recursive: true });
    await writeFile(confPath, nginxConf({ prefix, port, workers, volumeDir: options.volumeDir, include: options.include ?? ['*.conf'] }));
    // -e: the error log before the configuration is read (Debian's default is stderr).
    const master = await options.namespace
      .spawn('nginx', ['-p', `${prefix}/`, '-c', confPath, '-e', errorLog, '-g', 'daemon off;'])
      .catch((error: unknown) => {
        const missing = messageOf(error).includes('failed to execute nginx');
        if (!missing) throw error;
        throw new Error(`${messageOf(error)}\ninstall nginx: bash scripts/ensure-debian-packages.sh nginx-light`, { cause: error });
      });
    const nginx = new Nginx(options.namespace, prefix, port, workers, master);
    try {
      await waitFor(`nginx to serve on 127.0.0.1:${port} with ${workers} workers`, async () => {
        if (!master.running) throw new Error(`nginx exited (${describe(await master.exited)})`);
        if (nginx.workers().length !== workers) return undefined;
        return (await nginx.get('/').catch(() => undefined)) !== undefined;
      }, { timeoutMs: options.startTimeoutMs ?? 10_000 });
    } catch (error) {
      master.kill('SIGKILL');
      await master.exited;
      throw new Error(`${messageOf(error)}\nerror log:\n${await readIfExists(errorLog)}${master.output.stderr}`, { cause: error });
    }
    return nginx;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get confPath(): string {
    return join(this.prefix, 'nginx.conf');
  }

  get errorLogPath(): string {
    return join(this.prefix, 'error.log');
  }

  /**
   * The master's live workers: `hostPid` and `nsPid` each. Workers of an
   * older generation still finishing requests ("worker process is shutting
   * down") and exited ones not yet reaped are left out.
   */
  workers(): NamespaceMember[] {
    return this.namespace
      .members()
      .filter((member) => member.hostPpid === this.master.hostPid && member.title === 'nginx: worker process');
  }

  /** The error log as text. */
  async log(): Promise<string> {
    return readIfExists(this.errorLogPath);
  }

  async entries(): Promise<NginxLogEntry[]> {
    return parseNginxLog(await this.log());
  }

  /** Every "signal N (SIGX) received" line, master and workers. */
  async signals(): Promise<NginxSignal[]> {
    return nginxSignals(await this.entries());
  }

  /** The SIGHUPs the master reconfigured on: one per reload. `from` is the sender's nsPid, undefined from the host. */
  async reloads(): Promise<NginxSignal[]> {
    return reloads(await this.signals());
  }

  /** SIGHUPs a worker received and ignored. */
  async ignoredSighups(): Promise<NginxSignal[]> {
    return ignoredSighups(await this.signals());
  }

  /** Waits until the master has logged at least `count` reloads; returns them. */
  async waitForReloads(count: number, options: { readonly timeoutMs?: number } = {}): Promise<NginxSignal[]> {
    return this.#withLog(
      waitFor(`${count} nginx reload(s)`, async () => {
        const seen = await this.reloads();
        return seen.length >= count ? seen : undefined;
      }, { timeoutMs: options.timeoutMs ?? 10_000 }),
    );
  }

  /** One GET on a fresh connection (so no keep-alive pins it to an old worker). Rejects when nothing answers. */
  get(path = '/'): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${this.url}${path} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Waits until GET `path` answers 200 with exactly `body`; the timeout error shows the last answer and the log. */
  async waitForBody(body: string, options: { readonly path?: string; readonly timeoutMs?: number } = {}): Promise<HttpResponse> {
    const path = options.path ?? '/';
    let last = 'no answer yet';
    return this.#withLog(
      waitFor(`GET ${path} to answer ${JSON.stringify(body)}`, async () => {
        const response = await this.get(path).catch((error: unknown) => {
          last = String(error);
          return undefined;
        });
        if (response !== undefined) last = `${response.status} ${JSON.stringify(response.body)}`;
        return response?.status === 200 && response.body === body ? response : undefined;
      }, { timeoutMs: options.timeoutMs ?? 10_000 }),
      () => `last answer: ${last}`,
    );
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Fast shutdown (SIGTERM to the master, which stops its workers first),
   * then removes the prefix directory. Safe after the namespace is gone.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.master.kill('SIGTERM');
    await this.master.exited;
    await waitFor('the nginx workers to exit', () => (this.namespace.stopped || this.workers().length === 0 ? true : undefined));
    await rm(this.prefix, { recursive: true, force: true });
  }

  async #withLog<T>(waiting: Promise<T>, detail?: () => string): Promise<T> {
    try {
      return await waiting;
    } catch (error) {
      const extra = detail === undefined ? '' : `\n${detail()}`;
      throw new Error(`${messageOf(error)}${extra}\nnginx error log:\n${await this.log()}`, { cause: error });
    }
  }
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return '';
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal === null ? `exit ${String(exit.code)}` : `killed by ${exit.signal}`;
}
