// ConfigWatcher against the real kernel: one 'change' per real change of a
// kubelet volume or a plain directory, and nothing for bookkeeping.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { type ConfigChange, ConfigWatcher, monotonicMs, type UnchangedCheck } from '../lib';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { waitFor } from './helpers/wait-for';

/** Long enough for a change, if one were coming, to have come. */
const QUIET_MS = 300;

function tempDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-watcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A kubelet-style volume in a new temporary directory, written synchronously. */
function kubeletVolume(t: { after(fn: () => unknown): void }, files: Readonly<Record<string, string>>): { dir: string; commit(files: Readonly<Record<string, string>>): void } {
  const dir = tempDir(t);
  const writer = new AtomicWriter(dir);
  const commit = (next: Readonly<Record<string, string>>): void => {
    writer.writeSync(configMapPayload(next), { force: true });
  };
  commit(files);
  return { dir, commit };
}

interface Recorded {
  readonly watcher: ConfigWatcher;
  readonly changes: ConfigChange[];
  readonly unchanged: UnchangedCheck[];
}

async function watch(t: { after(fn: () => unknown): void }, dirs: string[], debounce = 30, maxDelay?: number): Promise<Recorded> {
  const watcher = await ConfigWatcher.open({ dirs, debounce, ...(maxDelay === undefined ? {} : { maxDelay }) });
  t.after(() => watcher.close());
  const changes: ConfigChange[] = [];
  const unchanged: UnchangedCheck[] = [];
  watcher.on('change', (change) => changes.push(change));
  watcher.on('unchanged', (check) => unchanged.push(check));
  return { watcher, changes, unchanged };
}

test('open() resolves with every watch in place and the starting fingerprint, and reports nothing', async (t) => {
  const volume = kubeletVolume(t, { 'app.conf': 'v0' });
  const { watcher, changes, unchanged } = await watch(t, [volume.dir]);
  assert.deepEqual([...watcher.fingerprint.files.keys()], [join(volume.dir, 'app.conf')]);
  assert.deepEqual(watcher.directories, [{ dir: volume.dir, kind: 'kubelet volume', watches: 1 }]);
  await sleep(QUIET_MS);
  assert.equal(changes.length + unchanged.length, 0);
});

test('one change per kubelet commit, naming the modified file; a resync with the same bytes is unchanged', async (t) => {
  const volume = kubeletVolume(t, { 'app.conf': 'v0', 'keep.conf': 'k' });
  const { changes, unchanged } = await watch(t, [volume.dir], 60_000);
  for (let version = 1; version <= 3; version++) {
    volume.commit({ 'app.conf': `v${version}`, 'keep.conf': 'k' });
    await waitFor(`change ${version}`, () => changes.length === version);
  }
  volume.commit({ 'app.conf': 'v3', 'keep.conf': 'k' });
  await waitFor('the resync to be checked', () => unchanged.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 3);
  assert.deepEqual(changes[2]?.modified, [join(volume.dir, 'app.conf')]);
  assert.deepEqual([changes[2]?.added, changes[2]?.removed], [[], []]);
  assert.notEqual(changes[2]?.previous.digest, changes[2]?.fingerprint.digest);
  assert.match(changes[0]?.reasons[0] ?? '', /^kubelet update of /);
  // The lists are worked out on first read, and still travel with a copy of the change.
  const copied = JSON.parse(JSON.stringify({ ...changes[1] })) as { modified?: unknown; added?: unknown };
  assert.deepEqual([copied.modified, copied.added], [[join(volume.dir, 'app.conf')], []]);
});

