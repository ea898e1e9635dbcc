import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import { catchesSignal, ignoresSignal, listProcesses, type ProcessInfo, readProcess } from '../lib/proc';
import { maskHas } from '../lib/proc-parse';
import { describeResult, runCommand, spawnTracked, waitForExit } from './helpers/child-process';
import { copyPackageReadableByAll } from './helpers/package-copy';
import { startSignalRecorder } from './helpers/signal-recorder';
import { waitFor } from './helpers/wait-for';

const SIGHUP = 1;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'proc-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Waits until the child has exec'd `comm` (a wrapper like setpriv runs first under the same pid). */
function waitForExec(pid: number, comm: string): Promise<ProcessInfo> {
  return waitFor(`pid ${pid} to exec ${comm}`, () => {
    const info = readProcess(pid);
    return info !== undefined && info.comm === comm ? info : undefined;
  });
}

describe('readProcess on live processes', () => {
  it('describes the calling process', () => {
    const self = readProcess(process.pid);
    assert.ok(self !== undefined);
    assert.equal(self.pid, process.pid);
    assert.equal(self.ppid, process.ppid);
    assert.equal(self.exe, process.execPath);
    assert.equal(self.exeName, basename(process.execPath));
    assert.equal(self.uid, process.getuid?.());
    assert.equal(self.effectiveUid, process.geteuid?.());
    assert.equal(self.kernelThread, false);
    assert.ok(self.argv.length > 0);
    assert.ok(self.startTime > 0);
  });

  it('names a process with a long executable name by argv0Name and exeName, though comm keeps only 15 bytes', async (t) => {
    const name = 'proc-test-long-executable-name';
    const path = join(tempDir(t), name);
    copyFileSync('/bin/sleep', path);
    const child = await spawnTracked(t, path, ['100']);
    const info = await waitForExec(child.pid, name.slice(0, 15));
    assert.equal(info.comm, 'proc-test-long-');
    assert.deepEqual(info.argv, [path, '100']);
    assert.equal(info.argv0Name, name);
    assert.equal(info.exe, path);
    assert.equal(info.exeName, name);
    assert.equal(info.ppid, process.pid);
  });

  it('strips " (deleted)" from the executable of a process whose binary was removed', async (t) => {
    const name = 'proc-test-deleted-binary';
    const path = join(tempDir(t), name);
    copyFileSync('/bin/sleep', path);
    const child = await spawnTracked(t, path, ['100']);
    await waitForExec(child.pid, name.slice(0, 15));
    unlinkSync(path);
    const info = readProcess(child.pid);
    assert.equal(info?.exe, path);
    assert.equal(info?.exeName, name);
  });

  it('reports the uid of a child running as nobody (setpriv --reuid=65534)', async (t) => {
    const child = await spawnTracked(t, NOBODY[0] ?? 'setpriv', [...NOBODY.slice(1), 'sleep', '100']);
    // setpriv itself runs as root under this pid until it execs sleep.
    const info = await waitFor('the child to run sleep as uid 65534', () => {
      const current = readProcess(child.pid);
      return current?.comm === 'sleep' && current.uid === 65534 ? current : undefined;
    });
    assert.equal(info.effectiveUid, 65534);
    // We are root, so the other user's exe is readable.
    assert.equal(info.exeName, 'sleep');
  });

  it('leaves exeName undefined when the reader lacks ptrace access to the process (nobody reading a root process)', async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test starts a root-owned process and reads it as nobody');
    const name = 'proc-test-root-owned-process';
    const path = join(tempDir(t), name);
    copyFileSync('/bin/sleep', path);
    const child = await spawnTracked(t, path, ['100']);
    await waitForExec(child.pid, name.slice(0, 15));

    const root = copyPackageReadableByAll(t);
    const script = `
      const { readProcess } = require(${JSON.stringify(join(root, 'dist', 'lib', 'proc.js'))});
      const info = readProcess(${child.pid});
      process.stdout.write(JSON.stringify(info, (key, value) => typeof value === 'bigint' ? value.toString() : value));
    `;
    const result = await runCommand(NOBODY[0] ?? 'setpriv', [...NOBODY.slice(1), process.execPath, '-e', script]);
    assert.equal(result.code, 0, describeResult(result));
    const seen = JSON.parse(result.stdout) as { comm: string; argv0Name: string; exeName?: string; exe?: string; uid: number };
    assert.equal(seen.exeName, undefined, 'exe of a root process must be unreadable for nobody');
    assert.equal(seen.exe, undefined);
    // Everything else stays readable, so the process can still be found by argv[0].
    assert.equal(seen.comm, 'proc-test-root-');
    assert.equal(seen.argv0Name, name);
    assert.equal(seen.uid, 0);
  });

  it('shows whether a node process has installed a SIGHUP handler (SigCgt)', async (t) => {
    const [withHandler, without] = await Promise.all([
      startSignalRecorder(t, { handle: ['SIGHUP'] }),
      startSignalRecorder(t, { handle: [] }),
    ]);
    const caught = await waitFor('SIGHUP in the SigCgt of the recorder with a handler', () => {
      const info = readProcess(withHandler.pid);
      return info !== undefined && catchesSignal(info, SIGHUP) ? info : undefined;
    });
    assert.equal(ignoresSignal(caught, SIGHUP), false);
    const plain = readProcess(without.pid);
    assert.ok(plain !== undefined);
    assert.equal(catchesSignal(plain, SIGHUP), false);
    assert.equal(ignoresSignal(plain, SIGHUP), false);
  });

  it('shows a signal set to SIG_IGN (nohup) as ignored, not caught', async (t) => {
    const child = await spawnTracked(t, 'nohup', ['sleep', '100'], { cwd: tempDir(t) });
    const info = await waitForExec(child.pid, 'sleep');
    assert.equal(ignoresSignal(info, SIGHUP), true);
    assert.equal(catchesSignal(info, SIGHUP), false);
  });

  it('shows a signal sent to a stopped process as pending until it continues', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP'] });
    process.kill(recorder.pid, 'SIGSTOP');
    await waitFor('the recorder to stop', () => readProcess(recorder.pid)?.state === 'T');
    process.kill(recorder.pid, 'SIGHUP');
    const stopped = await waitFor('SIGHUP pending at the stopped recorder', () => {
      const info = readProcess(recorder.pid);
      return info !== undefined && maskHas(info.signals.pending, SIGHUP) ? info : undefined;
    });
    assert.deepEqual(recorder.received, []);
    assert.equal(stopped.state, 'T');
    process.kill(recorder.pid, 'SIGCONT');
    await recorder.waitForSignal('SIGHUP');
  });

  it('returns undefined for a pid that no longer exists (a reaped child)', async () => {
    const child = spawn('true', [], { stdio: 'ignore' });
    const exit = await waitForExit(child);
    assert.equal(exit.code, 0);
    assert.ok(child.pid !== undefined);
    assert.equal(readProcess(child.pid), undefined);
  });

  it('returns undefined, never an error, for a pid no process has ever had', () => {
    // Pids are allocated below pid_max.
    assert.equal(readProcess(Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'))), undefined);
  });
});

