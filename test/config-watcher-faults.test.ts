// ConfigWatcher under the faults of real clusters, against the real kernel:
// a directory deleted and refilled, files still being written, reads that
// fail for a while, the watch limit, paths too long, symbolic links,
// a key directory of a kubelet volume, and a listener that throws.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { type ConfigChange, ConfigWatcher, type ConfigWatcherOptions, type UnchangedCheck } from '../lib';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { userNamespacesWork } from './helpers/inotify-limits';
import { libraryScript, runLibraryScript } from './helpers/library-script';
import { NestedVolume } from './helpers/nested-volume';
import { PACKAGE_ROOT } from './helpers/package-copy';
import { waitFor } from './helpers/wait-for';

const DEBOUNCE_MS = 60;
/** Long enough for a change, if one were coming, to have come. */
const QUIET_MS = 400;

function tempDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-watcher-faults-'));
  chmodSync(dir, 0o755);
  // rm, not rmSync: it removes trees whose paths are longer than PATH_MAX.
  t.after(() => execFileSync('rm', ['-rf', dir]));
  return dir;
}

interface Recorded {
  readonly watcher: ConfigWatcher;
  readonly changes: ConfigChange[];
  readonly unchanged: UnchangedCheck[];
  readonly lost: string[];
  readonly errors: Error[];
}

async function watch(t: { after(fn: () => unknown): void }, options: ConfigWatcherOptions): Promise<Recorded> {
  const watcher = await ConfigWatcher.open({ debounce: DEBOUNCE_MS, ...options });
  t.after(() => watcher.close());
  const recorded: Recorded = { watcher, changes: [], unchanged: [], lost: [], errors: [] };
  watcher.on('change', (change) => recorded.changes.push(change));
  watcher.on('unchanged', (check) => recorded.unchanged.push(check));
  watcher.on('lost', (dir) => recorded.lost.push(dir));
  watcher.on('error', (error) => recorded.errors.push(error));
  return recorded;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

test('a plain directory deleted and filled again file by file is one change, with all of the new content', async (t) => {
  const dir = join(tempDir(t), 'conf');
  mkdirSync(dir);
  writeFileSync(join(dir, 'old.conf'), 'old');
  const { changes, lost } = await watch(t, { dirs: [dir] });
  rmSync(dir, { recursive: true });
  await waitFor('the loss', () => lost.length === 1);
  mkdirSync(dir);
  for (const name of ['a.conf', 'b.conf', 'c.conf']) {
    writeFileSync(join(dir, name), name);
    await sleep(DEBOUNCE_MS / 3);
  }
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1, `never the empty directory first: ${changes.map((change) => change.added.join(',')).join(' | ')}`);
  assert.deepEqual([...(changes[0]?.fingerprint.files.keys() ?? [])].sort(), ['a.conf', 'b.conf', 'c.conf'].map((name) => join(dir, name)));
  assert.deepEqual(changes[0]?.removed, [join(dir, 'old.conf')]);
});

test('a new file written in chunks with pauses longer than the debounce is checked once, after its close', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { changes, watcher } = await watch(t, { dirs: [dir] });
  const fd = openSync(join(dir, 'new.conf'), 'w');
  writeSync(fd, 'server {\n');
  await sleep(DEBOUNCE_MS * 4);
  writeSync(fd, '  listen 80;\n');
  await sleep(DEBOUNCE_MS * 4);
  assert.deepEqual(watcher.writesInProgress, [join(dir, 'new.conf')]);
  assert.equal(changes.length, 0, 'nothing is checked while the file is open for writing');
  writeSync(fd, '}\n');
  closeSync(fd);
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.fingerprint.files.get(join(dir, 'new.conf')), sha256('server {\n  listen 80;\n}\n'));
});

