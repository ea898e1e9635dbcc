import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';

import { hasCode } from '../lib/errors';
import { readProcess } from '../lib/proc';
import { maskHas } from '../lib/proc-parse';
import { openProcess, ProcessHandle } from '../lib/process-handle';
import { signalProcess } from '../lib/signal-process';
import type { SignalProcessOptions } from '../lib/process-target';
import { InvalidSignalError } from '../lib/signals';
import { describeResult, runCommand, spawnTracked } from './helpers/child-process';
import { addedDescriptors, openDescriptors } from './helpers/descriptors';
import { assertSystemError, libraryScript, runLibraryScript } from './helpers/library-script';
import { PACKAGE_ROOT } from './helpers/package-copy';
import { buildLeaderExits, runWherePidfdOpenFails } from './helpers/seccomp';
import { assertReceivedOnly, startSignalRecorder, targetOf } from './helpers/signal-recorder';
import { waitFor } from './helpers/wait-for';

const SIGHUP = constants.signals.SIGHUP;
const SIGUSR1 = constants.signals.SIGUSR1;
const METHODS = ['auto', 'pidfd', 'kill'] as const;
/** What the scripts run in child processes use of the library. */
const HANDLE_IMPORTS = { 'process-handle': ['openProcess'], proc: ['readProcess'], native: ['native'] };
type Method = (typeof METHODS)[number];

function syscallOf(method: Method): string {
  return method === 'kill' ? 'kill' : 'pidfd_send_signal';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens a handle that is closed when the test ends, however it ends. */
function openTracked(t: TestContext, pid: number, options?: SignalProcessOptions): ProcessHandle {
  const info = targetOf(pid);
  const handle = openProcess({ pid: info.pid, startTime: info.startTime }, options);
  t.after(() => handle.close());
  return handle;
}

// A node process that changes what its /proc/<pid>/status shows only when
// told to, one stdin line per change, and acknowledges each once it is done.
const CONTROLLED_SCRIPT = `
require('node:readline').createInterface({ input: process.stdin }).on('line', (command) => {
  if (command === 'install SIGHUP handler') process.on('SIGHUP', () => {});
  if (command === 'rename') process.title = 'renamed-target';
  process.stdout.write('done ' + command + '\\n');
});
process.stdout.write('ready\\n');
`;

interface ControlledProcess {
  readonly pid: number;
  /** Sends a command and resolves once the process has carried it out. */
  tell(command: 'install SIGHUP handler' | 'rename'): Promise<void>;
}

async function startControlled(t: TestContext): Promise<ControlledProcess> {
  const child = await spawnTracked(t, process.execPath, ['-e', CONTROLLED_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const { stdin, stdout } = child;
  assert.ok(stdin !== null && stdout !== null);
  createInterface({ input: stdout }).on('line', (line) => lines.push(line));
  await waitFor('the controlled process to start', () => lines.includes('ready'));
  return {
    pid: child.pid,
    async tell(command): Promise<void> {
      stdin.write(`${command}\n`);
      await waitFor(`the controlled process to ${command}`, () => lines.includes(`done ${command}`));
    },
  };
}

describe('ProcessHandle.status()', () => {
  it('reads the live process through the held descriptor: a SIGHUP handler installed after opening shows in caught', async (t) => {
    const target = await startControlled(t);
    const handle = openTracked(t, target.pid);
    assert.equal(maskHas(handle.status().signals.caught, SIGHUP), false, 'node catches no SIGHUP until told to');
    await target.tell('install SIGHUP handler');
    assert.equal(maskHas(handle.status().signals.caught, SIGHUP), true);
  });

  it('reports the name and state the process has at each call: a rename, SIGSTOP and SIGCONT show through the same handle', async (t) => {
    const target = await startControlled(t);
    const handle = openTracked(t, target.pid);
    // comm is the executable's basename, cut to TASK_COMM_LEN - 1 bytes.
    assert.equal(handle.status().name, basename(process.execPath).slice(0, 15));
    await waitFor('the idle target to sleep', () => handle.status().state === 'S');
    process.kill(target.pid, 'SIGSTOP');
    await waitFor('the target to stop', () => handle.status().state === 'T');
    process.kill(target.pid, 'SIGCONT');
    await waitFor('the target to sleep again', () => handle.status().state === 'S');
    await target.tell('rename');
    assert.equal(handle.status().name, 'renamed-target');
    assert.equal(handle.status().uid.real, process.getuid?.());
  });
});

describe('ProcessHandle.signal()', () => {
  it('delivers through the pidfd exactly the signals sent, again and again through the same handle', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] });
    const handle = openTracked(t, recorder.pid);
    assert.equal(handle.method, 'pidfd');
    // Standard signals do not queue: each must arrive before the next is sent, or two could merge into one.
    handle.signal(SIGHUP);
    await recorder.waitForSignal('SIGHUP', 1);
    handle.signal(SIGUSR1);
    await recorder.waitForSignal('SIGUSR1', 1);
    handle.signal(SIGHUP);
    await recorder.waitForSignal('SIGHUP', 2);
    for (const signo of [0, 32, 65, 1.5]) {
      assert.throws(() => handle.signal(signo), InvalidSignalError, String(signo));
    }
    await assertReceivedOnly(recorder, ['SIGHUP', 'SIGUSR1', 'SIGHUP']);
  });

  it("delivers through kill(2) with method 'kill', holding only the status descriptor", async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const before = openDescriptors();
    const handle = openTracked(t, recorder.pid, { method: 'kill' });
    assert.deepEqual(addedDescriptors(before, openDescriptors()), [`/proc/${recorder.pid}/status`]);
    assert.equal(handle.method, 'kill');
    handle.signal(SIGHUP);
    await recorder.waitForSignal('SIGHUP');
    handle.signal(SIGHUP);
    await recorder.waitForSignal('SIGHUP', 2);
    await assertReceivedOnly(recorder, ['SIGHUP', 'SIGHUP']);
  });
});

