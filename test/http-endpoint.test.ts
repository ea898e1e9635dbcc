// The optional HTTP endpoint, scraped with a real HTTP client (fetch): health,
// readiness, and Prometheus metrics that follow what the reload loop does;
// the metrics stack is loaded only when the endpoint is on; an address that cannot
// be used stops the start in one line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { fingerprintSync } from '../lib/fingerprint';
import { MAX_CONNECTIONS, startHttpEndpoint } from '../lib/sidecar/http-server';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { describeResult, runCommand } from './helpers/child-process';
import { freePort } from './helpers/free-port';
import { NamedApp } from './helpers/named-app';
import { CLI, SidecarProcess } from './helpers/sidecar-process';
import { scrape } from './helpers/metrics-scrape';
import { waitFor } from './helpers/wait-for';

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the endpoint answers /healthz, /readyz by readiness, /metrics, and refuses other paths and methods', async (t) => {
  let ready = false;
  const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: await freePort() }, {
    isReady: () => ready,
    renderMetrics: async () => 'demo_metric 1\n',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
  });
  t.after(() => endpoint.close());
  const base = `http://${endpoint.address}`;

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');

  const notReady = await fetch(`${base}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match(await notReady.text(), /^not ready/);
  ready = true;
  const nowReady = await fetch(`${base}/readyz`);
  assert.equal(nowReady.status, 200);
  await nowReady.text();

  const metrics = await fetch(`${base}/metrics`);
  assert.equal(await metrics.text(), 'demo_metric 1\n');

  const missing = await fetch(`${base}/`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /\/healthz, \/readyz and \/metrics/);
  const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  await post.text();
  const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('metrics follow the reload loop: reloads by result, changes, skips, target not found, watches, fingerprint', async (t) => {
  const dir = join(tempDir(t, 'http-endpoint-'), 'config');
  mkdirSync(dir);
  const writer = new AtomicWriter(dir);
  writer.writeSync(configMapPayload({ 'app.conf': 'v1\n' }));
  const name = `metrics-app-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const port = await freePort();
  const keyFile = join(dirname(dir), 'fingerprint.key');
  writeFileSync(keyFile, 'metrics-test-key');
  const key = { key: 'metrics-test-key' };
  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: dir, PROCESS_NAME: name, METRICS_ADDR: `127.0.0.1:${port}`, FINGERPRINT_KEY_FILE: keyFile },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const base = `http://127.0.0.1:${port}`;

  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200, 'ready once the volume is watched');
  await ready.text();
  let samples = await scrape(base);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 0);
  assert.equal(samples.get('config_reloader_reloads_total{result="failure"}'), 0);
  assert.equal(samples.get('config_reloader_reloads_total{result="no_target"}'), 0);
  assert.equal(samples.get('config_reloader_watches'), 1);
  assert.equal(samples.get('config_reloader_ready'), 1);
  assert.equal(samples.get(`config_reloader_config_info{fingerprint="${fingerprintSync([dir], key).digest}"}`), 1);
  assert.ok(samples.has('process_resident_memory_bytes'), 'default process metrics are exported too');
  assert.equal(samples.get('config_reloader_watch_problems'), 0);
  assert.equal(samples.get('config_reloader_unreadable_files'), 0);
  assert.equal(samples.get('config_reloader_read_retries_total'), 0);

  const before = Date.now() / 1000;
  writer.writeSync(configMapPayload({ 'app.conf': 'v2\n' }));
  await app.waitForSignals(1);
  await sidecar.waitForMessage('reload sent');
  samples = await scrape(base);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 1);
  assert.equal(samples.get('config_reloader_changes_detected_total'), 1);
  const last = samples.get('config_reloader_last_successful_reload_timestamp_seconds') ?? 0;
  assert.ok(last >= before - 1 && last <= Date.now() / 1000 + 1, `last successful reload at ${last}`);
  assert.ok((samples.get('config_reloader_watch_events_total') ?? 0) > 0);
  const infos = [...samples.keys()].filter((key) => key.startsWith('config_reloader_config_info{'));
  assert.deepEqual(infos, [`config_reloader_config_info{fingerprint="${fingerprintSync([dir], key).digest}"}`], 'one info series, the new fingerprint');

  writer.writeSync(configMapPayload({ 'app.conf': 'v2\n' }), { force: true }); // identical content in a new ..timestamp directory
  await sidecar.waitForMessage('skipped: content unchanged');
  samples = await scrape(base);
  assert.equal(samples.get('config_reloader_skipped_unchanged_total'), 1);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 1);

  // The app is held now: the second reload goes through its handle.
  writer.writeSync(configMapPayload({ 'app.conf': 'v2b\n' }));
  await app.waitForSignals(2);
  await waitFor('the second reload to be logged', () => sidecar.messages('reload sent').length === 2);
  samples = await scrape(base);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 2);

  await app.kill();
  writer.writeSync(configMapPayload({ 'app.conf': 'v3\n' }));
  await sidecar.waitForMessage('target not found');
  samples = await scrape(base);
  assert.equal(samples.get('config_reloader_target_not_found_total'), 1);
  assert.equal(samples.get('config_reloader_reloads_total{result="no_target"}'), 1);
  assert.equal(samples.get('config_reloader_changes_detected_total'), 3);
});