test('a file rewritten in place in chunks is checked once, after its close', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { changes } = await watch(t, { dirs: [dir] });
  const fd = openSync(join(dir, 'app.conf'), 'w'); // O_TRUNC: the file is empty from here on
  await sleep(DEBOUNCE_MS * 3);
  writeSync(fd, 'v1 ');
  await sleep(DEBOUNCE_MS * 3);
  writeSync(fd, 'complete');
  closeSync(fd);
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.fingerprint.files.get(join(dir, 'app.conf')), sha256('v1 complete'));
});

test('a file left open for writing holds the check back for writeWait, and then never again until it is closed', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { changes } = await watch(t, { dirs: [dir], writeWait: 1500 });
  const fd = openSync(join(dir, 'app.log'), 'w');
  t.after(() => closeSync(fd));
  const started = performance.now();
  writeSync(fd, 'started\n');
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await waitFor('the change', () => changes.length === 1, { timeoutMs: 10_000 });
  const waited = performance.now() - started;
  assert.ok(waited >= 1450, `checked after ${Math.round(waited)} ms`);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'app.conf')]);
  // Still open and still written: it holds nothing back any more.
  writeSync(fd, 'still running\n');
  const again = performance.now();
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await waitFor('the next change', () => changes.length === 2, { timeoutMs: 5000 });
  assert.ok(performance.now() - again < 1400, `checked after ${Math.round(performance.now() - again)} ms`);
});

test('a check that hits EMFILE is retried until it reads everything: no removed files, one change', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.conf'), 'a0');
  writeFileSync(join(dir, 'b.conf'), 'b0');
  const script = libraryScript(PACKAGE_ROOT, { 'config-watcher': ['ConfigWatcher'] }, `
    const fs = require('node:fs');
    const dir = ${JSON.stringify(dir)};
    const until = async (probe) => { for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10)); };
    const watcher = await ConfigWatcher.open({ dirs: [dir], debounce: 30 });
    const seen = [];
    watcher.on('retry', (error, delay) => seen.push('retry ' + error.code + ' ' + delay));
    watcher.on('change', (c) => seen.push('change +' + c.added.length + ' -' + c.removed.length + ' ~' + c.modified.join(',')));
    watcher.on('error', (error) => seen.push('error ' + error.message));
    fs.writeFileSync(dir + '/b.conf', 'b1');
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {}
    await until(() => seen.filter((line) => line.startsWith('retry')).length >= 2);
    for (const fd of held) fs.closeSync(fd);
    await until(() => seen.some((line) => line.startsWith('change')));
    await new Promise((r) => setTimeout(r, 300));
    await watcher.close();
    outcomes.seen = { result: seen };
  `);
  const outcomes = await runLibraryScript(['prlimit', '--nofile=128:128', '--'], script);
  const seen = outcomes['seen']?.result as string[];
  assert.deepEqual(seen.slice(0, 2), ['retry EMFILE 100', 'retry EMFILE 200'], seen.join('\n'));
  const changes = seen.filter((line) => line.startsWith('change'));
  assert.deepEqual(changes, [`change +0 -0 ~${join(dir, 'b.conf')}`], seen.join('\n'));
  assert.ok(!seen.some((line) => line.startsWith('error')), seen.join('\n'));
});

