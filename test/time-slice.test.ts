// Time slices through the real sched_setattr(2)/sched_getattr(2): what a
// thread asks for is what the kernel then reports for it, to itself and to
// other processes, and what the kernel would refuse is refused with a reason.
// Each change is made in a child process, never in the test runner.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { getTimeSlice, MAX_TIME_SLICE_NS, MIN_TIME_SLICE_NS, setTimeSlice } from '../lib/time-slice';
import { libraryScript, runLibraryScript } from './helpers/library-script';
import { SidecarProcess } from './helpers/sidecar-process';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

const ROOT = join(__dirname, '..', '..');
const IMPORTS = { 'time-slice': ['getTimeSlice', 'setTimeSlice'] } as const;

// Linux 6.12 and later report every fair thread's slice; before, none. Every
// test below needs the kernel to take requests, and says so when it cannot.
const DEFAULT_NS = getTimeSlice();
const skip = DEFAULT_NS === 0 ? 'this kernel has no per-thread time slices (Linux 6.12 and later have)' : false;

/** A process that sleeps until killed, with its default slice, once any wrapper (nice, setpriv) has exec'd sleep. */
async function sleeper(t: { after(fn: () => void): void }, command: readonly string[] = []): Promise<number> {
  const [file, ...args] = [...command, 'sleep', '60'];
  const child = spawn(file ?? 'sleep', args, { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid;
  if (pid === undefined) throw new Error('sleep did not start');
  await waitFor(`process ${pid} to exec sleep`, () => readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n');
  return pid;
}

test('a thread asks for a shorter slice, other processes read it, and 0 gives the default back', { skip }, async () => {
  const outcomes = await runLibraryScript([], libraryScript(ROOT, IMPORTS, `
    attempt('before', () => getTimeSlice());
    attempt('set', () => setTimeSlice(300000));
    // Read from outside, as a sidecar's operator would: another process, this thread's id.
    attempt('seen from another process', () => Number(require('node:child_process').execFileSync(process.execPath, [
      '-p', 'require(' + JSON.stringify(${JSON.stringify(join(ROOT, 'dist', 'lib', 'time-slice.js'))}) + ').getTimeSlice(' + process.pid + ')',
    ]).toString()));
    attempt('reset', () => setTimeSlice(0));
  `));
  assert.equal(outcomes['before']?.result, DEFAULT_NS);
  assert.equal(outcomes['set']?.result, 300_000);
  assert.equal(outcomes['seen from another process']?.result, 300_000);
  assert.equal(outcomes['reset']?.result, DEFAULT_NS);
});

test("another process's thread can be given a slice, and its nice value stays as it was", { skip }, async (t) => {
  const pid = await sleeper(t, ['nice', '-n', '7']);
  assert.equal(setTimeSlice(MIN_TIME_SLICE_NS, pid), MIN_TIME_SLICE_NS);
  assert.equal(getTimeSlice(pid), MIN_TIME_SLICE_NS);
  // Field 19 of stat is the nice value: a request that reset it to 0 would raise the thread's weight.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  assert.equal(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16], '7', stat);
});

test('slices outside 0.1-100 ms, fractions and non-numbers are refused before any system call', async (t) => {
  const pid = await sleeper(t);
  const before = getTimeSlice(pid);
  for (const bad of [MIN_TIME_SLICE_NS - 1, MAX_TIME_SLICE_NS + 1, 150_000.5, Number.NaN, -1]) {
    assert.throws(() => setTimeSlice(bad, pid), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /from 100000 \(0\.1 ms\) to 100000000 \(100 ms\)/);
      assert.ok(error.message.endsWith(`got ${String(bad)}`), error.message);
      return true;
    });
  }
  assert.equal(getTimeSlice(pid), before, 'nothing was changed');
});

test('a real-time thread is refused with ERR_SCHED_POLICY, naming its policy', { skip }, async () => {
  const outcomes = await runLibraryScript(['chrt', '--fifo', '1'], libraryScript(ROOT, IMPORTS, `
    attempt('set', () => setTimeSlice(200000));
  `));
  assert.equal(outcomes['set']?.code, 'ERR_SCHED_POLICY');
  assert.match(String(outcomes['set']?.message), /runs under SCHED_FIFO; time slices apply to SCHED_OTHER and SCHED_BATCH threads only/);
});

test("another user's thread is refused with EPERM, and a thread that does not exist with ESRCH", { skip }, async (t) => {
  const rootsThread = await sleeper(t);
  const outcomes = await runLibraryScript(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], libraryScript(ROOT, IMPORTS, `
    attempt('root', () => setTimeSlice(200000, ${rootsThread}));
    attempt('own', () => setTimeSlice(200000));
  `));
  assert.equal(outcomes['root']?.code, 'EPERM', JSON.stringify(outcomes));
  assert.equal(outcomes['root']?.syscall, 'sched_setattr');
  assert.equal(outcomes['own']?.result, 200_000, 'its own thread needs no privilege');
  assert.notEqual(getTimeSlice(rootsThread), 200_000);
  assert.throws(() => getTimeSlice(2 ** 22 + 1), { code: 'ESRCH', syscall: 'sched_getattr' });
});

function configDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'time-slice-'));
  writeFileSync(join(dir, 'app.conf'), 'v1\n');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the sidecar's event loop runs in 100 µs slices by default, and TIME_SLICE=0 leaves the kernel's", { skip }, async (t) => {
  for (const [env, expected] of [[{}, 100_000], [{ TIME_SLICE: '0' }, DEFAULT_NS], [{ TIME_SLICE: '0.5ms' }, 500_000]] as const) {
    const sidecar = new SidecarProcess({ env: { CONFIG_DIR: configDir(t), PROCESS_NAME: 'nothing-here', ...env } });
    t.after(() => sidecar.stop());
    await sidecar.waitForMessage('ready');
    const pid = sidecar.child.pid ?? 0;
    assert.equal(getTimeSlice(pid), expected, `${JSON.stringify(env)}\n${sidecar.transcript()}`);
    assert.equal(sidecar.messages('time slice not shortened').length, 0, sidecar.transcript());
    await sidecar.stop();
  }
});

test('on a kubelet volume the commit signal thread runs in the same short slices as the event loop', { skip }, async (t) => {
  const { dir } = SyncVolume.create(t, { 'app.conf': 'v0' });
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: 'nothing-here' } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const pid = sidecar.child.pid ?? 0;
  const tasks = readdirSync(`/proc/${pid}/task`).filter((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8') === 'commit-signal\n');
  assert.equal(tasks.length, 1, 'one commit signal thread');
  assert.equal(getTimeSlice(Number(tasks[0])), MIN_TIME_SLICE_NS);
});

test('a sidecar whose slice the kernel will not shorten says why in one line and works on', { skip }, async (t) => {
  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: configDir(t), PROCESS_NAME: 'nothing-here' },
    wrapper: ['chrt', '--rr', '1'],
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const lines = sidecar.messages('time slice not shortened');
  assert.equal(lines.length, 1, sidecar.transcript());
  assert.equal(lines[0]?.['level'], 'info');
  assert.match(String(lines[0]?.['reason']), /runs under SCHED_RR/);
  assert.match(String(lines[0]?.['fix']), /TIME_SLICE=0/);
  assert.equal(sidecar.stderr.join(''), '', 'no stack trace');
});
