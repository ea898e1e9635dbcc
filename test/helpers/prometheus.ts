// A real Prometheus (Debian's `prometheus` package) as the app to reload: it
// reloads on POST /-/reload (with --web.enable-lifecycle) and on SIGHUP,
// answers 500 to a configuration it rejects and keeps the one it has, and
// says what it did in its own log and its API. It is the oracle of the
// end-to-end tests: one "Completed loading of configuration file" line per
// configuration it loaded, and /api/v1/status/config for which one.
//
// It runs through a symlink with a name of the caller's choosing, so that a
// PROCESS_NAME can find this one among other prometheus processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { type Cleanup, killAndReap } from './child-process';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
const LOADED = 'Completed loading of configuration file';
const REJECTED = 'Error reloading config';

export interface PrometheusOptions {
  /** Its --config.file. */
  readonly configFile: string;
  /** The name it runs under (comm), at most 15 characters. */
  readonly name: string;
}

export class Prometheus {
  readonly log: string[] = [];

  private constructor(readonly child: ChildProcess, readonly name: string, readonly port: number) {}

  static async start(cleanup: Cleanup, options: PrometheusOptions): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
    const binary = join(dir, options.name);
    symlinkSync(PROMETHEUS_BINARY, binary);
    const port = await freePort();
    const child = spawn(binary, [
      '--web.enable-lifecycle',
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    cleanup.after(() => killAndReap(child));
    const prometheus = new Prometheus(child, options.name, port);
    if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', (line) => prometheus.log.push(line));
    await waitFor(() => `prometheus to be ready on port ${port}\n${prometheus.log.join('\n')}`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited at start:\n${prometheus.log.join('\n')}`);
      return prometheus.log.some((line) => line.includes('Server is ready to receive web requests.'));
    });
    return prometheus;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('prometheus has no pid');
    return this.child.pid;
  }

  get reloadUrl(): string {
    return `http://127.0.0.1:${this.port}/-/reload`;
  }

  /** Configurations loaded so far, the one at start-up included. */
  loads(): number {
    return this.log.filter((line) => line.includes(LOADED)).length;
  }

  /** Reloads it refused (an invalid file), keeping its configuration. */
  rejections(): string[] {
    return this.log.filter((line) => line.includes(REJECTED));
  }

  async waitForLoads(count: number): Promise<void> {
    await waitFor(() => `${count} configuration loads by prometheus (got ${this.loads()})\n${this.log.slice(-5).join('\n')}`, () => this.loads() >= count);
  }

  /** The configuration it runs with now, as its API gives it (YAML, normalized by Prometheus). */
  async config(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}/api/v1/status/config`);
    const body = (await response.json()) as { status: string; data: { yaml: string } };
    if (body.status !== 'success') throw new Error(`status/config: ${JSON.stringify(body)}`);
    return body.data.yaml;
  }
}
