// A handle on one process that pid reuse cannot redirect: a pidfd to signal
// it through, and its /proc/<pid>/status held open to read it through.
//
// A /proc/<pid> file descriptor stays bound to the process that had the pid
// when it was opened: once that process exits, reads fail with ESRCH, even
// after the kernel hands the number to another process. A pidfd behaves the
// same way for signals. Both are opened BEFORE the start time is checked,
// which proves they name the target (the argument is in signalProcess).
//
// Holding them is what makes a repeated reload cheap: the sidecar signals the
// same process every time, and each reload runs cold, when every system call
// and every code path not used for a while costs tens of microseconds
// (docs/benchmarks.md). Through a handle, checking the target's signal
// handler and sending the signal is one read and one pidfd_send_signal,
// instead of opening and re-checking /proc each time.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

import { hasCode } from './errors';
import { native } from './native';
import { parseStatus, type ProcStatus } from './proc-parse';
import {
  assertStillTarget,
  isExited,
  processGone,
  requestedMethod,
  resolveTarget,
  type SignalMethod,
  type SignalProcessOptions,
  type SignalTarget,
} from './process-target';
import { readRecordShared } from './read-file-shared';
import { signalPermissionError } from './signal-permission';
import { parseSignal } from './signals';

/**
 * A process, given any way a caller may hold one: a pid, a Node
 * ChildProcess, a ProcessHandle, or the { pid, startTime } of a ProcessInfo
 * or ProcessSummary. See {@link openProcess} for what each promises.
 */
export type ProcessTarget = number | ChildProcess | ProcessHandle | SignalTarget;

function syscallOf(method: SignalMethod): string {
  return method === 'pidfd' ? 'pidfd_send_signal' : 'kill';
}

// A handle dropped without close() would hold its descriptors for the life
// of the process; the garbage collector closes them instead, eventually.
const unclosed = new FinalizationRegistry<{ readonly pidfd: number; readonly statusFd: number }>(({ pidfd, statusFd }) => {
  try {
    if (pidfd >= 0) native.closeFd(pidfd);
    closeSync(statusFd);
  } catch {
    // Nothing to report to: the handle is gone.
  }
});

function closedHandle(pid: number): Error {
  return new Error(`the handle on process ${pid} is closed`);
}

// Only openProcess, which proves what the descriptors name, may make a handle.
const OPENED = Symbol('opened by openProcess');

/** An open handle on one process; see {@link openProcess}. Close it when done: it holds two file descriptors. */
export class ProcessHandle {
  readonly pid: number;
  readonly startTime: number;
  /** How {@link signal} delivers: `pidfd`, or `kill` where pidfds are unavailable. */
  readonly method: SignalMethod;
  #pidfd: number;
  #statusFd: number;

  /** Use {@link openProcess}: a handle made any other way is refused with a TypeError. */
  constructor(token: typeof OPENED, target: SignalTarget, method: SignalMethod, pidfd: number, statusFd: number) {
    if (token !== OPENED) throw new TypeError('a ProcessHandle comes from openProcess(target), not from new ProcessHandle()');
    this.pid = target.pid;
    this.startTime = target.startTime;
    this.method = method;
    this.#pidfd = pidfd;
    this.#statusFd = statusFd;
    unclosed.register(this, { pidfd, statusFd }, this);
  }

  get closed(): boolean {
    return this.#statusFd < 0;
  }

  /**
   * The pidfd, to poll for the process's exit (it becomes readable then) or
   * to hand to other code; -1 with method `kill` or once closed. Borrowed:
   * it stays open only until {@link close}, so duplicate it to keep it longer.
   */
  get pidfd(): number {
    return this.#pidfd;
  }

  /** The descriptor of /proc/<pid>/status (read it with pread at offset 0); -1 once closed. Borrowed, as {@link pidfd}. */
  get statusFd(): number {
    return this.#statusFd;
  }