test('detectedAt is on the monotonicMs clock: after the write, a debounce before the change was emitted', async (t) => {
  const dir = tempDir(t);
  const { watcher, changes } = await watch(t, [dir], 200);
  const emittedAt: number[] = [];
  watcher.on('change', () => emittedAt.push(monotonicMs()));
  const before = monotonicMs();
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await waitFor('the change', () => changes.length === 1);
  const detectedAt = changes[0]?.detectedAt ?? Number.NaN;
  assert.ok(before <= detectedAt, `written at ${before}, detected at ${detectedAt}`);
  // The debounce (200 ms) runs between the first trigger and the check.
  // Timers run on libuv's millisecond loop clock and may fire up to 1 ms early against it.
  assert.ok(detectedAt + 198 <= (emittedAt[0] ?? Number.NaN), `detected at ${detectedAt}, emitted at ${String(emittedAt[0])}`);
  // The clock performance.now() reads, from another origin: the two advance
  // together. Each reading is bracketed, so a preemption between the calls
  // widens the bounds instead of failing the test.
  const offsetBounds = (): [number, number] => {
    const low = performance.now();
    const reading = monotonicMs();
    return [reading - performance.now(), reading - low];
  };
  const [firstLow, firstHigh] = offsetBounds();
  await sleep(50);
  const [laterLow, laterHigh] = offsetBounds();
  assert.ok(laterLow <= firstHigh + 0.01 && firstLow <= laterHigh + 0.01, `offsets [${firstLow}, ${firstHigh}] then [${laterLow}, ${laterHigh}]`);
});

test('a volume whose ..data is swapped by delete and create (ln -sfn) is one change per swap, however fast', async (t) => {
  const volume = kubeletVolume(t, { 'app.conf': 'v0' });
  const { changes } = await watch(t, [volume.dir]);
  const payload = (name: string, content: string): void => {
    mkdirSync(join(volume.dir, name));
    writeFileSync(join(volume.dir, name, 'app.conf'), content);
  };
  payload('..one', 'v1');
  payload('..two', 'v2');
  // Swapped back to back, and then with a pause between the delete and the create.
  unlinkSync(join(volume.dir, '..data'));
  symlinkSync('..one', join(volume.dir, '..data'));
  await waitFor('the first swap', () => changes.length === 1);
  unlinkSync(join(volume.dir, '..data'));
  await sleep(QUIET_MS);
  symlinkSync('..two', join(volume.dir, '..data'));
  await waitFor('the second swap', () => changes.length === 2);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 2);
  assert.equal(readFileSync(join(volume.dir, 'app.conf'), 'utf8'), 'v2');
  assert.deepEqual(changes.map((change) => change.modified), [[join(volume.dir, 'app.conf')], [join(volume.dir, 'app.conf')]]);
});

test('a burst in a plain directory, subdirectories included, is one change after the debounce', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'old.conf'), 'old');
  const { changes } = await watch(t, [dir], 100);
  mkdirSync(join(dir, 'conf.d'));
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'conf.d', `site${i}.conf`), `${i}`);
  rmSync(join(dir, 'old.conf'));
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.added.length, 20);
  assert.deepEqual(changes[0]?.removed, [join(dir, 'old.conf')]);
});

test('chmod, chown and touch change nothing: IN_ATTRIB is not watched', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { changes, unchanged } = await watch(t, [dir]);
  chmodSync(join(dir, 'app.conf'), 0o600);
  utimesSync(join(dir, 'app.conf'), new Date(), new Date());
  await sleep(QUIET_MS);
  assert.equal(changes.length + unchanged.length, 0);
});

test('the same bytes written again are checked and reported unchanged, not as a change', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { changes, unchanged } = await watch(t, [dir]);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  await waitFor('the check', () => unchanged.length === 1);
  assert.equal(changes.length, 0);
});

test('the maximum delay ends a debounce that a file rewritten again and again keeps postponing', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'busy.conf'), 'same');
  writeFileSync(join(dir, 'real.conf'), 'v0');
  const { changes } = await watch(t, [dir], 200, 600);
  const started = performance.now();
  writeFileSync(join(dir, 'real.conf'), 'v1');
  const rewriter = setInterval(() => writeFileSync(join(dir, 'busy.conf'), 'same'), 50);
  t.after(() => clearInterval(rewriter));
  await waitFor('the change despite the rewrites', () => changes.length === 1, { timeoutMs: 3000 });
  const waited = performance.now() - started;
  assert.ok(waited < 1500, `reported after ${Math.round(waited)} ms`);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'real.conf')]);
});

