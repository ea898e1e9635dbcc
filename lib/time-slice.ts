// A thread's time slice under the EEVDF scheduler (Linux 6.12 and later),
// which takes sched_attr.sched_runtime of a SCHED_OTHER or SCHED_BATCH thread
// as the length of CPU time it asks for at a time.
//
// Why a sidecar wants a short one: a slice shorter than the running task's
// lets a waking thread preempt it at once. The kubelet writes a volume and
// the app runs on the same few CPUs as the sidecar, and the scheduler often
// wakes the sidecar on the very CPU whose task woke it (the writer of the
// file). With the default slice the sidecar then waits for that task to run
// out or block: up to a few hundred microseconds per update on the bench
// machine, more than the whole reload path (docs/benchmarks.md). A thread
// that sleeps almost always and then works for well under a millisecond is
// what the kernel's short slices are for; no privilege is needed.
import { native } from './native';

/** The shortest slice the kernel accepts (it clamps to 0.1 ms .. 100 ms). */
export const MIN_TIME_SLICE_NS = 100_000;
export const MAX_TIME_SLICE_NS = 100_000_000;

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
// The one flag worth carrying over; the others (reclaim, overrun, clamps) belong to other policies.
const SCHED_FLAG_RESET_ON_FORK = 0x01;

const POLICY_NAMES: Readonly<Record<number, string>> = {
  0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR', 3: 'SCHED_BATCH', 5: 'SCHED_IDLE', 6: 'SCHED_DEADLINE', 7: 'SCHED_EXT',
};

/**
 * The time slice of thread `tid` (0, the default, is the calling thread) in
 * nanoseconds, as sched_getattr(2) reports it: the one chosen with
 * {@link setTimeSlice}, or the kernel's default (`kernel.sched_base_slice`).
 * 0 on kernels before 6.12, which report none and ignore requests.
 *
 * @throws {SystemError} ESRCH when no such thread is visible.
 */
export function getTimeSlice(tid = 0): number {
  const attr = native.schedGetattr(tid);
  return attr.policy === SCHED_OTHER || attr.policy === SCHED_BATCH ? attr.runtime : 0;
}

/**
 * Asks the kernel to run thread `tid` (0, the default, is the calling
 * thread) in slices of `ns` nanoseconds, from {@link MIN_TIME_SLICE_NS} to
 * {@link MAX_TIME_SLICE_NS}; 0 returns it to the kernel's default. Its policy
 * and nice value are kept. It applies to that one thread: call it on the
 * thread whose wake-ups must be prompt (for a Node program, the main thread
 * running the event loop).
 *
 * @returns the slice now in effect, as {@link getTimeSlice} reads it: `ns`,
 *   the default, or 0 on a kernel that has no per-thread slices (before
 *   6.12), where the request changes nothing.
 * @throws {RangeError} when ns is outside the accepted range.
 * @throws {Error} with code ERR_SCHED_POLICY for a thread under a real-time,
 *   deadline or idle policy, whose slices are not the kernel's to shorten.
 * @throws {SystemError} ESRCH when no such thread is visible, EPERM when this
 *   process may not change it (another user's thread, or a seccomp filter).
 */
export function setTimeSlice(ns: number, tid = 0): number {
  if (!Number.isSafeInteger(ns) || (ns !== 0 && (ns < MIN_TIME_SLICE_NS || ns > MAX_TIME_SLICE_NS))) {
    throw new RangeError(
      `time slice must be 0 (the kernel's default) or a whole number of nanoseconds from ${MIN_TIME_SLICE_NS} (0.1 ms) to ${MAX_TIME_SLICE_NS} (100 ms), got ${String(ns)}`,
    );
  }
  const current = native.schedGetattr(tid);
  if (current.policy !== SCHED_OTHER && current.policy !== SCHED_BATCH) {
    const name = POLICY_NAMES[current.policy] ?? `policy ${current.policy}`;
    throw Object.assign(new Error(`${tid === 0 ? 'the calling thread' : `thread ${tid}`} runs under ${name}; time slices apply to SCHED_OTHER and SCHED_BATCH threads only`), {
      code: 'ERR_SCHED_POLICY',
    });
  }
  native.schedSetattr(tid, {
    policy: current.policy,
    flags: current.flags & SCHED_FLAG_RESET_ON_FORK,
    // The current nice value, so the request neither raises nor lowers the thread's weight.
    nice: current.nice,
    priority: 0,
    runtime: ns,
    deadline: 0,
    period: 0,
  });
  return getTimeSlice(tid);
}
