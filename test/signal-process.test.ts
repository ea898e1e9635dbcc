import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, it } from 'node:test';

import { catchesSignal, listProcesses, readProcess } from '../lib/proc';
import type { SignalTarget } from '../lib/process-target';
import { openProcess, type ProcessHandle } from '../lib/process-handle';
import { signalProcess } from '../lib/signal-process';
import { InvalidSignalError } from '../lib/signals';
import { spawnTracked, waitForExit } from './helpers/child-process';
import { openDescriptors } from './helpers/descriptors';
import { assertSystemError, libraryScript, runLibraryScript } from './helpers/library-script';
import { copyPackageReadableByAll, PACKAGE_ROOT } from './helpers/package-copy';
import { runWherePidfdOpenFails } from './helpers/seccomp';
import { assertReceivedOnly, startSignalRecorder, targetOf } from './helpers/signal-recorder';
import { waitFor } from './helpers/wait-for';

const SIGHUP = constants.signals.SIGHUP;
const SIGTERM = constants.signals.SIGTERM;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
/** What the scripts run in child processes use of the library. */
const SIGNALLER_IMPORTS = { 'signal-process': ['signalProcess'], native: ['native'] };

/** True only when A and B are the same type: a check the compiler makes. */
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** A pid no process has: pids are allocated below pid_max. */
function unusedPid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
}

describe('signalProcess takes', () => {
  it('a pid, a ChildProcess, a ProcessHandle or a { pid, startTime }, and each reaches the one process once', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const handle = openProcess(recorder.pid);
    t.after(() => handle.close());
    const targets = [['pid', recorder.pid], ['ChildProcess', recorder.child], ['ProcessHandle', handle], ['ProcessInfo', targetOf(recorder.pid)]] as const;
    for (const [i, [kind, target]] of targets.entries()) {
      assert.equal(signalProcess(target, SIGHUP), 'pidfd', kind);
      // One at a time: two SIGHUPs pending at once arrive as one.
      await recorder.waitForSignal('SIGHUP', i + 1);
    }
    await assertReceivedOnly(recorder, ['SIGHUP', 'SIGHUP', 'SIGHUP', 'SIGHUP']);
  });

  it('the signal by name in any form or by number, each read by parseSignal', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const forms = ['SIGHUP', 'HUP', 'hup', ' sighup\n', SIGHUP, String(SIGHUP)];
    for (const [i, form] of forms.entries()) {
      signalProcess(recorder.pid, form);
      await recorder.waitForSignal('SIGHUP', i + 1);
    }
    await assertReceivedOnly(recorder, forms.map(() => 'SIGHUP'));
  });

  it('a handle as it was opened: through kill(2) for a handle opened with it, and refuses another method', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const handle = openProcess(recorder.child, { method: 'kill' });
    t.after(() => handle.close());
    assert.equal(signalProcess(handle, 'SIGHUP'), 'kill');
    await recorder.waitForSignal('SIGHUP');
    assert.throws(
      () => signalProcess(handle, 'SIGHUP', { method: 'pidfd' }),
      /^TypeError: options.method is 'pidfd', but the handle on process \d+ signals through 'kill'$/,
    );
    await assertReceivedOnly(recorder, ['SIGHUP']);
  });

  it('a pid, a ProcessInfo or a ProcessHandle without loading node:child_process, which only a ChildProcess needs', async () => {
    // In a fresh node: this one loaded child_process long ago.
    const script = libraryScript(
      PACKAGE_ROOT,
      { 'signal-process': ['signalProcess'], 'process-handle': ['openProcess'], proc: ['readProcess'] },
      `
        const loaded = () => process.moduleLoadList.includes('NativeModule child_process');
        process.on('SIGUSR2', () => {});
        attempt('pid', () => signalProcess(process.pid, 'SIGUSR2'));
        attempt('ProcessInfo', () => signalProcess(readProcess(process.pid), 'SIGUSR2'));
        attempt('ProcessHandle', () => { const handle = openProcess(process.pid); try { return signalProcess(handle, 'SIGUSR2'); } finally { handle.close(); } });
        attempt('child_process loaded by then', loaded);
        const child = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' });
        attempt('ChildProcess', () => signalProcess(child, 'SIGTERM'));
      `,
    );
    const outcomes = await runLibraryScript([], script);
    assert.deepEqual(outcomes, {
      pid: { result: 'pidfd' },
      ProcessInfo: { result: 'pidfd' },
      ProcessHandle: { result: 'pidfd' },
      'child_process loaded by then': { result: false },
      ChildProcess: { result: 'pidfd' },
    });
  });

  it('is typed to return exactly the method used, pidfd or kill', () => {
    const exact: Exactly<ReturnType<typeof signalProcess>, 'pidfd' | 'kill'> = true;
    const handleMethod: Exactly<ProcessHandle['method'], 'pidfd' | 'kill'> = true;
    assert.deepEqual([exact, handleMethod], [true, true]);
  });
});