// Forks a child that execs sleep, prints its pid, and reaps it only after a
// line on stdin: perl has no SIGCHLD handler, so until then it stays a zombie.
const ZOMBIE_PARENT = `
$| = 1;
my $pid = fork // die "fork: $!";
if ($pid == 0) { exec 'sleep', '1000'; die "exec: $!" }
print "$pid\\n";
<STDIN>;
waitpid($pid, 0);
print "reaped\\n";
<STDIN>;
`;

describe('a handle on a process that has exited', () => {
  it('fails status() and signal() with ESRCH once the process has been reaped, with either method', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP'] });
    const handles = METHODS.map((method) => ({ method, handle: openTracked(t, recorder.pid, { method }) }));
    assert.equal((await recorder.stop()).signal, 'SIGKILL');
    for (const { method, handle } of handles) {
      const gone = /^ESRCH: process \d+ has exited; no signal was sent/;
      assert.throws(() => handle.status(), (error: Error) => assertSystemError(error, 'ESRCH', syscallOf(method), gone), method);
      assert.throws(() => handle.signal(SIGHUP), (error: Error) => assertSystemError(error, 'ESRCH', syscallOf(method), gone), method);
    }
  });

  it('fails status() with ESRCH naming the zombie while the parent has not reaped it, and again once it has', async (t) => {
    const parent = await spawnTracked(t, 'perl', ['-e', ZOMBIE_PARENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const { stdin, stdout } = parent;
    assert.ok(stdin !== null && stdout !== null);
    createInterface({ input: stdout }).on('line', (line) => lines.push(line));
    const pid = Number(await waitFor('the parent to fork', () => lines[0]));
    const viaPidfd = openProcess(targetOf(pid), { method: 'pidfd' });
    // Should the test fail before the kill below, the child must not outlive
    // it; through the pidfd this cannot hit a process that reuses its pid.
    t.after(() => {
      try {
        viaPidfd.signal(constants.signals.SIGKILL);
      } catch (error) {
        if (!hasCode(error, 'ESRCH')) throw error;
      } finally {
        viaPidfd.close();
      }
    });
    const viaKill = openTracked(t, pid, { method: 'kill' });
    const zombie = /^ESRCH: process \d+ has exited \(a zombie its parent has not reaped yet\); no signal was sent/;

    process.kill(pid, 'SIGKILL');
    const info = await waitFor('the child to become a zombie', () => {
      const current = readProcess(pid);
      return current?.state === 'Z' ? current : undefined;
    });
    assert.throws(() => viaPidfd.status(), (error: Error) => assertSystemError(error, 'ESRCH', 'pidfd_send_signal', zombie));
    assert.throws(() => viaKill.status(), (error: Error) => assertSystemError(error, 'ESRCH', 'kill', zombie));
    assert.throws(() => viaKill.signal(SIGHUP), (error: Error) => assertSystemError(error, 'ESRCH', 'kill', zombie));
    // The kernel accepts a pidfd signal to a zombie and discards it; the documented way to tell is status().
    viaPidfd.signal(SIGHUP);
    assert.throws(
      () => openProcess({ pid: info.pid, startTime: info.startTime }).close(),
      (error: Error) => assertSystemError(error, 'ESRCH', 'pidfd_send_signal', zombie),
    );

    stdin.write('reap\n');
    await waitFor('the parent to reap its child', () => lines.includes('reaped'));
    const gone = /^ESRCH: process \d+ has exited; no signal was sent/;
    assert.throws(() => viaPidfd.status(), (error: Error) => assertSystemError(error, 'ESRCH', 'pidfd_send_signal', gone));
    assert.throws(() => viaPidfd.signal(SIGHUP), (error: Error) => assertSystemError(error, 'ESRCH', 'pidfd_send_signal'));
  });
});

// In a fresh PID namespace the script runs as pid 1 and is the only thing
// forking (node starts its own threads before the first recorder), so
// writing N - 1 to ns_last_pid (root may, in its own namespace) makes the
// next fork get pid N: the pid of a process it has just reaped. The
// recorders are perl: single-threaded, so each takes exactly one pid.
const PID_REUSE_BODY = `
  const { spawn } = require('node:child_process');
  const { writeFileSync } = require('node:fs');
  const { createInterface } = require('node:readline');
  const until = (what, probe) => new Promise((resolve, reject) => {
    const deadline = Date.now() + 10000;
    const check = () => {
      if (probe()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out waiting for ' + what));
      else setTimeout(check, 5);
    };
    check();
  });
  const RECORDER = '$| = 1; for my $name (@ARGV) { $SIG{$name} = sub { print "$name\\\\n" } } print "ready\\\\n"; sleep while 1;';
  const startRecorder = async () => {
    const child = spawn('perl', ['-e', RECORDER, 'HUP', 'USR2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await until('a recorder to start', () => lines.includes('ready'));
    const received = () => lines.filter((line) => line !== 'ready');
    return { child, exited, received };
  };

  const victim = await startRecorder();
  const info = readProcess(victim.child.pid);
  const target = { pid: info.pid, startTime: info.startTime };
  const viaPidfd = openProcess(target, { method: 'pidfd' });
  const viaKill = openProcess(target, { method: 'kill' });
  viaPidfd.signal(${SIGHUP});
  await until('SIGHUP through the pidfd', () => victim.received().length === 1);
  viaKill.signal(${SIGHUP});
  await until('SIGHUP through kill', () => victim.received().length === 2);
  outcomes.victim = { result: { ...target, received: victim.received() } };

  // Start times count clock ticks of 10 ms: let one pass so the newcomer's
  // differs, which only the fresh openProcess below needs (the handles do not).
  await new Promise((resolve) => setTimeout(resolve, 30));
  victim.child.kill('SIGKILL');
  await victim.exited; // node reaps before 'exit': the pid is free
  writeFileSync('/proc/sys/kernel/ns_last_pid', String(target.pid - 1));
  const newcomer = await startRecorder();
  const now = readProcess(newcomer.child.pid);
  outcomes.newcomer = { result: { pid: now.pid, startTime: now.startTime, comm: now.comm } };

  const send = (handle) => {
    handle.signal(${SIGHUP});
    return 'sent';
  };
  attempt('pidfdStatus', () => viaPidfd.status().name);
  attempt('pidfdSignal', () => send(viaPidfd));
  attempt('killStatus', () => viaKill.status().name);
  attempt('killSignal', () => send(viaKill));
  attempt('reopen', () => openProcess(target).method);
  viaPidfd.close();
  viaKill.close();

  // The marker: once it has arrived, anything sent before it would have too.
  newcomer.child.kill('SIGUSR2');
  await until('the marker at the newcomer', () => newcomer.received().includes('USR2'));
  outcomes.newcomerReceived = { result: newcomer.received() };
  newcomer.child.kill('SIGKILL');
  await newcomer.exited;
`;

describe('a process whose main thread has exited while another thread runs', () => {
  it('is alive though /proc shows state Z: opened, read and signalled like any other, with either method', async (t) => {
    const program = await buildLeaderExits(t);
    const child = await spawnTracked(t, program, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const { stdout } = child;
    assert.ok(stdout !== null);
    createInterface({ input: stdout }).on('line', (line) => lines.push(line));
    await waitFor('the main thread to exit', () => readProcess(child.pid)?.state === 'Z');
    for (const [i, method] of METHODS.entries()) {
      const handle = openTracked(t, child.pid, { method });
      const status = handle.status();
      assert.equal(status.state, 'Z', method);
      assert.equal(status.threads, 2, method);
      handle.signal(SIGHUP);
      // One at a time: two SIGHUPs pending at once arrive as one.
      await waitFor(() => `HUP ${i + 1} through ${method} (got ${JSON.stringify(lines)})`, () => lines.filter((line) => line === 'HUP').length === i + 1);
    }
  });
});

describe('pid reuse', () => {
  it('cannot redirect a handle: the process that inherits the pid receives nothing and status() fails with ESRCH', async () => {
    assert.equal(process.getuid?.(), 0, 'a new PID namespace and writing ns_last_pid need root');
    const freshNamespace = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
    const outcomes = await runLibraryScript(freshNamespace, libraryScript(PACKAGE_ROOT, HANDLE_IMPORTS, PID_REUSE_BODY));
    const victim = outcomes['victim']?.result as { pid: number; startTime: number; received: string[] } | undefined;
    const newcomer = outcomes['newcomer']?.result as { pid: number; startTime: number; comm: string } | undefined;
    assert.ok(victim !== undefined && newcomer !== undefined, JSON.stringify(outcomes));
    assert.deepEqual(victim.received, ['HUP', 'HUP'], 'both handles reached the victim while it lived');
    // The premise: the pid really was reused.
    assert.equal(newcomer.pid, victim.pid, `the newcomer was meant to get pid ${victim.pid}: ${JSON.stringify(outcomes)}`);
    assert.notEqual(newcomer.startTime, victim.startTime);
    assert.deepEqual(outcomes['newcomerReceived'], { result: ['USR2'] }, 'only the marker reached the newcomer');

    const gone = /^ESRCH: process \d+ has exited; no signal was sent/;
    assertSystemError(outcomes['pidfdStatus'], 'ESRCH', 'pidfd_send_signal', gone);
    assertSystemError(outcomes['pidfdSignal'], 'ESRCH', 'pidfd_send_signal');
    assertSystemError(outcomes['killStatus'], 'ESRCH', 'kill', gone);
    assertSystemError(outcomes['killSignal'], 'ESRCH', 'kill', gone);
    assertSystemError(
      outcomes['reopen'],
      'ESRCH',
      'pidfd_send_signal',
      /has exited and its pid was reused by another process \(perl, started at \d+ clock ticks after boot, not \d+\)/,
    );
  });
});

describe('openProcess takes', () => {
  for (const kind of ['pid', 'ChildProcess'] as const) {
    it(`a ${kind}: whichever process has the pid at the call, its start time read then`, async (t) => {
      const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
      const handle = openProcess(kind === 'pid' ? recorder.pid : recorder.child);
      t.after(() => handle.close());
      assert.deepEqual([handle.pid, handle.startTime, handle.method], [recorder.pid, targetOf(recorder.pid).startTime, 'pidfd']);
      handle.signal('SIGHUP');
      await recorder.waitForSignal('SIGHUP');
      await assertReceivedOnly(recorder, ['SIGHUP']);
    });
  }

  it('a ProcessHandle: a second handle on the same process, with descriptors of its own that outlive the first', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const first = openTracked(t, recorder.pid);
    const before = openDescriptors();
    const second = openProcess(first);
    t.after(() => second.close());
    assert.deepEqual(addedDescriptors(before, openDescriptors()).sort(), [`/proc/${recorder.pid}/status`, 'anon_inode:[pidfd]']);
    assert.deepEqual([second.pid, second.startTime], [first.pid, first.startTime]);
    first.close();
    assert.equal(second.status().uid.real, process.getuid?.());
    second.signal('hup');
    await recorder.waitForSignal('SIGHUP');
    await assertReceivedOnly(recorder, ['SIGHUP']);
  });

  it('no closed handle: openProcess and signalProcess refuse it as its own status() and signal() do', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const handle = openProcess(recorder.pid);
    handle.close();
    const closed = new RegExp(`^Error: the handle on process ${recorder.pid} is closed$`);
    assert.throws(() => openProcess(handle), closed);
    assert.throws(() => signalProcess(handle, 'SIGHUP'), closed);
    assert.throws(() => handle.status(), closed);
    await assertReceivedOnly(recorder, []);
  });
});

