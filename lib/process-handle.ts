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
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';

import { hasCode, type SystemError } from './errors';
import { native } from './native';
import { parseStat, parseStatus, type ProcStatus } from './proc-parse';
import { readDescriptorShared, readFileShared } from './read-file-shared';
import type { SignalMethod, SignalProcessOptions, SignalTarget } from './signal-process';
import { parseSignal } from './signals';

const METHODS: ReadonlySet<string> = new Set(['auto', 'pidfd', 'kill']);

/** The ESRCH error of a target that is gone, shaped like Node's and the addon's errors. */
function processGone(target: SignalTarget, syscall: string, what: string): SystemError {
  return Object.assign(new Error(`ESRCH: process ${target.pid} ${what}; no signal was sent, ${syscall}`), {
    code: 'ESRCH',
    // Negative, as in the errors Node and the addon throw.
    errno: -constants.errno.ESRCH,
    syscall,
  });
}

// A zombie (exited, not yet reaped by its parent) still has its /proc entry
// and accepts signals, but discards them: for a sender it is gone. State Z
// with other threads still running is not one: the main thread called
// pthread_exit, and the process lives on and handles signals. (While the
// whole process is exiting, its other threads are counted for a few
// microseconds more; a signal sent then is lost with the process.)
function isExited(process: { readonly state: string; readonly threads: number }): boolean {
  return (process.state === 'Z' || process.state === 'X') && process.threads <= 1;
}

/**
 * Throws ESRCH unless /proc/<pid>/stat still shows the target: same start
 * time and not yet exited.
 */
function assertStillTarget(target: SignalTarget, syscall: string): void {
  let text: string;
  try {
    text = readFileShared(`/proc/${target.pid}/stat`).toString('utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) throw processGone(target, syscall, 'has exited');
    throw error;
  }
  const stat = parseStat(text);
  if (stat.startTime !== target.startTime) {
    throw processGone(
      target,
      syscall,
      `has exited and its pid was reused by another process (${stat.comm}, started at ${stat.startTime} ` +
        `clock ticks after boot, not ${target.startTime})`,
    );
  }
  if (isExited(stat)) throw processGone(target, syscall, 'has exited (a zombie its parent has not reaped yet)');
}

function validateTarget(target: SignalTarget): void {
  // kill(2) reads pid 0 as "my process group" and -1 as "every process I
  // may signal": neither may ever come from a lookup that went wrong.
  if (!Number.isSafeInteger(target.pid) || target.pid <= 0) {
    throw new RangeError(`target.pid must be a positive whole number, got ${String(target.pid)}`);
  }
  if (!Number.isSafeInteger(target.startTime) || target.startTime < 0) {
    throw new RangeError(`target.startTime must be a whole number of clock ticks, got ${String(target.startTime)}`);
  }
}

/** Throws unless signo is a usable signal number, before any system call. */
export function validateSignal(signo: number): void {
  if (typeof signo !== 'number') throw new TypeError(`signo must be a number, got ${typeof signo}`);
  parseSignal(signo);
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

  #syscall(): string {
    return this.method === 'pidfd' ? 'pidfd_send_signal' : 'kill';
  }

  /**
   * Reads /proc/<pid>/status of this process now: its signal masks, uids,
   * name and state, fresh on every call.
   *
   * @throws {SystemError} ESRCH once the process has exited (a zombie
   *   included), whoever has its pid now.
   * @throws {Error} when the handle is closed.
   */
  status(): ProcStatus {
    if (this.closed) throw new Error(`the handle on process ${this.pid} is closed`);
    let text: string;
    try {
      text = readDescriptorShared(this.#statusFd).toString('utf8');
    } catch (error) {
      if (hasCode(error, 'ESRCH')) throw processGone(this, this.#syscall(), 'has exited');
      throw error;
    }
    const status = parseStatus(text);
    if (isExited(status)) throw processGone(this, this.#syscall(), 'has exited (a zombie its parent has not reaped yet)');
    return status;
  }

  /**
   * Sends signal `signo` to this process. Through a pidfd it cannot reach
   * another process; with method `kill` it reads status first and sends
   * only if the process is still there, which leaves a window of
   * microseconds in which a pid reuse would go unnoticed (as in
   * signalProcess).
   *
   * A zombie accepts a pidfd signal and discards it; {@link status} tells.
   *
   * @throws {SystemError} ESRCH when the process has exited, EPERM when this
   *   process may not signal it (see signalProcess).
   * @throws {InvalidSignalError} when signo is not a usable signal number.
   * @throws {Error} when the handle is closed.
   */
  signal(signo: number): void {
    validateSignal(signo);
    if (this.closed) throw new Error(`the handle on process ${this.pid} is closed`);
    if (this.method === 'pidfd') {
      native.pidfdSendSignal(this.#pidfd, signo);
    } else {
      this.status();
      native.kill(this.pid, signo);
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

/**
 * Opens a handle on the target process: a pidfd (where the kernel and any
 * seccomp filter allow pidfd_open, see signalProcess for `method`) and its
 * /proc/<pid>/status, then checks that the process still has the start
 * time the caller saw. Everything done through the handle afterwards
 * reaches that process or fails with ESRCH.
 *
 * @throws {SystemError} ESRCH when the process has exited, is a zombie or
 *   its pid now belongs to another process; ENOSYS with method `pidfd` where
 *   pidfd_open is unavailable; EACCES when /proc hides the process
 *   (hidepid=noaccess).
 * @throws {RangeError} when pid is not a positive integer.
 */
export function openProcess(target: SignalTarget, options: SignalProcessOptions = {}): ProcessHandle {
  const requested = options.method ?? 'auto';
  validateTarget(target);
  if (!METHODS.has(requested)) {
    throw new TypeError(`options.method must be 'auto', 'pidfd' or 'kill', got ${JSON.stringify(requested)}`);
  }
  let pidfd = -1;
  let method: SignalMethod = requested === 'kill' ? 'kill' : 'pidfd';
  if (method === 'pidfd') {
    try {
      pidfd = native.pidfdOpen(target.pid);
    } catch (error) {
      // pidfd_open itself never fails with EPERM: that is a seccomp filter.
      if (requested !== 'auto' || !hasCode(error, 'ENOSYS', 'EPERM')) throw error;
      method = 'kill';
    }
  }
  const syscall = method === 'pidfd' ? 'pidfd_send_signal' : 'kill';
  let statusFd = -1;
  try {
    try {
      statusFd = openSync(`/proc/${target.pid}/status`, 'r');
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ESRCH')) throw processGone(target, syscall, 'has exited');
      throw error;
    }
    assertStillTarget(target, syscall);
  } catch (error) {
    if (pidfd >= 0) native.closeFd(pidfd);
    if (statusFd >= 0) closeSync(statusFd);
    throw error;
  }
  return new ProcessHandle(OPENED, { pid: target.pid, startTime: target.startTime }, method, pidfd, statusFd);
}
