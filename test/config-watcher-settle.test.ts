// ConfigWatcher's settle window against the real kernel: the kubelet commits
// each volume of a Pod on its own, so one sync that updates a ConfigMap and a
// Secret lands as two commits some time apart. With `settle`, they are one
// change that already holds both new versions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { type ConfigChange, ConfigWatcher, type ConfigWatcherOptions } from '../lib';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

const SETTLE_MS = 500;
/** How far apart the kubelet's two commits land in the tests: well inside the window. */
const APART_MS = 100;
/** Long enough for a change, if one were coming, to have come. */
const QUIET_MS = SETTLE_MS + 300;

interface Watched {
  readonly changes: ConfigChange[];
  /** performance.now() of each change. */
  readonly at: number[];
}

async function watch(t: { after(fn: () => unknown): void }, options: ConfigWatcherOptions): Promise<Watched> {
  const watcher = await ConfigWatcher.open(options);
  t.after(() => watcher.close());
  const changes: ConfigChange[] = [];
  const at: number[] = [];
  watcher.on('change', (change) => {
    changes.push(change);
    at.push(performance.now());
  });
  return { changes, at };
}

function twoVolumes(t: { after(fn: () => unknown): void }): { configMap: SyncVolume; secret: SyncVolume } {
  return {
    configMap: SyncVolume.create(t, { 'app.conf': 'conf v0' }),
    secret: SyncVolume.create(t, { password: 'pw v0' }),
  };
}

test('two volumes committed 100 ms apart are one change holding both new versions', async (t) => {
  const { configMap, secret } = twoVolumes(t);
  const { changes, at } = await watch(t, { dirs: [configMap.dir, secret.dir], settle: SETTLE_MS });
  const started = performance.now();
  configMap.commit({ 'app.conf': 'conf v1' });
  await sleep(APART_MS);
  const second = performance.now();
  secret.commit({ password: 'pw v1' });
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
  assert.deepEqual([...(changes[0]?.modified ?? [])].sort(), [join(configMap.dir, 'app.conf'), join(secret.dir, 'password')].sort());
  // Ended by the second commit, not by the window running out.
  const reported = (at[0] ?? Infinity) - started;
  assert.ok((at[0] ?? 0) >= second, 'reported after the second commit');
  assert.ok(reported < SETTLE_MS, `reported ${Math.round(reported)} ms after the first commit`);
});

test('without a settle window the same two commits are two changes, the first half-new', async (t) => {
  const { configMap, secret } = twoVolumes(t);
  const { changes } = await watch(t, { dirs: [configMap.dir, secret.dir] });
  configMap.commit({ 'app.conf': 'conf v1' });
  await sleep(APART_MS);
  secret.commit({ password: 'pw v1' });
  await waitFor('two changes', () => changes.length === 2);
  assert.deepEqual(changes[0]?.modified, [join(configMap.dir, 'app.conf')]);
  assert.deepEqual(changes[1]?.modified, [join(secret.dir, 'password')]);
});

test('a commit in one of several volumes is reported once the window has passed', async (t) => {
  const { configMap, secret } = twoVolumes(t);
  const { changes, at } = await watch(t, { dirs: [configMap.dir, secret.dir], settle: SETTLE_MS });
  const started = performance.now();
  configMap.commit({ 'app.conf': 'conf v1' });
  await waitFor('the change', () => changes.length === 1);
  const waited = (at[0] ?? 0) - started;
  assert.ok(waited >= SETTLE_MS - 5, `reported after ${Math.round(waited)} ms, before the window ended`);
  assert.ok(waited < SETTLE_MS + 1000, `reported after ${Math.round(waited)} ms`);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
});

test('with a single directory a commit waits for nothing', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const { changes, at } = await watch(t, { dirs: [volume.dir], settle: 5000 });
  const started = performance.now();
  volume.commit({ 'app.conf': 'v1' });
  await waitFor('the change', () => changes.length === 1);
  const waited = (at[0] ?? Infinity) - started;
  assert.ok(waited < 2000, `reported after ${Math.round(waited)} ms`);
});

test('settle must be a number of milliseconds, 0 or more', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  await assert.rejects(ConfigWatcher.open({ dirs: [volume.dir], settle: -1 }), RangeError);
  await assert.rejects(ConfigWatcher.open({ dirs: [volume.dir], settle: Number.NaN }), RangeError);
});
