// Sends a signal to exactly the process that was looked up, never to a
// process that inherited its pid.
//
// A pid names a process only while that process lives: once it exits and
// its parent reaps it, the kernel may hand the number to a new process.
// kill(pid) after a lookup therefore races with that reuse. A pidfd
// (pidfd_open(2), Linux 5.3) instead names the process itself: signals sent
// through it reach that process or fail with ESRCH once it has exited, even
// if the number has been reused.
//
// The caller identifies its target by pid and start time (field 22 of
// /proc/<pid>/stat), which together are unique: a process that reuses a pid
// starts later.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

import { hasCode, type SystemError } from './errors';
import { native } from './native';
import { parseStat } from './proc-parse';
import { parseSignal } from './signals';

/** How a signal was delivered. */
export type SignalMethod = 'pidfd' | 'kill';

/** The process to signal, as readProcess/listProcesses reported it. */
export interface SignalTarget {
  readonly pid: number;
  /** Clock ticks since boot, field 22 of /proc/<pid>/stat (ProcessInfo.startTime). */
  readonly startTime: number;
}

export interface SignalProcessOptions {
  /**
   * `auto` (default): a pidfd, falling back to kill(2) only where the kernel
   * or a seccomp filter refuses pidfd_open. `pidfd`: a pidfd or an error.
   * `kill`: kill(2) after checking the start time; not race-free.
   */
  readonly method?: 'auto' | SignalMethod;
}

const METHODS: ReadonlySet<string> = new Set(['auto', 'pidfd', 'kill']);

function processGone(target: SignalTarget, syscall: string, what: string): SystemError {
  return Object.assign(new Error(`ESRCH: process ${target.pid} ${what}; no signal was sent, ${syscall}`), {
    code: 'ESRCH',
    // Negative, as in the errors Node and the addon throw.
    errno: -constants.errno.ESRCH,
    syscall,
  });
}

/**
 * Throws ESRCH unless /proc/<pid> still shows the target: same start time
 * and not yet exited. A zombie (exited, not yet reaped by its parent) would
 * accept the signal and silently discard it, so it counts as gone.
 */
function assertStillTarget(target: SignalTarget, syscall: string): void {
  let text: string;
  try {
    text = readFileSync(`/proc/${target.pid}/stat`, 'utf8');
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
  if (stat.state === 'Z' || stat.state === 'X') {
    throw processGone(target, syscall, 'has exited (a zombie its parent has not reaped yet)');
  }
}

function validate(target: SignalTarget, signo: number, method: string): void {
  // kill(2) reads pid 0 as "my process group" and -1 as "every process I
  // may signal": neither may ever come from a lookup that went wrong.
  if (!Number.isSafeInteger(target.pid) || target.pid <= 0) {
    throw new RangeError(`target.pid must be a positive whole number, got ${String(target.pid)}`);
  }
  if (!Number.isSafeInteger(target.startTime) || target.startTime < 0) {
    throw new RangeError(`target.startTime must be a whole number of clock ticks, got ${String(target.startTime)}`);
  }
  if (typeof signo !== 'number') throw new TypeError(`signo must be a number, got ${typeof signo}`);
  parseSignal(signo);
  if (!METHODS.has(method)) {
    throw new TypeError(`options.method must be 'auto', 'pidfd' or 'kill', got ${JSON.stringify(method)}`);
  }
}

function sendWithKill(target: SignalTarget, signo: number): SignalMethod {
  assertStillTarget(target, 'kill');
  native.kill(target.pid, signo);
  return 'kill';
}

/**
 * Sends signal `signo` to the target process and returns how.
 *
 * With a pidfd the delivery is race-free because the pidfd is opened BEFORE
 * the start time is read. The pidfd holds whichever process had the pid at
 * the moment it was opened. If the start time read afterwards matches, the
 * process holding the pid at that later moment is the target; since the
 * target already existed before the pidfd was opened, no other process can
 * have held the pid in between, so the pidfd holds the target too. From then
 * on the pidfd cannot be redirected: if the target exits, sending fails with
 * ESRCH. In the opposite order the target could exit and its pid be reused
 * between the check and pidfd_open, and the pidfd would name the newcomer.
 * (Start times count clock ticks, 10 ms at USER_HZ 100: a pid would have to
 * be reused within one tick of the target's start for them to collide, which
 * takes the kernel cycling through pid_max in that time.)
 *
 * pidfd_open fails with ENOSYS on kernels before 5.3 and under seccomp
 * profiles written before the syscall existed (older container runtimes and
 * sandboxes); some such profiles answer EPERM for every unknown syscall,
 * and pidfd_open itself never fails with EPERM.
 * In `auto` mode both lead to kill(2) after the same start time check, which
 * leaves a window of microseconds in which a pid reuse would go unnoticed.
 *
 * @returns the method used: `pidfd` or `kill`.
 * @throws {SystemError} with Node's shape (code, errno, syscall):
 *   - ESRCH when the target has exited, is a zombie, or its pid now belongs
 *     to another process (syscall `pidfd_send_signal` or `kill`; from
 *     pidfd_open when the pid does not exist at all). Nothing was sent.
 *   - EPERM when this process may not signal the target: kill(2) requires
 *     the sender's real or effective uid to equal the target's real or saved
 *     uid, or CAP_KILL.
 *   - ENOSYS with method `pidfd` where pidfd_open is unavailable.
 * @throws {InvalidSignalError} when signo is not a usable signal number.
 * @throws {RangeError} when pid is not a positive integer: kill(2) would read
 *   0 and -1 as process groups.
 */
export function signalProcess(target: SignalTarget, signo: number, options: SignalProcessOptions = {}): SignalMethod {
  const method = options.method ?? 'auto';
  validate(target, signo, method);
  if (method === 'kill') return sendWithKill(target, signo);

  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(target.pid);
  } catch (error) {
    if (method === 'auto' && hasCode(error, 'ENOSYS', 'EPERM')) return sendWithKill(target, signo);
    throw error;
  }
  try {
    assertStillTarget(target, 'pidfd_send_signal');
    native.pidfdSendSignal(pidfd, signo);
  } finally {
    native.closeFd(pidfd);
  }
  return 'pidfd';
}