test('a root at the watch limit (ENOSPC) opens all the same: unwatched, looked at, then watched once the limit allows', { skip: process.getuid?.() !== 0 && 'needs root' }, async (t) => {
  if (!(await userNamespacesWork())) {
    t.skip('user namespaces are not available');
    return;
  }
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const script = libraryScript(PACKAGE_ROOT, { 'config-watcher': ['ConfigWatcher'] }, `
    const fs = require('node:fs');
    const dir = ${JSON.stringify(dir)};
    const limit = '/proc/sys/user/max_inotify_watches';
    const until = async (probe) => { for (let i = 0; i < 1000 && !probe(); i++) await new Promise((r) => setTimeout(r, 10)); };
    fs.writeFileSync(limit, '0');
    const watcher = await ConfigWatcher.open({ dirs: [dir], debounce: 30 });
    outcomes.atOpen = { result: { kind: watcher.directories[0].kind, problems: watcher.problems.map((p) => p.error.message) } };
    const changes = [];
    watcher.on('change', (c) => changes.push(c.modified));
    fs.writeFileSync(dir + '/app.conf', 'v1');
    await until(() => changes.length === 1);
    outcomes.polled = { result: changes.length };
    let checked = 0;
    watcher.on('unchanged', () => checked++);
    fs.writeFileSync(limit, '100');
    await until(() => watcher.problems.length === 0 && checked === 1); // watched, and checked once then
    outcomes.later = { result: { kind: watcher.directories[0].kind, watches: watcher.watchCount } };
    fs.writeFileSync(dir + '/app.conf', 'v2');
    await until(() => changes.length === 2);
    outcomes.watched = { result: { changes: changes.length } };
    await watcher.close();
  `);
  const outcomes = await runLibraryScript(['unshare', '--user', '--map-root-user'], script);
  const atOpen = outcomes['atOpen']?.result as { kind: string; problems: string[] };
  assert.equal(atOpen.kind, 'unwatched');
  assert.match(atOpen.problems[0] ?? '', /^ENOSPC: inotify watch limit reached: .*user\.max_inotify_watches/);
  assert.equal(outcomes['polled']?.result, 1, 'the change was found by looking');
  assert.deepEqual(outcomes['later']?.result, { kind: 'plain directory', watches: 1 });
  // Once watched, nothing is looked at any more: the change was seen by the watch.
  assert.deepEqual(outcomes['watched']?.result, { changes: 2 });
});

test('a subdirectory created at the watch limit is a problem: changes in it are found by looking, then by its watch once the limit allows', { skip: process.getuid?.() !== 0 && 'needs root' }, async (t) => {
  if (!(await userNamespacesWork())) {
    t.skip('user namespaces are not available');
    return;
  }
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const script = libraryScript(PACKAGE_ROOT, { 'config-watcher': ['ConfigWatcher'] }, `
    const fs = require('node:fs');
    const dir = ${JSON.stringify(dir)};
    const limit = '/proc/sys/user/max_inotify_watches';
    const until = async (probe) => { for (let i = 0; i < 1000 && !probe(); i++) await new Promise((r) => setTimeout(r, 10)); };
    fs.writeFileSync(limit, '1');
    const watcher = await ConfigWatcher.open({ dirs: [dir], debounce: 30 });
    const changes = [];
    const problems = [];
    watcher.on('change', (c) => changes.push([...c.added, ...c.modified]));
    watcher.on('problem', (p) => problems.push(p.path + ' ' + p.error.code));
    fs.mkdirSync(dir + '/sub');
    await until(() => problems.length === 1);
    fs.writeFileSync(dir + '/sub/x.conf', 'x1');
    await until(() => changes.length === 1);
    outcomes.polled = { result: { problems: [...problems], changes: [...changes] } };
    let checked = 0;
    watcher.on('unchanged', () => checked++);
    fs.writeFileSync(limit, '100');
    await until(() => watcher.problems.length === 0 && checked === 1); // watched, and checked once then
    fs.writeFileSync(dir + '/sub/x.conf', 'x2');
    await until(() => changes.length === 2);
    outcomes.watched = { result: { changes: changes.length, watches: watcher.watchCount } };
    await watcher.close();
  `);
  const outcomes = await runLibraryScript(['unshare', '--user', '--map-root-user'], script);
  const polled = outcomes['polled']?.result as { problems: string[]; changes: string[][] };
  assert.deepEqual(polled.problems, [`${join(dir, 'sub')} ENOSPC`]);
  assert.deepEqual(polled.changes, [[join(dir, 'sub', 'x.conf')]], 'found by looking');
  // Once every directory is watched, nothing is looked at any more: the change was seen by the watch.
  assert.deepEqual(outcomes['watched']?.result, { changes: 2, watches: 2 });
});

