// The commit signal thread (native/commit_signal.cc, lib/sidecar/commit-signal.ts)
// against the real kernel: real kubelet-style commits, real target processes,
// real signals. What it must never do matters as much as what it does: signal
// for an unchanged update, signal a process without its handler, signal twice
// for one arm, or signal after the event loop took over.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { type CommitSignalPlan, native } from '../lib/native';
import { readProcessSummary } from '../lib/proc';
import { parseSignal } from '../lib/signals';
import { CommitSignal, firedForCurrent, pinnedFingerprint } from '../lib/sidecar/commit-signal';
import { type HeldTarget, openTarget } from '../lib/sidecar/held-targets';
import { createLogger } from '../lib/sidecar/log';
import { type Cleanup, describeResult, killAndReap, runCommand } from './helpers/child-process';
import { userNamespacesWork } from './helpers/inotify-limits';
import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';
import { buildFailingPthreadCreate } from './helpers/seccomp';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

const SIGHUP = parseSignal('SIGHUP');
/** Long enough for a signal, were one coming, to have arrived. */
const QUIET_MS = 300;
const silent = createLogger({ format: 'text', level: 'error', write: () => undefined });

interface Target {
  readonly held: HeldTarget;
  readonly name: string;
  /** How many SIGHUPs it has handled, read from the file its handler appends to. */
  hups(): number;
  alive(): boolean;
}

/** A real process under a name of its own, with a SIGHUP handler that appends to a file (or none). */
async function startTarget(t: Cleanup, dir: string, handler = true): Promise<Target> {
  const name = `csig-${process.pid}-${Math.floor(Math.random() * 1e4)}`.slice(0, 15);
  symlinkSync(process.execPath, join(dir, name));
  const file = join(dir, `${name}.hups`);
  const script = `${handler ? `process.on('SIGHUP', () => require('node:fs').appendFileSync(${JSON.stringify(file)}, 'hup\\n'));` : ''}
    setInterval(() => {}, 1 << 30); process.stdout.write('ready\\n');`;
  const child = spawn(join(dir, name), ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => killAndReap(child));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const summary = readProcessSummary(child.pid ?? -1);
  assert.ok(summary !== undefined);
  const opened = openTarget(summary);
  assert.ok('held' in opened, 'the target opens');
  t.after(() => opened.held.handle.close());
  return {
    held: opened.held,
    name: summary.comm,
    hups: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0),
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

interface Fixture {
  readonly volume: SyncVolume;
  readonly target: Target;
  readonly signal: CommitSignal;
  arm(): boolean;
}

async function fixture(t: Cleanup, options: { handler?: boolean; absolute?: boolean } = {}): Promise<Fixture> {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0', 'flags.json': '{}' }, { absolute: options.absolute ?? false });
  const dir = volume.dir;
  const target = await startTarget(t, volume.root, options.handler ?? true);
  const signal = CommitSignal.start([dir], silent);
  assert.ok(signal !== undefined, 'a kubelet volume gets the thread');
  t.after(() => signal.close());
  const arm = (): boolean =>
    signal.arm({ delivered: pinnedFingerprint([dir]), held: [target.held], processName: target.name, signal: SIGHUP });
  return { volume, target, signal, arm };
}

/** Waits with the event loop held: whatever happens meanwhile was done by another thread. */
function blockUntil(predicate: () => boolean, timeoutMs: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    Atomics.wait(cell, 0, 0, 1);
  }
  return predicate();
}

test('signals the target from its own thread at the commit, while the event loop is held', async (t) => {
  const { volume, target, signal, arm } = await fixture(t);
  assert.equal(arm(), true);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  assert.equal(blockUntil(() => target.hups() === 1, 5000), true, 'the signal arrived with no turn of the event loop');
  const fired = signal.disarm();
  assert.ok(fired !== undefined);
  assert.deepEqual(fired.sent, [target.held]);
  assert.equal(fired.changed, join(volume.dir, 'app.conf'));
  assert.ok(fired.latencyMs >= 0 && fired.latencyMs < 1000, String(fired.latencyMs));
  assert.equal(firedForCurrent(fired, pinnedFingerprint([volume.dir])), true, 'nothing committed since');
});

test('follows a ..data link that names its payload by absolute path', async (t) => {
  const { volume, target, signal, arm } = await fixture(t, { absolute: true });
  assert.equal(arm(), true);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  await waitFor('the signal', () => target.hups() === 1);
  assert.equal(signal.disarm()?.changed, join(volume.dir, 'app.conf'));
});

// Updates the thread leaves to the event loop: nothing it knows changed, or a
// change came with a new key, whose link the kubelet makes only after the commit.
const LEFT_TO_THE_EVENT_LOOP: readonly (readonly [string, Readonly<Record<string, string>>])[] = [
  ['a commit of identical bytes', { 'app.conf': 'v0', 'flags.json': '{}' }],
  ['a commit that only adds a file', { 'app.conf': 'v0', 'flags.json': '{}', 'extra.conf': 'new' }],
  ['a changed file that comes with a new key', { 'app.conf': 'v1', 'flags.json': '{}', 'extra.conf': 'new' }],
];