describe('listProcesses on live processes', () => {
  it('sees a tree of children with their ppid relationships', async (t) => {
    const name = 'proc-test-tree-leaf';
    const path = join(tempDir(t), name);
    copyFileSync('/bin/sleep', path);
    // A process group of its own, so cleanup reaches the leaves, which outlive a killed shell.
    const shell = await spawnTracked(t, 'sh', ['-c', `"${path}" 100 & "${path}" 100 & wait`], { detached: true });
    t.after(() => {
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {
        // The whole group has exited already.
      }
    });
    const leaves = await waitFor('two leaves under the shell', () => {
      const found = listProcesses().filter((info) => info.ppid === shell.pid && info.exeName === name);
      return found.length === 2 ? found : undefined;
    });
    const all = listProcesses();
    const byPid = new Map(all.map((info) => [info.pid, info]));
    assert.equal(byPid.get(shell.pid)?.ppid, process.pid);
    assert.equal(byPid.get(shell.pid)?.comm, 'sh');
    assert.equal(byPid.get(process.pid)?.exe, process.execPath);
    for (const leaf of leaves) {
      assert.equal(leaf.argv0Name, name);
      assert.deepEqual(leaf.argv, [path, '100']);
    }
    const pids = all.map((info) => info.pid);
    assert.deepEqual(pids, [...pids].sort((a, b) => a - b), 'ascending pid order');
  });

  it('lists a zombie with an empty argv and no executable', async (t) => {
    // The exec'd sleep never reaps its backgrounded child, which stays a zombie.
    const parent = await spawnTracked(t, 'sh', ['-c', 'sleep 0 & exec sleep 100']);
    const zombie = await waitFor('a zombie child of the sleep', () =>
      listProcesses().find((info) => info.ppid === parent.pid && info.state === 'Z'),
    );
    assert.equal(zombie.comm, 'sleep');
    assert.deepEqual(zombie.argv, []);
    assert.equal(zombie.argv0Name, undefined);
    assert.equal(zombie.exeName, undefined);
    assert.equal(zombie.kernelThread, false);
  });

  it('includes kernel threads, marked and without argv, when the PID namespace shows them', (t) => {
    const kthreadd = listProcesses().find((info) => info.pid === 2 && info.comm === 'kthreadd');
    if (kthreadd === undefined) {
      t.skip('this PID namespace shows no kernel threads (a container)');
      return;
    }
    assert.equal(kthreadd.kernelThread, true);
    assert.deepEqual(kthreadd.argv, []);
    assert.equal(kthreadd.exeName, undefined);
  });
});