// Runs the real CLI in a `node -e` process that reports, once the sidecar
// logs "ready", which of its files are loaded: whether the metrics bundle
// beside the CLI (scripts/bundle.ts), and how many prom-client modules from
// node_modules; then stops it.
const PROBE = `
const { dirname, join } = require('path');
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).includes(' ready ')) {
    const loaded = Object.keys(require.cache);
    const probe = {
      metricsBundle: loaded.includes(join(dirname(process.env.CLI), 'metrics.js')),
      promClientModules: loaded.filter((path) => path.includes('/node_modules/prom-client/')).length,
    };
    write('PROBE ' + JSON.stringify(probe) + '\\n');
    process.kill(process.pid, 'SIGTERM');
  }
  return write(chunk, ...rest);
};
process.argv = [process.argv[0], process.env.CLI, ...process.argv.slice(1)];
require(process.env.CLI);
`;

function probeOf(stdout: string): { metricsBundle: boolean; promClientModules: number } | undefined {
  const line = /^PROBE (.*)$/m.exec(stdout)?.[1];
  return line === undefined ? undefined : (JSON.parse(line) as { metricsBundle: boolean; promClientModules: number });
}

test('the metrics bundle, with prom-client inside it, is loaded only when METRICS_ADDR is set', async (t) => {
  const dir = tempDir(t, 'http-endpoint-footprint-');
  const run = (metricsAddr: string | undefined) =>
    runCommand(process.execPath, ['-e', PROBE, '--', '--config-dir', dir, '--process-name', 'nothing-here'], {
      env: { ...ENV, CLI, LOG_FORMAT: 'text', ...(metricsAddr === undefined ? {} : { METRICS_ADDR: metricsAddr }) },
    });
  const without = await run(undefined);
  assert.equal(without.code, 0, describeResult(without));
  assert.deepEqual(probeOf(without.stdout), { metricsBundle: false, promClientModules: 0 }, describeResult(without));

  const withMetrics = await run(`127.0.0.1:${await freePort()}`);
  assert.equal(withMetrics.code, 0, describeResult(withMetrics));
  // prom-client runs from the metrics bundle, never from node_modules: the package does not depend on it.
  assert.deepEqual(probeOf(withMetrics.stdout), { metricsBundle: true, promClientModules: 0 }, describeResult(withMetrics));
});

test('a busy METRICS_ADDR is one line naming the address, exit 1, nothing started', async (t) => {
  const dir = tempDir(t, 'http-endpoint-busy-');
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');

  const result = await runCommand(process.execPath, [CLI], {
    env: { ...ENV, CONFIG_DIR: dir, PROCESS_NAME: 'x', METRICS_ADDR: `127.0.0.1:${address.port}` },
  });
  assert.equal(result.code, 1, describeResult(result));
  assert.equal(result.stdout, '', 'nothing started');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, describeResult(result));
  assert.match(lines[0] ?? '', new RegExp(`METRICS_ADDR 127\\.0\\.0\\.1:${address.port}: .*already in use.*EADDRINUSE`));
});

test('a METRICS_ADDR host that is not an address of this machine is a configuration error (exit 2)', async (t) => {
  const dir = tempDir(t, 'http-endpoint-nonlocal-');
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  const result = await runCommand(process.execPath, [CLI], {
    env: { ...ENV, CONFIG_DIR: dir, PROCESS_NAME: 'x', METRICS_ADDR: '192.0.2.1:9533' },
  });
  assert.equal(result.code, 2, describeResult(result));
  assert.equal(result.stdout, '', 'nothing started');
  assert.match(result.stderr.trim(), /^config-reloader: cannot listen on METRICS_ADDR 192\.0\.2\.1:9533: .*EADDRNOTAVAIL.*$/);
});

test('a flood of idle connections neither exhausts the sidecar\'s descriptors nor shuts out /healthz', async (t) => {
  const port = await freePort();
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: tempDir(t, 'http-flood-'), PROCESS_NAME: `flood-${process.pid}`, METRICS_ADDR: `127.0.0.1:${port}` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const pid = sidecar.child.pid ?? -1;
  const descriptors = (): number => readdirSync(`/proc/${pid}/fd`).length;
  const before = descriptors();

  // Connections that send nothing, ten times the cap, kept open by this side.
  const flood = 10 * MAX_CONNECTIONS;
  const sockets: Socket[] = [];
  let closed = 0;
  t.after(() => {
    for (const socket of sockets) socket.destroy();
  });
  for (let i = 0; i < flood; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  await waitFor(() => `the sidecar to close all but ${MAX_CONNECTIONS} of ${flood} idle connections (closed ${closed})`, () => closed >= flood - MAX_CONNECTIONS);
  assert.ok(descriptors() <= before + MAX_CONNECTIONS, `${descriptors()} descriptors, ${before} before the flood`);

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');
  assert.ok(descriptors() <= before + MAX_CONNECTIONS + 1, `${descriptors()} descriptors, ${before} before the flood`);
});