for (const [update, files] of LEFT_TO_THE_EVENT_LOOP) {
  test(`sends nothing for ${update}, and leaves it to the event loop`, async (t) => {
    const { volume, target, signal, arm } = await fixture(t);
    assert.equal(arm(), true);
    volume.commit(files);
    await sleep(QUIET_MS);
    assert.equal(target.hups(), 0);
    assert.equal(signal.disarm(), undefined);
  });
}

test('never signals a target that has not installed its handler', async (t) => {
  const { volume, target, signal, arm } = await fixture(t, { handler: false });
  assert.equal(arm(), true);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  await sleep(QUIET_MS);
  const fired = signal.disarm();
  assert.ok(fired !== undefined, 'the thread saw the change');
  assert.deepEqual(fired.sent, [], 'and signalled nobody');
  assert.equal(target.alive(), true, 'SIGHUP would have killed it');
});

test('never counts a zombie as reloaded, even for a signal that needs no handler', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const { dir, root } = volume;
  // The app's parent becomes `sleep`, which never reaps it: killed, it stays a zombie.
  const name = `zomb-${process.pid}`.slice(0, 15);
  symlinkSync(process.execPath, join(root, name));
  const parent = spawn('sh', ['-c', `"${join(root, name)}" -e "setInterval(() => {}, 1 << 30)" & exec sleep 60`], { stdio: 'ignore' });
  t.after(() => killAndReap(parent));
  const children = `/proc/${parent.pid}/task/${parent.pid}/children`;
  let pid = 0;
  await waitFor('the app to start under its name', () => {
    pid = Number(readFileSync(children, 'utf8').trim().split(' ')[0] ?? 0);
    return pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8') === `${name}\n`;
  });
  const summary = readProcessSummary(pid);
  assert.ok(summary !== undefined);
  const opened = openTarget(summary);
  assert.ok('held' in opened);
  t.after(() => opened.held.handle.close());
  process.kill(pid, 'SIGKILL');
  await waitFor('the app to be a zombie', () => /^State:\tZ/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')));

  const signal = CommitSignal.start([dir], silent);
  assert.ok(signal !== undefined);
  t.after(() => signal.close());
  const winch = parseSignal('SIGWINCH'); // ignored by default: sent without a handler check
  assert.equal(signal.arm({ delivered: pinnedFingerprint([dir]), held: [opened.held], processName: name, signal: winch }), true);
  volume.commit({ 'app.conf': 'v1' });
  await sleep(QUIET_MS);
  const fired = signal.disarm();
  assert.ok(fired !== undefined, 'the thread saw the change');
  assert.deepEqual(fired.sent, [], 'and reached nobody');
});

test('signals once per arm, however many commits follow', async (t) => {
  const { volume, target, signal, arm } = await fixture(t);
  assert.equal(arm(), true);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  await waitFor('the first signal', () => target.hups() === 1);
  volume.commit({ 'app.conf': 'v2', 'flags.json': '{}' });
  await sleep(QUIET_MS);
  assert.equal(target.hups(), 1);
  const fired = signal.disarm();
  assert.ok(fired !== undefined);
  assert.equal(firedForCurrent(fired, pinnedFingerprint([volume.dir])), false, 'a commit came after the signal');
  assert.equal(signal.disarm(), undefined, 'the report is taken once');
});

test('sends nothing once disarmed', async (t) => {
  const { volume, target, signal, arm } = await fixture(t);
  assert.equal(arm(), true);
  assert.equal(signal.disarm(), undefined);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  await sleep(QUIET_MS);
  assert.equal(target.hups(), 0);
});

test('is not armed with a baseline that is no longer the volume\'s current version', async (t) => {
  const { volume, target, signal } = await fixture(t);
  const stale = pinnedFingerprint([volume.dir]);
  volume.commit({ 'app.conf': 'v1', 'flags.json': '{}' });
  assert.equal(signal.arm({ delivered: stale, held: [target.held], processName: target.name, signal: SIGHUP }), false);
  volume.commit({ 'app.conf': 'v2', 'flags.json': '{}' });
  await sleep(QUIET_MS);
  assert.equal(target.hups(), 0);
});

test('is not armed for a target matched by another name than its comm, nor for a plain directory', async (t) => {
  const { target, signal, volume } = await fixture(t);
  assert.equal(signal.arm({ delivered: pinnedFingerprint([volume.dir]), held: [target.held], processName: 'other', signal: SIGHUP }), false);
  const plain = mkdtempSync(join(tmpdir(), 'commit-signal-plain-'));
  t.after(() => rmSync(plain, { recursive: true, force: true }));
  assert.equal(CommitSignal.start([volume.dir, plain], silent), undefined);
});

