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
// The caller names its target by pid and start time (process-target.ts),
// or by a pid, ChildProcess or ProcessHandle, which are reduced to that.
import { openProcess, ProcessHandle, type ProcessTarget } from './process-handle';
import { requestedMethod, type SignalMethod, type SignalProcessOptions } from './process-target';
import { parseSignal } from './signals';

/**
 * Sends a signal to the target process and returns how.
 *
 * The signal is a name (`'SIGHUP'`, `'HUP'`, `'hup'`, `'SIGRTMIN+3'`) or a
 * number, read by parseSignal. The target:
 * - a ProcessInfo or ProcessSummary (any { pid, startTime }): exactly the
 *   process the lookup saw. If it has exited since, nothing is sent (ESRCH),
 *   even when another process has its pid now.
 * - a pid, or a Node ChildProcess: whichever process has that pid at the
 *   moment of the call (its start time is read then). A pid is only as good
 *   as the moment it is read: to signal the same process again and again
 *   without a race, call openProcess once and keep the handle. A
 *   ChildProcess that has exited (exitCode or signalCode set) or never
 *   started (no pid) is refused with ESRCH: Node keeps the pid of a reaped
 *   child, and the number may be another process's by then.
 * - a ProcessHandle: sent through the handle, its descriptors, its method.
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
 *   - ESRCH when the target has exited, is a zombie, its pid now belongs to
 *     another process, or no process has the pid (syscall `pidfd_send_signal`
 *     or `kill`; `pidfd_open` when the process is gone before it is opened).
 *     The message says which. Nothing was sent.
 *   - EPERM ({@link SignalPermissionError}) when this process may not signal
 *     the target: kill(2) requires the sender's real or effective uid to
 *     equal the target's real or saved uid, or CAP_KILL. The message names
 *     both uids and the two fixes.
 *   - ENOSYS with method `pidfd` where pidfd_open is unavailable.
 * @throws {InvalidSignalError} when the signal is not a usable name or number.
 * @throws {RangeError} when a pid is not a positive integer: kill(2) would
 *   read 0 and -1 as process groups.
 * @throws {TypeError} when the target is none of the above (undefined, say),
 *   or the method is unknown or differs from a handle's.
 */
export function signalProcess(target: ProcessTarget, signal: string | number, options: SignalProcessOptions = {}): SignalMethod {
  const signo = parseSignal(signal).number;
  const requested = requestedMethod(options);
  if (target instanceof ProcessHandle) {
    if (requested !== 'auto' && requested !== target.method) {
      throw new TypeError(`options.method is '${requested}', but the handle on process ${target.pid} signals through '${target.method}'`);
    }
    target.signal(signo);
    return target.method;
  }
  const handle = openProcess(target, options);
  try {
    handle.signal(signo);
    return handle.method;
  } finally {
    handle.close();
  }
}