describe('openProcess refuses', () => {
  it('a start time that does not match (the pid was reused), sending nothing and leaking no descriptor', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const info = targetOf(recorder.pid);
    const reused = (startTime: number): RegExp =>
      new RegExp(
        `^ESRCH: process ${info.pid} has exited and its pid was reused by another process ` +
          `\\(${escapeRegExp(info.comm)}, started at ${info.startTime} clock ticks after boot, not ${startTime}\\); ` +
          'no signal was sent',
      );
    const before = openDescriptors();
    for (const method of METHODS) {
      for (const startTime of [info.startTime - 1, info.startTime + 1]) {
        assert.throws(
          () => openProcess({ pid: info.pid, startTime }, { method }),
          (error: Error) => assertSystemError(error, 'ESRCH', syscallOf(method), reused(startTime)),
          `${method} ${startTime}`,
        );
      }
    }
    assert.deepEqual(openDescriptors(), before);
    await assertReceivedOnly(recorder, []);
  });

  it('a pid that no process has, with ESRCH and no descriptor leaked', () => {
    // Pids are allocated below pid_max, so this one is never in use.
    const pid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const before = openDescriptors();
    for (const method of ['auto', 'pidfd'] as const) {
      assert.throws(
        () => openProcess({ pid, startTime: 1 }, { method }),
        (error: Error) => assertSystemError(error, 'ESRCH', 'pidfd_open'),
        method,
      );
    }
    assert.throws(
      () => openProcess({ pid, startTime: 1 }, { method: 'kill' }),
      (error: Error) => assertSystemError(error, 'ESRCH', 'kill', /^ESRCH: process \d+ has exited; no signal was sent/),
    );
    assert.deepEqual(openDescriptors(), before);
  });

  it('pids kill(2) would read as process groups, bad start times and unknown methods, before opening anything', () => {
    const self = targetOf(process.pid);
    const before = openDescriptors();
    for (const method of METHODS) {
      for (const pid of [0, -1, 1.5, Number.NaN]) {
        assert.throws(
          () => openProcess({ pid, startTime: 1 }, { method }),
          /^RangeError: target.pid must be a positive whole number/,
          `${method} ${pid}`,
        );
      }
      for (const startTime of [-1, 0.5]) {
        assert.throws(() => openProcess({ pid: self.pid, startTime }, { method }), RangeError, `${method} ${startTime}`);
      }
    }
    const fromConfig: unknown = JSON.parse('{"method": "ptrace"}');
    assert.throws(
      () => openProcess(self, fromConfig as SignalProcessOptions),
      (error: Error) =>
        error instanceof TypeError && /options.method must be 'auto', 'pidfd' or 'kill', got "ptrace"/.test(error.message),
    );
    assert.deepEqual(openDescriptors(), before);
  });
});