test('a directory whose path is longer than PATH_MAX is a problem; the rest is watched and fingerprinted', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const name = 'd'.repeat(200);
  execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 1 24); do mkdir ${name} && cd ${name}; done && echo deep > deep.conf`, '-', dir]);
  const problems: string[] = [];
  const { watcher, changes } = await watch(t, { dirs: [dir] });
  watcher.on('problem', (problem) => problems.push(problem.error.message));
  assert.ok(watcher.problems.some((problem) => /ENAMETOOLONG/.test(problem.error.message)), JSON.stringify(watcher.problems.map((p) => p.error.message)));
  assert.ok(watcher.fingerprint.skipped.some((skip) => /ENAMETOOLONG/.test(skip.reason)));
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await waitFor('the change', () => changes.length === 1);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'app.conf')]);
});

test('an edit in a directory a symbolic link leads to is a change', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'config');
  mkdirSync(join(root, 'shared'));
  mkdirSync(join(root, 'other'));
  mkdirSync(dir);
  writeFileSync(join(root, 'shared', 'site.conf'), 'v0');
  writeFileSync(join(root, 'other', 'one.conf'), '1');
  symlinkSync('../shared', join(dir, 'conf.d'));
  symlinkSync(join(root, 'other', 'one.conf'), join(dir, 'one.conf'));
  const { changes, watcher } = await watch(t, { dirs: [dir] });
  writeFileSync(join(root, 'shared', 'site.conf'), 'v1');
  await waitFor('the change through the directory link', () => changes.length === 1);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'conf.d', 'site.conf')]);
  writeFileSync(join(root, 'other', 'one.conf'), '2');
  await waitFor('the change through the file link', () => changes.length === 2);
  assert.deepEqual(changes[1]?.modified, [join(dir, 'one.conf')]);
  // The link is pointed elsewhere: the old target no longer counts, the new one does.
  mkdirSync(join(root, 'shared2'));
  writeFileSync(join(root, 'shared2', 'site.conf'), 'v2');
  symlinkSync('../shared2', join(dir, 'conf.d.tmp'));
  renameSync(join(dir, 'conf.d.tmp'), join(dir, 'conf.d'));
  await waitFor('the change of the link', () => changes.length === 3);
  writeFileSync(join(root, 'shared', 'site.conf'), 'stale');
  await sleep(QUIET_MS);
  assert.equal(changes.length, 3, 'the old target is not watched any more');
  writeFileSync(join(root, 'shared2', 'site.conf'), 'v3');
  await waitFor('the change in the new target', () => changes.length === 4);
  assert.ok(watcher.watchCount >= 3);
});

test('a CONFIG_DIR that is a symbolic link is followed when the link is swapped (git-sync)', async (t) => {
  const root = tempDir(t);
  for (const rev of ['rev1', 'rev2']) {
    mkdirSync(join(root, rev));
    writeFileSync(join(root, rev, 'app.conf'), rev);
  }
  const current = join(root, 'current');
  symlinkSync('rev1', current);
  const { changes, lost } = await watch(t, { dirs: [current] });
  symlinkSync('rev2', join(root, 'current.tmp'));
  renameSync(join(root, 'current.tmp'), current);
  await waitFor('the swap', () => changes.length === 1);
  assert.deepEqual(changes[0]?.modified, [join(current, 'app.conf')]);
  rmSync(join(root, 'rev1'), { recursive: true });
  writeFileSync(join(root, 'rev2', 'app.conf'), 'rev2 edited');
  await waitFor('the edit in the new target', () => changes.length === 2);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 2);
  assert.deepEqual(lost, [], 'never lost: the link was there all along');
});

test('a CONFIG_DIR below a symbolic link is followed when the link is swapped (git-sync with a subdirectory)', async (t) => {
  const root = tempDir(t);
  for (const rev of ['rev1', 'rev2']) {
    mkdirSync(join(root, rev, 'conf'), { recursive: true });
    writeFileSync(join(root, rev, 'conf', 'app.conf'), rev);
  }
  symlinkSync('rev1', join(root, 'current'));
  const dir = join(root, 'current', 'conf');
  const { changes, lost } = await watch(t, { dirs: [dir] });
  symlinkSync('rev2', join(root, 'current.tmp'));
  renameSync(join(root, 'current.tmp'), join(root, 'current'));
  await waitFor('the swap', () => changes.length === 1);
  rmSync(join(root, 'rev1'), { recursive: true });
  writeFileSync(join(root, 'rev2', 'conf', 'app.conf'), 'rev2 edited');
  await waitFor('the edit in the new target', () => changes.length === 2);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 2);
  assert.deepEqual(lost, []);
});

test('a key directory inside a kubelet volume, given as the directory, is one change per update and never lost', async (t) => {
  const volume = new NestedVolume(join(tempDir(t), 'volume'));
  volume.commit({ 'a.conf': 'a0', 'b.conf': 'b0' });
  const dir = volume.keyDir;
  const { changes, unchanged, lost, watcher } = await watch(t, { dirs: [dir] });
  assert.deepEqual(watcher.directories, [{ dir, kind: 'kubelet volume', watches: 1 }]);
  for (let version = 1; version <= 3; version++) {
    volume.commit({ 'a.conf': `a${version}`, 'b.conf': 'b0' });
    await waitFor(`change ${version}`, () => changes.length === version);
  }
  volume.commit({ 'a.conf': 'a3', 'b.conf': 'b0' });
  await waitFor('the resync', () => unchanged.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 3);
  assert.deepEqual(changes[2]?.modified, [join(dir, 'a.conf')]);
  assert.deepEqual(lost, []);
});

test('a key directory an update drops is lost, never reported emptied, and its return is one change', async (t) => {
  const root = join(tempDir(t), 'volume');
  mkdirSync(root);
  const writer = new AtomicWriter(root);
  const payload = (withSub: boolean, version: number): ReturnType<typeof configMapPayload> =>
    configMapPayload({ app: `app ${version}`, other: `other ${version}` }, {
      items: [...(withSub ? [{ key: 'app', path: 'sub/app.conf' }] : []), { key: 'other', path: 'other.conf' }],
    });
  writer.writeSync(payload(true, 0));
  const dir = join(root, 'sub');
  const { watcher, changes, lost } = await watch(t, { dirs: [dir] });
  const back: string[] = [];
  watcher.on('back', (where) => back.push(where));

  writer.writeSync(payload(false, 1));
  await waitFor('the loss', () => lost.length === 1);
  await sleep(QUIET_MS);
  assert.deepEqual(changes.map((change) => change.removed), [], 'the configuration was reported emptied');

  writer.writeSync(payload(true, 2));
  await waitFor('the change', () => changes.length === 1);
  await sleep(QUIET_MS);
  assert.equal(changes.length, 1);
  assert.deepEqual(back, [dir]);
  assert.deepEqual(changes[0]?.modified, [join(dir, 'app.conf')]);
  assert.deepEqual(changes[0]?.reasons.length, 1, `one immediate check when the link came back: ${changes[0]?.reasons.join('; ')}`);
});

test('a listener that throws is an error event, and the watcher goes on', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const { watcher, changes, errors } = await watch(t, { dirs: [dir] });
  let calls = 0;
  watcher.on('change', () => {
    calls++;
    throw new Error('a bug in a listener');
  });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await waitFor('the first change', () => changes.length === 1 && errors.length === 1);
  assert.equal(errors[0]?.message, 'a bug in a listener');
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await waitFor('the second change', () => changes.length === 2 && calls === 2);
});