test('a directory deleted and created again is reported lost, back, and then once as changed', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'conf');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { watcher, changes } = await watch(t, [dir]);
  const lost: string[] = [];
  const back: string[] = [];
  const missing: (readonly string[])[] = [];
  watcher.on('lost', (lostDir) => lost.push(lostDir));
  watcher.on('back', (backDir) => back.push(backDir));
  watcher.on('missing', (dirs) => missing.push(dirs));
  rmSync(dir, { recursive: true });
  await waitFor('the loss', () => lost.length === 1);
  assert.equal(watcher.complete, false);
  // Built beside it and renamed into place, so it comes back complete.
  mkdirSync(join(root, 'staging'));
  writeFileSync(join(root, 'staging', 'app.conf'), 'v1');
  renameSync(join(root, 'staging'), dir);
  await waitFor('the change', () => changes.length === 1);
  assert.deepEqual(back, [dir]);
  assert.equal(watcher.complete, true);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'app.conf')]);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
});

test('iterates over changes until aborted, and a slow consumer gets them merged from what it saw last', async (t) => {
  const volume = kubeletVolume(t, { 'a.conf': 'a0', 'b.conf': 'b0' });
  const watcher = await ConfigWatcher.open({ dirs: [volume.dir] });
  t.after(() => watcher.close());
  const controller = new AbortController();
  const iterator = watcher.changes({ signal: controller.signal });
  volume.commit({ 'a.conf': 'a1', 'b.conf': 'b0' });
  const first = await iterator.next();
  assert.deepEqual(first.value?.modified, [join(volume.dir, 'a.conf')]);
  // Two commits before the consumer looks again.
  volume.commit({ 'a.conf': 'a1', 'b.conf': 'b1' });
  await sleep(100);
  volume.commit({ 'a.conf': 'a2', 'b.conf': 'b1' });
  await sleep(100);
  const merged = await iterator.next();
  assert.deepEqual(merged.value?.modified, [join(volume.dir, 'a.conf'), join(volume.dir, 'b.conf')]);
  assert.equal(merged.value?.previous.digest, first.value?.fingerprint.digest);
  const pending = iterator.next();
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
});

test('a slow consumer\'s merged change lists the first reasons and counts every other one', async (t) => {
  const dir = tempDir(t);
  const watcher = await ConfigWatcher.open({ dirs: [dir], debounce: 30 });
  t.after(() => watcher.close());
  const checks: ConfigChange[] = [];
  watcher.on('change', (change) => checks.push(change));
  const iterator = watcher.changes();
  // Four changes, each from a file of its own, while the consumer does not look.
  for (const name of ['a', 'b', 'c', 'd']) {
    writeFileSync(join(dir, `${name}.conf`), name);
    await waitFor(`the change of ${name}.conf`, () => checks.length === ['a', 'b', 'c', 'd'].indexOf(name) + 1);
  }
  const merged = (await iterator.next()).value;
  assert.ok(merged !== undefined);
  const every = checks.flatMap((change) => change.reasons);
  assert.equal(new Set(every).size, every.length, `each change has reasons of its own: ${JSON.stringify(every)}`);
  assert.deepEqual(merged.reasons, every.slice(0, 3));
  assert.equal(merged.moreReasons, every.length - 3 + checks.reduce((sum, change) => sum + change.moreReasons, 0));
  assert.deepEqual(merged.added, ['a', 'b', 'c', 'd'].map((name) => join(dir, `${name}.conf`)));
  assert.equal(merged.detectedAt, checks[0]?.detectedAt);
  await iterator.return?.();
});

test('for await ends when the watcher is closed', async (t) => {
  const volume = kubeletVolume(t, { 'app.conf': 'v0' });
  const watcher = await ConfigWatcher.open({ dirs: [volume.dir] });
  const seen: string[] = [];
  const loop = (async () => {
    for await (const change of watcher) seen.push(...change.modified);
  })();
  volume.commit({ 'app.conf': 'v1' });
  await waitFor('the change', () => seen.length === 1);
  await watcher.close();
  await loop;
  assert.deepEqual(seen, [join(volume.dir, 'app.conf')]);
});

test('open() rejects, holding nothing, for a directory that does not exist or is a file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(ConfigWatcher.open({ dirs: [join(dir, 'absent')] }), { code: 'ENOENT' });
  await assert.rejects(ConfigWatcher.open({ dirs: [join(dir, 'file')] }), { code: 'ENOTDIR' });
  await assert.rejects(ConfigWatcher.open({ dirs: [] }), TypeError);
  await assert.rejects(ConfigWatcher.open({ dirs: [dir], debounce: -1 }), RangeError);
});
