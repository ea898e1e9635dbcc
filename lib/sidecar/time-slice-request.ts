// Applies TIME_SLICE to the thread that runs the event loop, and so to the
// commit signal thread it starts afterwards: the threads that must wake
// promptly when the kubelet commits (lib/time-slice.ts says why).
// Nothing depends on it succeeding: without it, reloads are the same, only
// slower to start while another task holds the CPU. So a refusal is one
// info line, never a failure.
import { errorCode, errorMessage } from '../errors';
import { setTimeSlice } from '../time-slice';
import type { Logger } from './log';

export function requestTimeSlice(us: number, log: Logger): void {
  if (us === 0) return;
  let effectiveNs: number;
  try {
    effectiveNs = setTimeSlice(us * 1000);
  } catch (error) {
    const fix = errorCode(error) === 'EPERM'
      ? 'a seccomp filter refuses sched_setattr; allow it (it needs no privilege) or set TIME_SLICE=0 to silence this'
      : 'set TIME_SLICE=0 to silence this';
    log.info('time slice not shortened', { reason: errorMessage(error), fix });
    return;
  }
  if (effectiveNs === 0) {
    log.info('time slice not shortened', {
      reason: 'this kernel has no per-thread time slices (Linux 6.12 and later have them); reloads work the same, they only start later while another task holds the CPU',
    });
  }
}
