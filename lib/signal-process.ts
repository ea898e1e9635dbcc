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
import { openProcess, validateSignal } from './process-handle';

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
  validateSignal(signo);
  const handle = openProcess(target, options);
  try {
    handle.signal(signo);
    return handle.method;
  } finally {
    handle.close();
  }
}