describe('signalProcess says clearly that a process is gone', () => {
  for (const method of ['auto', 'kill'] as const) {
    const syscall = method === 'kill' ? 'kill' : 'pidfd_open';

    it(`for a ChildProcess that has exited or was killed: ESRCH naming how, never a TypeError (method ${method})`, async () => {
      const exited = spawn('true', [], { stdio: 'ignore' });
      assert.deepEqual(await waitForExit(exited), { code: 0, signal: null });
      assert.throws(
        () => signalProcess(exited, 'HUP', { method }),
        (error: unknown) => assertSystemError(error, 'ESRCH', syscall, /^ESRCH: process \d+ has exited \(the child "true" exited with code 0\); no signal was sent/),
      );
      const killed = spawn('sleep', ['100'], { stdio: 'ignore' });
      killed.kill('SIGKILL');
      await waitForExit(killed);
      assert.throws(
        () => openProcess(killed, { method }),
        (error: unknown) => assertSystemError(error, 'ESRCH', syscall, /^ESRCH: process \d+ has exited \(the child "sleep" was killed by SIGKILL\)/),
      );
    });

    it(`for a ChildProcess that never started (no pid): ESRCH saying so (method ${method})`, async () => {
      const child = spawn('/nonexistent/config-reloader-test', [], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('error', resolve));
      assert.equal(child.pid, undefined);
      assert.throws(
        () => signalProcess(child, 'HUP', { method }),
        (error: unknown) => assertSystemError(error, 'ESRCH', syscall, /^ESRCH: the child "\/nonexistent\/config-reloader-test" has no process: it never started/),
      );
    });

    it(`for a pid no process has: ESRCH saying it has exited or never existed, leaking no descriptor (method ${method})`, () => {
      const before = openDescriptors();
      for (const attempt of [() => signalProcess(unusedPid(), 'HUP', { method }), () => openProcess(unusedPid(), { method })]) {
        assert.throws(attempt, (error: unknown) =>
          assertSystemError(error, 'ESRCH', syscall, /^ESRCH: process \d+ does not exist: it has exited, or never existed; no signal was sent/),
        );
      }
      assert.deepEqual(openDescriptors(), before);
    });
  }

  it('for what readProcess returns once a process is gone (undefined): ERR_INVALID_ARG_TYPE naming that cause, before any syscall', async () => {
    const child = spawn('true', [], { stdio: 'ignore' });
    await waitForExit(child);
    assert.ok(child.pid !== undefined);
    const gone = readProcess(child.pid);
    assert.equal(gone, undefined);
    const fromJavaScript = gone as unknown as number;
    for (const attempt of [() => signalProcess(fromJavaScript, 'HUP'), () => openProcess(fromJavaScript)]) {
      assert.throws(
        attempt,
        (error: Error) =>
          error instanceof TypeError &&
          (error as { code?: unknown }).code === 'ERR_INVALID_ARG_TYPE' &&
          /got undefined \(readProcess\(\) returns undefined for a process that has exited or never existed\)$/.test(error.message),
      );
    }
  });
});

