// The targets the sidecar keeps open between reloads: a ProcessHandle (pidfd
// plus /proc/<pid>/status) for each process the last reload reached, or the
// start-up lookup found. The next reload signals them first, after one read
// of their status, and the /proc scan follows (delivery.ts).
//
// Holding a target skips the scan's checks for it, so a held target must
// prove it is still one the scan would choose: alive, the same program under
// the same name, with the same parent (delivery.ts leaves anything else to
// the scan).
import { hasCode, openProcess, type ProcessHandle, type ProcessSummary, type ProcStatus, readProcessSummary, readSignalReception, type SignalReception } from '..';
import { matchesName } from './targets';

/** A target and the handle that reaches it. */
export interface HeldTarget {
  /** The process as the scan that chose it saw it. */
  readonly summary: ProcessSummary;
  readonly handle: ProcessHandle;
  /**
   * Its name in status when chosen. A process whose name changed has
   * exec'd another program (or renamed itself), so whether it is still a
   * target is left to the scan.
   */
  readonly name: string;
}

/**
 * Targets held open, at most. Each keeps two descriptors for as long as it
 * lives, and with SIGNAL_ALL a name can match hundreds of processes (every
 * postgres backend): past this many, the rest are reached through the scan
 * on each reload.
 */
export const MAX_HELD = 16;

/** A target just opened, with the status read to open it. */
export interface OpenedTarget {
  readonly held: HeldTarget;
  readonly status: ProcStatus;
}

/** Opens a handle on a target the scan found and reads its status; the error when it cannot. */
export function openTarget(target: ProcessSummary): OpenedTarget | { readonly error: unknown } {
  let handle: ProcessHandle | undefined;
  try {
    handle = openProcess(target);
    const status = handle.status();
    return { held: { summary: target, handle, name: status.name }, status };
  } catch (error) {
    handle?.close();
    return { error };
  }
}

/**
 * The held process's status, or undefined when it has exited or may no
 * longer be a target. Like the scan, which leaves out a process it cannot
 * read, this never fails the reload: the scan decides about it.
 *
 * - Same parent: a process reparented (its parent exited) may now sit
 *   below another match, which would make it a worker.
 * - Same name: an unchanged status Name proves the name still matches only
 *   for a target that matched through its comm, which is that Name. One that
 *   matched through argv[0], its executable or its title (a name longer
 *   than comm holds) could exec another program under the same comm, so its
 *   names are read again, as the scan would.
 *
 * What this cannot see is a parent that stays but execs into a matching
 * program, turning the held target into its worker; the start-up lookup
 * therefore holds only processes whose parent is outside the namespace.
 */
export function heldStatus(held: HeldTarget, processName: string): ProcStatus | undefined {
  try {
    const status = held.handle.status();
    if (status.name !== held.name || status.ppid !== held.summary.ppid) return undefined;
    if (held.summary.comm === processName) return status;
    const summary = readProcessSummary(held.summary.pid);
    return summary?.startTime === held.summary.startTime && matchesName(summary, processName) ? status : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How the held process takes signal `signo`, judged from `status` (just read
 * through the handle) and, unless that shows a handler, from its threads and
 * descriptors in /proc; undefined once it has exited. Those are read by pid,
 * so the handle is read once more afterwards: a process still alive then is
 * the one that had the pid throughout, as no pid is reused while its process
 * lives.
 */
export function heldReception(held: HeldTarget, status: ProcStatus, signo: number): SignalReception | undefined {
  const reception = readSignalReception(held.summary.pid, signo, { status });
  if (reception === undefined) return undefined;
  if (reception.by === 'handler') return reception;
  try {
    held.handle.status();
  } catch (error) {
    if (hasCode(error, 'ESRCH')) return undefined;
    throw error;
  }
  return reception;
}