describe('readProcess and listProcesses on a constructed /proc', () => {
  const stat = (pid: number, comm: string, ppid: number): string =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 422 0 1 0 0 0 0 0 20 0 1 0 50953 10502144 1687 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
  const status = (uid: number): string =>
    `Name:\tx\nState:\tS (sleeping)\nPPid:\t1\nThreads:\t1\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n` +
    `SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000001\n`;

  function fakeProcess(root: string, pid: number, files: { stat?: string; status?: string; cmdline?: string; exe?: string }): void {
    const dir = join(root, String(pid));
    mkdirSync(dir);
    if (files.stat !== undefined) writeFileSync(join(dir, 'stat'), files.stat);
    if (files.status !== undefined) writeFileSync(join(dir, 'status'), files.status);
    if (files.cmdline !== undefined) writeFileSync(join(dir, 'cmdline'), files.cmdline, 'latin1');
    if (files.exe !== undefined) symlinkSync(files.exe, join(dir, 'exe'));
  }

  it('reads every field, stripping " (deleted)" from exe and merging both pending masks', (t) => {
    const root = tempDir(t);
    fakeProcess(root, 42, {
      stat: stat(42, 'nginx', 1),
      status: status(101),
      cmdline: `nginx: master process /usr/sbin/nginx\0`,
      exe: '/usr/sbin/nginx (deleted)',
    });
    assert.deepEqual(readProcess(42, root), {
      pid: 42,
      ppid: 1,
      comm: 'nginx',
      argv: ['nginx', 'master', 'process', '/usr/sbin/nginx'],
      argv0Name: 'nginx',
      exe: '/usr/sbin/nginx',
      exeName: 'nginx',
      uid: 101,
      effectiveUid: 101,
      startTime: 50953,
      state: 'S',
      kernelThread: false,
      signals: { caught: 1n, ignored: 0x1000n, blocked: 0n, pending: 0x100n },
    });
  });

  it('returns undefined when the process vanishes between reads (stat read, status gone)', (t) => {
    const root = tempDir(t);
    fakeProcess(root, 7, { stat: stat(7, 'app', 1) });
    assert.equal(readProcess(7, root), undefined);
    assert.equal(readProcess(8, root), undefined);
  });

  it('lists only numeric entries and leaves out processes that vanished', (t) => {
    const root = tempDir(t);
    fakeProcess(root, 300, { stat: stat(300, 'app', 1), status: status(0), cmdline: 'app\0' });
    fakeProcess(root, 20, { stat: stat(20, 'init', 0), status: status(0), cmdline: 'init\0' });
    fakeProcess(root, 21, { stat: stat(21, 'gone', 1) });
    mkdirSync(join(root, 'sys'));
    symlinkSync('300', join(root, 'self'));
    assert.deepEqual(
      listProcesses(root).map((info) => [info.pid, info.comm, info.exeName]),
      [
        [20, 'init', undefined],
        [300, 'app', undefined],
      ],
    );
  });
});