describe('signalProcess delivers', () => {
  it('through a pidfd by default, and the process receives the signal once', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    assert.equal(signalProcess(targetOf(recorder.pid), SIGHUP), 'pidfd');
    await recorder.waitForSignal('SIGHUP');
    await assertReceivedOnly(recorder, ['SIGHUP']);
  });

  it("through kill(2) with method 'kill'", async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    assert.equal(signalProcess(targetOf(recorder.pid), SIGHUP, { method: 'kill' }), 'kill');
    await recorder.waitForSignal('SIGHUP');
    await assertReceivedOnly(recorder, ['SIGHUP']);
  });

  it("through a pidfd with method 'pidfd', a real-time signal included", async (t) => {
    // bash runs a trap as soon as `wait` is interrupted by the signal.
    const script = 'trap "echo got SIGRTMIN+3; kill $! 2>/dev/null; exit 0" RTMIN+3; while :; do sleep 1 & wait $!; done';
    const child = await spawnTracked(t, 'bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const info = await waitFor('bash to trap SIGRTMIN+3', () => {
      const current = readProcess(child.pid);
      return current !== undefined && catchesSignal(current, 37) ? current : undefined;
    });
    assert.equal(signalProcess(info, 37, { method: 'pidfd' }), 'pidfd');
    await waitFor('the trap to report SIGRTMIN+3', () => output === 'got SIGRTMIN+3\n');
    assert.deepEqual(await waitForExit(child), { code: 0, signal: null });
  });

  it('closes every pidfd it opens, whether sending succeeds or is refused', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGUSR2'] });
    const info = targetOf(recorder.pid);
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 50; i++) {
      assert.throws(() => signalProcess({ pid: info.pid, startTime: info.startTime + 1 }, SIGHUP), /ESRCH/);
      signalProcess(info, constants.signals.SIGWINCH);
    }
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });
});

describe('signalProcess refuses', () => {
  for (const method of ['pidfd', 'kill'] as const) {
    const syscall = method === 'pidfd' ? 'pidfd_send_signal' : 'kill';

    it(`a process whose start time differs (its pid was reused) and sends nothing (method ${method})`, async (t) => {
      const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
      const info = targetOf(recorder.pid);
      const stale: SignalTarget = { pid: info.pid, startTime: info.startTime - 1 };
      assert.throws(
        () => signalProcess(stale, SIGHUP, { method }),
        (error: unknown) =>
          assertSystemError(error, 'ESRCH', syscall, /process \d+ has exited and its pid was reused .*no signal was sent/),
      );
      await assertReceivedOnly(recorder, []);
    });

    it(`a zombie, whose signal would vanish (method ${method})`, async (t) => {
      // The exec'd sleep never reaps its backgrounded child.
      const parent = await spawnTracked(t, 'sh', ['-c', 'sleep 0 & exec sleep 100']);
      const zombie = await waitFor('a zombie child', () =>
        listProcesses().find((info) => info.ppid === parent.pid && info.state === 'Z'),
      );
      assert.throws(
        () => signalProcess(zombie, SIGTERM, { method }),
        (error: unknown) => assertSystemError(error, 'ESRCH', syscall, /zombie/),
      );
    });
  }

  it('with ESRCH a child that has exited and been reaped', async (t) => {
    const recorder = await startSignalRecorder(t);
    const info = targetOf(recorder.pid);
    await recorder.stop();
    assert.throws(
      () => signalProcess(info, SIGHUP),
      (error: unknown) => assertSystemError(error, 'ESRCH', 'pidfd_open'),
    );
    assert.throws(
      () => signalProcess(info, SIGHUP, { method: 'kill' }),
      (error: unknown) => assertSystemError(error, 'ESRCH', 'kill', /process \d+ has exited; no signal was sent/),
    );
  });

  it('pids that kill(2) would read as process groups, before any syscall', () => {
    for (const method of ['auto', 'pidfd', 'kill'] as const) {
      for (const pid of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => signalProcess({ pid, startTime: 1 }, SIGHUP, { method }), RangeError, `${method} ${pid}`);
      }
    }
    assert.throws(() => signalProcess({ pid: process.pid, startTime: -1 }, SIGHUP), RangeError);
  });

  it('unusable signal numbers and names, and unknown methods, before any syscall', () => {
    const self = targetOf(process.pid);
    const before = openDescriptors();
    for (const signal of [0, 32, 33, 65, 1.5, 'SIGFOO', '', 'RTMIN+40', 'SIGRTMIN + 1']) {
      assert.throws(() => signalProcess(self, signal), InvalidSignalError, String(signal));
      assert.throws(() => signalProcess(process.pid, signal), InvalidSignalError, String(signal));
    }
    assert.deepEqual(openDescriptors(), before);
    const fromConfig: unknown = JSON.parse('{"method": "ptrace"}');
    assert.throws(
      () => signalProcess(self, SIGHUP, fromConfig as { method: 'auto' }),
      /options.method must be 'auto', 'pidfd' or 'kill', got "ptrace"/,
    );
  });
});