describe('new ProcessHandle()', () => {
  it('is refused: only openProcess, which checks what the descriptors name, makes a handle', () => {
    const Constructor = ProcessHandle as unknown as new (...args: unknown[]) => unknown;
    assert.throws(
      () => new Constructor(Symbol('opened by openProcess'), { pid: process.pid, startTime: 0 }, 'kill', -1, -1),
      /^TypeError: a ProcessHandle comes from openProcess\(target\)/,
    );
  });
});

describe('ProcessHandle.close()', () => {
  for (const method of ['pidfd', 'kill'] as const) {
    it(`lends its descriptors, closes every one on close(), may be called again, and leaves a handle that refuses to act (method ${method})`, async (t) => {
      const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
      const before = openDescriptors();
      const handle = openTracked(t, recorder.pid, { method });
      const held = method === 'pidfd' ? ['anon_inode:[pidfd]', `/proc/${recorder.pid}/status`] : [`/proc/${recorder.pid}/status`];
      assert.deepEqual(addedDescriptors(before, openDescriptors()).sort(), held.sort());
      assert.equal(handle.closed, false);
      // The descriptors it lends are the ones it holds.
      assert.equal(handle.pidfd === -1 ? 'none' : readlinkSync(`/proc/self/fd/${handle.pidfd}`), method === 'pidfd' ? 'anon_inode:[pidfd]' : 'none');
      assert.equal(readlinkSync(`/proc/self/fd/${handle.statusFd}`), `/proc/${recorder.pid}/status`);

      handle.close();
      assert.equal(handle.pidfd, -1);
      assert.equal(handle.statusFd, -1);
      assert.deepEqual(openDescriptors(), before);
      assert.equal(handle.closed, true);
      handle.close();
      assert.deepEqual(openDescriptors(), before);

      const closed = new RegExp(`^Error: the handle on process ${recorder.pid} is closed$`);
      assert.throws(() => handle.status(), closed);
      assert.throws(() => handle.signal(SIGHUP), closed);
      await assertReceivedOnly(recorder, []);
    });
  }

  it('is done by a `using` declaration when the block ends', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP', 'SIGUSR2'] });
    const before = openDescriptors();
    const info = targetOf(recorder.pid);
    let escaped: ProcessHandle | undefined;
    {
      using handle = openProcess({ pid: info.pid, startTime: info.startTime });
      escaped = handle;
      assert.equal(addedDescriptors(before, openDescriptors()).length, 2);
    }
    assert.equal(escaped.closed, true);
    assert.deepEqual(openDescriptors(), before);
  });

  it('is done by the garbage collector for a handle dropped without it', async () => {
    const lib = JSON.stringify(join(PACKAGE_ROOT, 'dist', 'lib', 'process-handle.js'));
    const proc = JSON.stringify(join(PACKAGE_ROOT, 'dist', 'lib', 'proc.js'));
    const script = `
      const { readdirSync } = require('node:fs');
      const { openProcess } = require(${lib});
      const { readProcess } = require(${proc});
      const count = () => readdirSync('/proc/self/fd').length;
      (async () => {
        const before = count();
        (() => { openProcess(readProcess(process.pid)); })();
        const held = count() - before;
        for (let i = 0; i < 20 && count() > before; i++) {
          globalThis.gc();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        // Counted before process.stdout is touched: setting it up on a pipe opens a descriptor of its own.
        const outcome = JSON.stringify({ held, left: count() - before });
        process.stdout.write(outcome);
      })();
    `;
    const result = await runCommand(process.execPath, ['--expose-gc', '-e', script]);
    assert.equal(result.code, 0, describeResult(result));
    assert.deepEqual(JSON.parse(result.stdout), { held: 2, left: 0 });
  });
});