test('a process or Worker that ends with the thread running exits cleanly', () => {
  const nativePath = join(__dirname, '..', 'lib', 'native.js');
  const script = `
    const { Worker } = require('node:worker_threads');
    const { native } = require(${JSON.stringify(nativePath)});
    new native.CommitSignal();
    const worker = new Worker(\`require(${JSON.stringify(nativePath)}).native.CommitSignal && new (require(${JSON.stringify(nativePath)}).native.CommitSignal)(); setInterval(() => {}, 1000); require('node:worker_threads').parentPort.postMessage('up');\`, { eval: true });
    worker.once('message', () => worker.terminate().then(() => process.stdout.write('terminated\\n')));
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'terminated\n');
});

test('refuses a malformed plan by naming the field, and any use after close()', () => {
  const handle = new native.CommitSignal();
  try {
    assert.throws(() => handle.arm({} as unknown as CommitSignalPlan), { name: 'TypeError', message: 'plan.commitName must be a string' });
    const plan: CommitSignalPlan = { commitName: '..data', dirs: [], files: [], targets: [], signal: 0, requireHandler: true };
    assert.throws(() => handle.arm({ ...plan, signal: 1, dirs: [{ path: '/', payload: 'x' } as unknown as CommitSignalPlan['dirs'][number]] }), { name: 'TypeError', message: 'plan.dirs[].names must be an array' });
    assert.throws(() => handle.arm(plan), { code: 'ERR_OUT_OF_RANGE', message: /"plan\.signal" must be an integer from 1 to \d+/ });
    assert.throws(() => handle.arm({ ...plan, signal: 1, files: [{ dir: 0, relative: 'a' }] }), { code: 'ERR_OUT_OF_RANGE', message: /plan\.files\[\]\.dir/ });
    assert.throws(() => handle.arm({ ...plan, signal: 1, dirs: [{ path: '/nonexistent-dir', payload: 'x', names: [] }] }), { code: 'ENOENT', syscall: 'inotify_add_watch', path: '/nonexistent-dir' });
  } finally {
    handle.close();
  }
  handle.close();
  assert.throws(() => handle.disarm(), { code: 'ERR_CLOSED' });
});

test('without an inotify instance to spare, the sidecar says the thread did not start and reloads from the event loop', async (t) => {
  if (!(await userNamespacesWork())) {
    t.skip('needs a user namespace to lower max_inotify_instances for the sidecar alone');
    return;
  }
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const dir = volume.dir;
  const app = await NamedApp.start(t, `limit-app-${process.pid}`);
  // In a user namespace of its own, one instance per user: the event loop's.
  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: dir, PROCESS_NAME: app.name },
    wrapper: ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 1 > /proc/sys/user/max_inotify_instances && exec "$0" "$@"'],
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const [line] = sidecar.messages('commit signal thread not started');
  assert.match(String(line?.['reason']), /EMFILE.*inotify_init1/, sidecar.transcript());
  assert.equal(sidecar.messages('ready')[0]?.['commit_signal'], false);
  volume.commit({ 'app.conf': 'v1' });
  await app.waitForSignals(1);
  assert.equal(sidecar.messages('reload sent')[0]?.['by'], undefined, 'sent by the event loop');
  assert.equal(sidecar.stderr.join(''), '', 'no stack trace');
});

test('a thread that cannot be created (EAGAIN, a pids limit) is one log line, with nothing left open', async (t) => {
  const shim = await buildFailingPthreadCreate(t);
  const { dir } = SyncVolume.create(t, { 'app.conf': 'v0' });
  const lib = (name: string): string => JSON.stringify(join(__dirname, '..', 'lib', 'sidecar', name));
  const script = `
    const { readdirSync, readlinkSync } = require('node:fs');
    const { CommitSignal } = require(${lib('commit-signal.js')});
    const { createLogger } = require(${lib('log.js')});
    const lines = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
    const descriptors = () => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } }).sort();
    const before = descriptors();
    process.env.CR_FAIL_PTHREAD_CREATE = '1';
    const started = CommitSignal.start([${JSON.stringify(dir)}], log);
    delete process.env.CR_FAIL_PTHREAD_CREATE;
    console.log(JSON.stringify({ started: started !== undefined, lines, leaked: descriptors().filter((d) => !before.includes(d)) }));
  `;
  const result = await runCommand(process.execPath, ['-e', script], { env: { ...process.env, LD_PRELOAD: shim } });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { started: boolean; lines: Record<string, unknown>[]; leaked: string[] };
  assert.equal(outcome.started, false);
  assert.equal(outcome.lines.length, 1, result.stdout);
  assert.equal(outcome.lines[0]?.['msg'], 'commit signal thread not started');
  assert.match(String(outcome.lines[0]?.['reason']), /EAGAIN.*pthread_create/);
  assert.deepEqual(outcome.leaked, [], 'neither the inotify descriptor nor the eventfd stays open');
});
