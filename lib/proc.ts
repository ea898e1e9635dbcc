// Process lookup straight from /proc, never by spawning ps: one readdir and
// a few small reads per process. Synchronous, because a lookup is a snapshot
// taken once per reload and a few hundred reads of in-memory procfs files
// cost far less than the event-loop turns an async version would add.
//
// Two depths of lookup, because the reload path pays for every read on every
// process in view. A summary (readProcessSummary, listProcessSummaries) holds
// what stat, cmdline and exe tell: enough to find the target by name and walk
// the process tree. A full ProcessInfo (readProcess, listProcesses,
// withStatus) adds the uids and signal masks from status, the largest file
// the kernel has to format, which only the processes to be signalled need.
//
// What /proc shows depends on who reads it:
// - Only processes in the reader's PID namespace are listed. In a Kubernetes
//   Pod that means the sidecar sees the app only with shareProcessNamespace.
// - /proc/<pid>/exe needs ptrace access (same uid, or CAP_SYS_PTRACE): for a
//   process of another user it fails with EACCES and exeName is undefined.
// - With /proc mounted hidepid=invisible, other users' processes are not
//   listed at all; with hidepid=noaccess they are listed but unreadable and
//   listProcesses skips them.
import { readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

import { hasCode } from './errors';
import { maskHas, parseCmdline, parseStat, parseStatus, PF_KTHREAD, type ProcStatus } from './proc-parse';
import { readFileShared, readRecordFileShared } from './read-file-shared';

/** Signal masks, bit (signo - 1) per signal; test them with catchesSignal/ignoresSignal or maskHas. */
export interface ProcessSignals {
  /** Signals with a handler installed (SigCgt). */
  readonly caught: bigint;
  /** Signals set to SIG_IGN (SigIgn). */
  readonly ignored: bigint;
  /** Signals the main thread blocks (SigBlk); other threads may accept them. */
  readonly blocked: bigint;
  /** Signals sent but not yet delivered: process-wide (ShdPnd) or to the main thread (SigPnd). */
  readonly pending: bigint;
}

/** What /proc/<pid>/stat, cmdline and exe tell about a process: its names and its place in the tree. */
export interface ProcessSummary {
  readonly pid: number;
  readonly ppid: number;
  /** The kernel's task name: the executable's basename cut to 15 bytes, or what the process set with prctl. */
  readonly comm: string;
  /** argv as /proc/<pid>/cmdline holds it; `[]` for kernel threads and zombies. See parseCmdline for rewritten titles. */
  readonly argv: string[];
  /** The basename of argv[0], undefined when argv is empty. */
  readonly argv0Name: string | undefined;
  /** The executable's path (readlink /proc/<pid>/exe) without a " (deleted)" suffix; undefined when unreadable. */
  readonly exe: string | undefined;
  /**
   * The basename of {@link exe}: the full name of the binary, which comm cuts
   * to 15 bytes. Undefined for kernel threads and zombies, and when reading
   * another user's process without CAP_SYS_PTRACE.
   */
  readonly exeName: string | undefined;
  /** Clock ticks since boot (field 22 of stat); with pid, the identity signalProcess checks. */
  readonly startTime: number;
  /** One letter from stat: R, S, D, Z (zombie), T (stopped), I (idle kernel thread), ... */
  readonly state: string;
  /** True for kernel threads (PF_KTHREAD); they have no argv, no exe, and ignore every signal. */
  readonly kernelThread: boolean;
}

/** A snapshot of one process, read from /proc/<pid>: its summary plus the uids and signal masks from status. */
export interface ProcessInfo extends ProcessSummary {
  /** The real uid: the one kill(2) compares with the sender's uids. */
  readonly uid: number;
  /** The effective uid, which governs the process's own access. */
  readonly effectiveUid: number;
  readonly signals: ProcessSignals;
}

const DELETED_SUFFIX = ' (deleted)';

// The process exited between two reads: its /proc directory is gone (ENOENT)
// or is being torn down (ESRCH). Both are a normal race, not a fault.
const VANISHED = ['ENOENT', 'ESRCH'];

function readExe(dir: string): string | undefined {
  try {
    const target = readlinkSync(`${dir}/exe`);
    // The kernel appends " (deleted)" when the binary was unlinked after
    // exec, typically by a package upgrade while the process keeps running.
    return target.endsWith(DELETED_SUFFIX) ? target.slice(0, -DELETED_SUFFIX.length) : target;
  } catch (error) {
    // ENOENT: kernel thread, zombie, or gone; EACCES/EPERM: no ptrace access.
    if (hasCode(error, 'ENOENT', 'ESRCH', 'EACCES', 'EPERM')) return undefined;
    throw error;
  }
}

/** Runs a read of /proc/<pid>, giving undefined when the process (or thread) has exited. */
export function unlessVanished<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (hasCode(error, ...VANISHED)) return undefined;
    throw error;
  }
}

/**
 * Reads the summary of one process from `<procRoot>/<pid>`: stat, then
 * cmdline and exe, but not status. Returns undefined when the process does
 * not exist or exits while being read.
 *
 * @throws a SystemError for failures other than the process vanishing, such
 *   as EACCES under hidepid=noaccess.
 */
