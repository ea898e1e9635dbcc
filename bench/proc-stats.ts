// What /proc says about a process: resident memory, threads, CPU time and
// wakeups. Parsing is pure; reading is one function at the edge.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  /** VmRSS, kB. */
  readonly rssKb: number;
  readonly threads: number;
  /** utime + stime, in clock ticks (USER_HZ, 100 per second on Linux). */
  readonly cpuTicks: number;
  /**
   * Context switches summed over every thread. A thread that sleeps in
   * epoll_wait and is never woken adds none, so this counts wakeups: timers,
   * polling, GC tasks. It is far more sensitive than CPU ticks.
   */
  readonly contextSwitches: number;
}

/** `Key:\tvalue` lines of /proc/<pid>/status into numbers (kB units dropped). */
export function parseStatus(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields.set(match[1], Number(match[2]));
  }
  return fields;
}

/**
 * utime + stime from /proc/<pid>/stat. The command name (field 2) may contain
 * spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseStatCpuTicks(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) throw new Error(`unexpected /proc/<pid>/stat: ${text}`);
  return utime + stime;
}

export function readProcSample(pid: number): ProcSample {
  const status = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  let contextSwitches = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const task = parseStatus(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      contextSwitches += (task.get('voluntary_ctxt_switches') ?? 0) + (task.get('nonvoluntary_ctxt_switches') ?? 0);
    } catch {
      // The thread exited between readdir and read.
    }
  }
  return {
    rssKb: status.get('VmRSS') ?? Number.NaN,
    threads: status.get('Threads') ?? Number.NaN,
    cpuTicks: parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    contextSwitches,
  };
}

export interface MemorySample {
  /** VmRSS = RssAnon + RssFile + RssShmem, kB. */
  readonly rssKb: number;
  /** Anonymous pages: V8's heaps, malloc, stacks. */
  readonly anonKb: number;
  /** File pages: the node binary's code and data, shared libraries, the addon. */
  readonly fileKb: number;
  /** VmHWM: the peak of VmRSS so far. */
  readonly peakKb: number;
  readonly threads: number;
}

export function readMemory(pid: number): MemorySample {
  const status = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const field = (name: string): number => status.get(name) ?? Number.NaN;
  return {
    rssKb: field('VmRSS'), anonKb: field('RssAnon'), fileKb: field('RssFile'), peakKb: field('VmHWM'), threads: field('Threads'),
  };
}

/** Open descriptors: the entries of /proc/<pid>/fd. */
export function countDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