describe('signalProcess across users and sandboxes', () => {
  it('fails with EPERM when an unprivileged signaller (uid 65534) targets a root process, and nothing arrives', async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test needs a root-owned target and setpriv');
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const info = targetOf(recorder.pid);
    const root = copyPackageReadableByAll(t);
    const target = JSON.stringify({ pid: info.pid, startTime: info.startTime });
    const outcomes = await runLibraryScript(
      NOBODY,
      libraryScript(
        root,
        SIGNALLER_IMPORTS,
        `attempt('uid', () => process.getuid());
         attempt('auto', () => signalProcess(${target}, ${SIGHUP}));
         attempt('kill', () => signalProcess(${target}, ${SIGHUP}, { method: 'kill' }));`,
      ),
    );
    assert.deepEqual(outcomes['uid'], { result: 65534 });
    assert.equal(outcomes['auto']?.code, 'EPERM', JSON.stringify(outcomes));
    assert.equal(outcomes['auto']?.syscall, 'pidfd_send_signal');
    assert.equal(outcomes['auto']?.errno, -constants.errno.EPERM);
    assert.equal(outcomes['kill']?.code, 'EPERM', JSON.stringify(outcomes));
    assert.equal(outcomes['kill']?.syscall, 'kill');
    await assertReceivedOnly(recorder, []);
  });

  it("fails with EPERM naming the target's uid and ours, and both fixes: uid 1001's process, signalled by uid 65534 and by root without CAP_KILL", async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test needs setpriv to run as other uids');
    const recorder = await startSignalRecorder(t, {
      handle: ['SIGHUP', 'SIGUSR2'],
      wrapper: ['setpriv', '--reuid=1001', '--regid=1001', '--clear-groups'],
    });
    assert.equal(targetOf(recorder.pid).uid, 1001);
    // The work tree may sit where uid 65534 cannot enter; the copy is readable by all.
    const root = copyPackageReadableByAll(t);
    const body = `
      attempt('uid', () => [process.getuid(), process.geteuid()]);
      attempt('auto', () => signalProcess(${recorder.pid}, 'HUP'));
      attempt('kill', () => signalProcess(${recorder.pid}, 'SIGHUP', { method: 'kill' }));
      const handle = openProcess(${recorder.pid});
      attempt('handle', () => handle.signal('hup'));
      handle.close();`;
    const script = libraryScript(root, { index: ['openProcess', 'signalProcess'] }, body);
    const senders = [
      { who: 'uid 65534', command: NOBODY, uid: 65534 },
      { who: 'root without CAP_KILL', command: ['setpriv', '--inh-caps=-all', '--bounding-set=-kill'], uid: 0 },
    ];
    for (const { who, command, uid } of senders) {
      const outcomes = await runLibraryScript(command, script);
      assert.deepEqual(outcomes['uid'], { result: [uid, uid] }, who);
      for (const [attempt, syscall] of [['auto', 'pidfd_send_signal'], ['kill', 'kill'], ['handle', 'pidfd_send_signal']] as const) {
        assertSystemError(
          outcomes[attempt],
          'EPERM',
          syscall,
          new RegExp(
            `^EPERM: operation not permitted, ${syscall}: cannot signal node \\(pid ${recorder.pid}, uid 1001\\); ` +
              `this process runs as uid ${uid} without CAP_KILL\\. .*Fix: run as uid 1001, or grant this process CAP_KILL$`,
          ),
        );
      }
    }
    await assertReceivedOnly(recorder, []);
  });

  // pidfd_open fails with ENOSYS on old kernels and under seccomp profiles
  // that predate it; some profiles answer EPERM instead.
  for (const errnoName of ['ENOSYS', 'EPERM'] as const) {
    it(`falls back to kill(2) when a seccomp filter makes pidfd_open fail with ${errnoName}, in 'auto' mode only`, async (t) => {
      // The helper checks that the filter is really in force for the signaller.
      const { recorder, outcomes } = await runWherePidfdOpenFails(t, errnoName, SIGNALLER_IMPORTS, (target) =>
        `attempt('probe', () => native.pidfdOpen(process.pid));
         attempt('pidfd', () => signalProcess(${target}, ${SIGHUP}, { method: 'pidfd' }));
         attempt('auto', () => signalProcess(${target}, ${SIGHUP}, { method: 'auto' }));`);
      // An explicit 'pidfd' does not fall back.
      assert.equal(outcomes['pidfd']?.code, errnoName);
      assert.deepEqual(outcomes['auto'], { result: 'kill' });
      await recorder.waitForSignal('SIGHUP');
      await assertReceivedOnly(recorder, ['SIGHUP']);
    });
  }
});
