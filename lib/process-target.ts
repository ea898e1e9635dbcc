// What names the one process to signal, and the ESRCH a caller gets once
// that process is gone.
//
// A pid names a process only while that process lives: once it exits and
// its parent reaps it, the kernel may hand the number to a new process. The
// pair (pid, start time) does not recur: a process that reuses a pid starts
// later (field 22 of /proc/<pid>/stat, in clock ticks since boot). So every
// target is reduced to that pair before anything is opened, and a bare pid
// or a ChildProcess is reduced to it by reading the start time at the moment
// of the call: whoever has the pid then is the target.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

import { hasCode, type SystemError } from './errors';
import { parseStat, type ProcStat } from './proc-parse';
import { readRecordFileShared } from './read-file-shared';

/** How a signal was delivered. */
export type SignalMethod = 'pidfd' | 'kill';

/** One process, by pid and start time: a ProcessInfo or ProcessSummary from readProcess/listProcesses, or a ProcessHandle. */
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

/** The method asked for, checked: options often come from configuration files, not from typed code. */
export function requestedMethod(options: SignalProcessOptions): 'auto' | SignalMethod {
  const method: unknown = options.method ?? 'auto';
  if (method === 'auto' || method === 'pidfd' || method === 'kill') return method;
  throw new TypeError(`options.method must be 'auto', 'pidfd' or 'kill', got ${JSON.stringify(method)}`);
}

function esrch(what: string, syscall: string): SystemError {
  return Object.assign(new Error(`ESRCH: ${what}; no signal was sent, ${syscall}`), {
    code: 'ESRCH',
    // Negative, as in the errors Node and the addon throw.
    errno: -constants.errno.ESRCH,
    syscall,
  });
}

/** The ESRCH error of a target that is gone, shaped like Node's and the addon's errors: "process <pid> <what>". */
export function processGone(pid: number, syscall: string, what: string): SystemError {
  return esrch(`process ${pid} ${what}`, syscall);
}

// A zombie (exited, not yet reaped by its parent) still has its /proc entry
// and accepts signals, but discards them: for a sender it is gone. State Z
// with other threads still running is not one: the main thread called
// pthread_exit, and the process lives on and handles signals. (While the
// whole process is exiting, its other threads are counted for a few
// microseconds more; a signal sent then is lost with the process.)
export function isExited(process: { readonly state: string; readonly threads: number }): boolean {
  return (process.state === 'Z' || process.state === 'X') && process.threads <= 1;
}

/** /proc/<pid>/stat now, or the ESRCH saying `absent` when no process has the pid. */
function readStat(pid: number, syscall: string, absent: string): ProcStat {
  let text: string;
  try {
    text = readRecordFileShared(`/proc/${pid}/stat`).toString('utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) throw processGone(pid, syscall, absent);
    throw error;
  }
  return parseStat(text);
}

/**
 * Throws ESRCH unless /proc/<pid>/stat still shows the target: same start
 * time and not yet exited.
 */
export function assertStillTarget(target: SignalTarget, syscall: string): void {
  const stat = readStat(target.pid, syscall, 'has exited');
  if (stat.startTime !== target.startTime) {
    throw processGone(
      target.pid,
      syscall,
      `has exited and its pid was reused by another process (${stat.comm}, started at ${stat.startTime} ` +
        `clock ticks after boot, not ${target.startTime})`,
    );
  }
  if (isExited(stat)) throw processGone(target.pid, syscall, 'has exited (a zombie its parent has not reaped yet)');
}

// kill(2) reads pid 0 as "my process group" and -1 as "every process I may
// signal": neither may ever come from a lookup that went wrong.
function assertPid(pid: unknown, name: string): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new RangeError(`${name} must be a positive whole number, got ${String(pid)}`);
  }
}

function identityOf(target: SignalTarget): SignalTarget {
  assertPid(target.pid, 'target.pid');
  if (!Number.isSafeInteger(target.startTime) || target.startTime < 0) {
    throw new RangeError(`target.startTime must be a whole number of clock ticks, got ${String(target.startTime)}`);
  }
  return { pid: target.pid, startTime: target.startTime };
}

/** The identity of whichever process has `pid` now. */
function identityNow(pid: number, syscall: string, absent: string): SignalTarget {
  return { pid, startTime: readStat(pid, syscall, absent).startTime };
}

function childIdentity(child: ChildProcess, syscall: string): SignalTarget {
  const command = JSON.stringify(child.spawnfile);
  // Node keeps a child's pid after reaping it, when the number may already
  // belong to another process: a child known to have exited is never looked up.
  if (child.pid === undefined) {
    throw esrch(`the child ${command} has no process: it never started (spawn failed; its 'error' event says why)`, syscall);
  }
  if (child.signalCode !== null) throw processGone(child.pid, syscall, `has exited (the child ${command} was killed by ${child.signalCode})`);
  if (child.exitCode !== null) throw processGone(child.pid, syscall, `has exited (the child ${command} exited with code ${child.exitCode})`);
  return identityNow(child.pid, syscall, `has exited (the child ${command}; Node has not yet seen its exit)`);
}

/**
 * Whether `target` is a ChildProcess. node:child_process is loaded only to
 * answer this, and only for an object that is not a { pid, startTime }:
 * loading it costs every process that uses the library resident memory
 * (its modules, and the process and pipe bindings), and a sidecar that
 * signals what it looked up in /proc never holds a ChildProcess. A
 * { pid, startTime } is never one (a ChildProcess has no startTime), and an
 * object that is neither fails in identityOf() as before.
 */
function isChildProcess(target: object): target is ChildProcess {
  if ('startTime' in target) return false;
  const { ChildProcess: ChildProcessClass } = require('node:child_process') as typeof import('node:child_process');
  return target instanceof ChildProcessClass;
}

/**
 * The pid and start time of a target given as a pid, a ChildProcess or a
 * { pid, startTime } (a ProcessHandle is one). A pid or a ChildProcess is
 * resolved by reading its start time now. `syscall` names the call the
 * ESRCH of a process that is gone reports.
 *
 * @throws {SystemError} ESRCH when no process has the pid, or the
 *   ChildProcess has exited or never started.
 * @throws {RangeError} when a pid is not a positive whole number, or a start time not a whole number.
 * @throws {TypeError} (ERR_INVALID_ARG_TYPE) for anything else, undefined included.
 */
export function resolveTarget(target: number | ChildProcess | SignalTarget, syscall: string): SignalTarget {
  if (typeof target === 'number') {
    assertPid(target, 'pid');
    return identityNow(target, syscall, 'does not exist: it has exited, or never existed');
  }
  if (typeof target === 'object' && target !== null) {
    return isChildProcess(target) ? childIdentity(target, syscall) : identityOf(target);
  }
  throw Object.assign(
    new TypeError(
      `the target must be a pid, a ChildProcess, a ProcessHandle or a { pid, startTime } such as readProcess() returns, ` +
        `got ${typeof target === 'string' ? JSON.stringify(target) : String(target)}` +
        (target === undefined ? ' (readProcess() returns undefined for a process that has exited or never existed)' : ''),
    ),
    { code: 'ERR_INVALID_ARG_TYPE' },
  );
}