describe('where a seccomp filter denies pidfd_open', () => {
  // pidfd_open fails with ENOSYS on old kernels and under seccomp profiles
  // that predate it; some profiles answer EPERM instead.
  for (const errnoName of ['ENOSYS', 'EPERM'] as const) {
    it(`method 'auto' falls back to kill(2) when pidfd_open fails with ${errnoName}, and the signal arrives; 'pidfd' does not`, async (t) => {
      // The helper checks that the filter is really in force for the script.
      const { recorder, info, outcomes } = await runWherePidfdOpenFails(t, errnoName, HANDLE_IMPORTS, (target) =>
        `attempt('probe', () => native.pidfdOpen(process.pid));
         attempt('pidfd', () => openProcess(${target}, { method: 'pidfd' }).method);
         const handle = openProcess(${target}, { method: 'auto' });
         attempt('method', () => handle.method);
         attempt('name', () => handle.status().name);
         attempt('signal', () => {
           handle.signal(${SIGHUP});
           return 'sent';
         });
         handle.close();`);
      assert.equal(outcomes['pidfd']?.code, errnoName, JSON.stringify(outcomes));
      assert.deepEqual(outcomes['method'], { result: 'kill' });
      assert.deepEqual(outcomes['name'], { result: info.comm });
      assert.deepEqual(outcomes['signal'], { result: 'sent' });
      await recorder.waitForSignal('SIGHUP');
      await assertReceivedOnly(recorder, ['SIGHUP']);
    });
  }
});

describe('the package entry point', () => {
  it('exports openProcess and ProcessHandle, the same objects the module defines', async () => {
    const entry = (await import(join(PACKAGE_ROOT, 'dist', 'lib', 'index.js'))) as Record<string, unknown>;
    const module = (await import(join(PACKAGE_ROOT, 'dist', 'lib', 'process-handle.js'))) as Record<string, unknown>;
    assert.equal(typeof entry['openProcess'], 'function');
    assert.equal(entry['openProcess'], module['openProcess']);
    assert.equal(entry['ProcessHandle'], module['ProcessHandle']);
  });
});