export function readProcessSummary(pid: number, procRoot = '/proc'): ProcessSummary | undefined {
  const dir = join(procRoot, String(pid));
  const stat = unlessVanished(() => parseStat(readRecordFileShared(`${dir}/stat`).toString('utf8')));
  if (stat === undefined) return undefined;
  const kernelThread = (stat.flags & PF_KTHREAD) !== 0;
  // A kernel thread has no address space and no executable: its cmdline
  // reads as empty and its exe fails with ENOENT, so neither is read.
  let argv: string[] = [];
  let exe: string | undefined;
  if (!kernelThread) {
    const cmdline = unlessVanished(() => parseCmdline(readFileShared(`${dir}/cmdline`)));
    if (cmdline === undefined) return undefined;
    argv = cmdline;
    exe = readExe(dir);
  }
  const argv0 = argv[0];
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    comm: stat.comm,
    argv,
    argv0Name: argv0 === undefined || argv0 === '' ? undefined : basename(argv0),
    exe,
    exeName: exe === undefined ? undefined : basename(exe),
    startTime: stat.startTime,
    state: stat.state,
    kernelThread,
  };
}

/**
 * Completes a summary with the uids and signal masks from
 * `<procRoot>/<pid>/status`. Returns undefined when the process has exited.
 *
 * status is read after stat, as in readProcess: if the pid was reused since
 * the summary was read, the masks may describe the newer process, but the
 * startTime is still the older one's and signalProcess refuses to signal the
 * newer process.
 *
 * @throws a SystemError for failures other than the process vanishing, such
 *   as EACCES under hidepid=noaccess.
 */
export function withStatus(summary: ProcessSummary, procRoot = '/proc'): ProcessInfo | undefined {
  const status = unlessVanished(() => parseStatus(readRecordFileShared(`${join(procRoot, String(summary.pid))}/status`).toString('utf8')));
  return status === undefined ? undefined : combineStatus(summary, status);
}

/** A summary completed with a status read some other way (through a ProcessHandle). */
export function combineStatus(summary: ProcessSummary, status: ProcStatus): ProcessInfo {
  return {
    ...summary,
    uid: status.uid.real,
    effectiveUid: status.uid.effective,
    signals: {
      caught: status.signals.caught,
      ignored: status.signals.ignored,
      blocked: status.signals.blocked,
      pending: status.signals.pending | status.signals.sharedPending,
    },
  };
}

/**
 * Reads one process from `<procRoot>/<pid>`.
 *
 * Returns undefined when the process does not exist or exits while being
 * read. stat is read first, so if the pid is reused between the reads, the
 * startTime returned belongs to the older process and signalProcess refuses
 * to signal the newer one.
 *
 * Given a thread id instead of a process id, it describes that thread
 * (/proc/<tid> is readable though not listed).
 *
 * @throws a SystemError for failures other than the process vanishing, such
 *   as EACCES under hidepid=noaccess.
 */
export function readProcess(pid: number, procRoot = '/proc'): ProcessInfo | undefined {
  const summary = readProcessSummary(pid, procRoot);
  return summary === undefined ? undefined : withStatus(summary, procRoot);
}

/**
 * Reads every process visible in `procRoot`, in ascending pid order, with
 * `read`; leaves out processes that exit during the scan and processes /proc
 * refuses to show (hidepid=noaccess).
 */
function scan<T>(procRoot: string, read: (pid: number) => T | undefined): T[] {
  const pids = readdirSync(procRoot)
    .filter((name) => /^[1-9]\d*$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const processes: T[] = [];
  for (const pid of pids) {
    let info: T | undefined;
    try {
      info = read(pid);
    } catch (error) {
      if (hasCode(error, 'EACCES', 'EPERM')) continue;
      throw error;
    }
    if (info !== undefined) processes.push(info);
  }
  return processes;
}

/**
 * Every process visible in `procRoot`, in ascending pid order: one entry per
 * process (thread group), not per thread. Kernel threads are included, with
 * `kernelThread` true and an empty argv, so a caller sees the same tree as
 * `ps -e`; processes that exit during the scan and processes /proc refuses to
 * show (hidepid=noaccess) are left out.
 */
export function listProcesses(procRoot = '/proc'): ProcessInfo[] {
  return scan(procRoot, (pid) => readProcess(pid, procRoot));
}

/**
 * The same processes as {@link listProcesses}, without reading status, for
 * finding targets by name on every reload: about half the cost per user
 * process, a fifth per kernel thread (bench/hot-path.ts). Complete the chosen
 * ones with {@link withStatus}.
 */
export function listProcessSummaries(procRoot = '/proc'): ProcessSummary[] {
  return scan(procRoot, (pid) => readProcessSummary(pid, procRoot));
}

/** True when the process has installed a handler for the signal (SigCgt). */
export function catchesSignal(info: ProcessInfo, signo: number): boolean {
  return maskHas(info.signals.caught, signo);
}

/** True when the process has set the signal to SIG_IGN (SigIgn): the kernel discards it. */
export function ignoresSignal(info: ProcessInfo, signo: number): boolean {
  return maskHas(info.signals.ignored, signo);
}
