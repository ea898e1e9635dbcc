// End to end with a real Prometheus as the app, itself the oracle: its log
// says each time it loaded a configuration (and each time it refused one),
// its API which configuration it runs. One Prometheus serves every test here;
// each test runs its own sidecar on the Prometheus's kubelet-style volume.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import { Prometheus } from './helpers/prometheus';
import { SidecarProcess } from './helpers/sidecar-process';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

/** Long enough for a reload, if one were coming, to have come. */
const QUIET_MS = 700;
const UPDATES = 3;

/** A valid configuration, told apart by an external label that /api/v1/status/config shows. */
const valid = (version: string): Record<string, string> => ({
  'prometheus.yml': `global:\n  scrape_interval: 1m\n  external_labels:\n    version: ${version}\n`,
});
/** One Prometheus refuses: its reload answers 500 and it keeps the configuration it has. */
const invalid = (): Record<string, string> => ({ 'prometheus.yml': 'global:\n  scrape_interval: every-now-and-then\n' });

let volume: SyncVolume;
let prometheus: Prometheus;
// Torn down once the last test is done, Prometheus first, in reverse order.
const teardown: (() => unknown)[] = [];
const cleanup = { after: (fn: () => unknown): void => void teardown.unshift(fn) };

before(async () => {
  volume = SyncVolume.create(cleanup, valid('v0'));
  prometheus = await Prometheus.start(cleanup, { configFile: join(volume.dir, 'prometheus.yml'), name: `prom-${process.pid}`.slice(0, 15) });
});

after(async () => {
  for (const fn of teardown) await fn();
});

function sidecar(t: { after(fn: () => unknown): void }, env: Readonly<Record<string, string>>): SidecarProcess {
  const process = new SidecarProcess({ env: { CONFIG_DIR: volume.dir, ...env } });
  t.after(() => process.stop());
  return process;
}

test(`RELOAD_URL: ${UPDATES} updates are ${UPDATES} loads, each of the new configuration`, async (t) => {
  const reloader = sidecar(t, { RELOAD_URL: prometheus.reloadUrl });
  await reloader.waitForMessage('ready');
  const loadsBefore = prometheus.loads();
  for (let update = 1; update <= UPDATES; update++) {
    volume.commit(valid(`url-${update}`));
    await prometheus.waitForLoads(loadsBefore + update);
    assert.match(await prometheus.config(), new RegExp(`version: url-${update}\\n`));
  }
  await sleep(QUIET_MS);
  assert.equal(prometheus.loads(), loadsBefore + UPDATES, reloader.transcript());
  assert.equal(reloader.messages('reload request succeeded').length, UPDATES);
});

test('RELOAD_URL: a configuration Prometheus rejects is reported with its reason and retried, never loaded; the next valid one is', async (t) => {
  const reloader = sidecar(t, { RELOAD_URL: prometheus.reloadUrl });
  await reloader.waitForMessage('ready');
  const running = await prometheus.config();
  const loadsBefore = prometheus.loads();
  const rejectionsBefore = prometheus.rejections().length;

  volume.commit(invalid());
  await reloader.waitForMessage('reload attempt failed; retrying', 2);
  const [failure] = reloader.messages('reload request failed');
  assert.equal(failure?.['status'], 500);
  assert.match(String(failure?.['reason']), /answered 500 Internal Server Error: failed to reload config: .*not a valid duration string: "every-now-and-then"/);
  assert.deepEqual(reloader.messages('reload attempt failed; retrying').map((line) => line['retry_in_ms']), [1000, 2000]);
  // Prometheus logs its refusal before it answers; its log arrives on a pipe of its own.
  await waitFor('Prometheus to have refused it twice: the first attempt and one retry', () => prometheus.rejections().length === rejectionsBefore + 2);
  assert.equal(prometheus.loads(), loadsBefore, 'nothing loaded');
  assert.equal(await prometheus.config(), running, 'Prometheus keeps its last good configuration');

  volume.commit(valid('fixed'));
  await prometheus.waitForLoads(loadsBefore + 1);
  assert.match(await prometheus.config(), /version: fixed\n/);
  await sleep(2500); // past when the cancelled retry would have come
  assert.equal(prometheus.rejections().length, rejectionsBefore + 2, reloader.transcript());
  assert.equal(prometheus.loads(), loadsBefore + 1);
  assert.equal(reloader.messages('retry cancelled: a newer change supersedes it').length, 1);
});

test(`PROCESS_NAME: SIGHUP reloads Prometheus too, ${UPDATES} updates as ${UPDATES} loads`, async (t) => {
  const reloader = sidecar(t, { PROCESS_NAME: prometheus.name });
  await reloader.waitForMessage('ready');
  assert.deepEqual(reloader.messages('target found')[0]?.['targets'], [`${prometheus.pid} ${prometheus.name}`]);
  const loadsBefore = prometheus.loads();
  for (let update = 1; update <= UPDATES; update++) {
    volume.commit(valid(`signal-${update}`));
    await prometheus.waitForLoads(loadsBefore + update);
    assert.match(await prometheus.config(), new RegExp(`version: signal-${update}\\n`));
  }
  await sleep(QUIET_MS);
  assert.equal(prometheus.loads(), loadsBefore + UPDATES, reloader.transcript());
  assert.equal(reloader.messages('reload sent').length, UPDATES);
});