  /**
   * Reads /proc/<pid>/status of this process now: its signal masks, uids,
   * name and state, fresh on every call.
   *
   * @throws {SystemError} ESRCH ("process N has exited") once the process
   *   has exited (a zombie included), whoever has its pid now.
   * @throws {Error} when the handle is closed.
   */
  status(): ProcStatus {
    if (this.closed) throw closedHandle(this.pid);
    let text: string;
    try {
      text = readRecordShared(this.#statusFd).toString('utf8');
    } catch (error) {
      if (hasCode(error, 'ESRCH')) throw processGone(this.pid, syscallOf(this.method), 'has exited');
      throw error;
    }
    const status = parseStatus(text);
    if (isExited(status)) throw processGone(this.pid, syscallOf(this.method), 'has exited (a zombie its parent has not reaped yet)');
    return status;
  }

  /**
   * Sends a signal, given by name (`'SIGHUP'`, `'HUP'`, `'hup'`) or number,
   * to this process. Through a pidfd it cannot reach another process; with
   * method `kill` it reads status first and sends only if the process is
   * still there, which leaves a window of microseconds in which a pid reuse
   * would go unnoticed (as in signalProcess).
   *
   * A zombie accepts a pidfd signal and discards it; {@link status} tells.
   *
   * @throws {SignalPermissionError} EPERM when this process may not signal
   *   it; the message names both uids and the fixes.
   * @throws {SystemError} ESRCH when the process has exited.
   * @throws {InvalidSignalError} when the signal is not a usable name or number.
   * @throws {Error} when the handle is closed.
   */
  signal(signal: string | number): void {
    const signo = parseSignal(signal).number;
    if (this.closed) throw closedHandle(this.pid);
    const syscall = syscallOf(this.method);
    // With kill(2) the status is read first, to send only while the process is there.
    const before = this.method === 'kill' ? this.status() : undefined;
    try {
      if (this.method === 'pidfd') native.pidfdSendSignal(this.#pidfd, signo);
      else native.kill(this.pid, signo);
    } catch (error) {
      if (hasCode(error, 'ESRCH')) throw processGone(this.pid, syscall, 'has exited');
      // status() throws ESRCH if the process exited after refusing: then that is the news.
      if (hasCode(error, 'EPERM')) throw signalPermissionError(syscall, this.pid, before ?? this.status());
      throw error;
    }
  }

  /**
   * {@link close}, for `using handle = openProcess(target)`: in TypeScript 5.2
   * and later on Node 20.4 and later, and in JavaScript on Node 24 and later
   * (see Inotify's [Symbol.dispose]).
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes both descriptors. Calling it again does nothing. */
  close(): void {
    if (this.closed) return;
    const pidfd = this.#pidfd;
    const statusFd = this.#statusFd;
    this.#pidfd = -1;
    this.#statusFd = -1;
    unclosed.unregister(this);
    try {
      if (pidfd >= 0) native.closeFd(pidfd);
    } finally {
      closeSync(statusFd);
    }
  }
}

/** The identity to open: a handle's own, or one resolved from the target. */
function identityOf(target: ProcessTarget, requested: 'auto' | SignalMethod): SignalTarget {
  if (target instanceof ProcessHandle) {
    if (target.closed) throw closedHandle(target.pid);
    return { pid: target.pid, startTime: target.startTime };
  }
  return resolveTarget(target, requested === 'kill' ? 'kill' : 'pidfd_open');
}

/**
 * Opens a handle on one process: a pidfd (where the kernel and any seccomp
 * filter allow pidfd_open, see signalProcess for `method`) and its
 * /proc/<pid>/status, then checks that the process still has the start
 * time of the target. Everything done through the handle afterwards reaches
 * that process or fails with ESRCH.
 *
 * The target:
 * - a ProcessInfo or ProcessSummary (any { pid, startTime }): the process
 *   the lookup saw, refused with ESRCH if it has exited since, even when
 *   another process has its pid now;
 * - a pid, or a Node ChildProcess: whichever process has that pid at the
 *   moment of the call, its start time read then. A pid is only as good as
 *   the moment it is read: keep the handle to reach the same process again,
 *   rather than opening the pid anew. A ChildProcess that has exited (exitCode
 *   or signalCode set) or never started (no pid) is refused with ESRCH;
 * - a ProcessHandle: a second handle on the same process, closed on its own.
 *
 * @throws {SystemError} ESRCH when the process has exited, is a zombie, its
 *   pid now belongs to another process, or no process has the pid; ENOSYS
 *   with method `pidfd` where pidfd_open is unavailable; EACCES when /proc
 *   hides the process (hidepid=noaccess).
 * @throws {RangeError} when a pid is not a positive whole number.
 * @throws {TypeError} when the target is none of the above (undefined, say:
 *   readProcess() returns that for a process that is gone), or the method unknown.
 * @throws {Error} when the target is a closed handle.
 */
export function openProcess(target: ProcessTarget, options: SignalProcessOptions = {}): ProcessHandle {
  const requested = requestedMethod(options);
  const identity = identityOf(target, requested);
  let pidfd = -1;
  let method: SignalMethod = requested === 'kill' ? 'kill' : 'pidfd';
  if (method === 'pidfd') {
    try {
      pidfd = native.pidfdOpen(identity.pid);
    } catch (error) {
      if (hasCode(error, 'ESRCH')) throw processGone(identity.pid, 'pidfd_open', 'has exited');
      // pidfd_open itself never fails with EPERM: that is a seccomp filter.
      if (requested !== 'auto' || !hasCode(error, 'ENOSYS', 'EPERM')) throw error;
      method = 'kill';
    }
  }
  const syscall = syscallOf(method);
  let statusFd = -1;
  try {
    try {
      statusFd = openSync(`/proc/${identity.pid}/status`, 'r');
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ESRCH')) throw processGone(identity.pid, syscall, 'has exited');
      throw error;
    }
    assertStillTarget(identity, syscall);
  } catch (error) {
    if (pidfd >= 0) native.closeFd(pidfd);
    if (statusFd >= 0) closeSync(statusFd);
    throw error;
  }
  return new ProcessHandle(OPENED, identity, method, pidfd, statusFd);
}
