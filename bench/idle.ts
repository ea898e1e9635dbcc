// Idle footprint: every subject is started in the same run, left alone for a
// window, and read from /proc before and after. Nothing touches their
// directories, so any CPU time or wakeup in the window is the subject's own
// doing: a timer, a poll, a leftover interval.
import type { Child } from './child';
import { readProcSample, type ProcSample } from './proc-stats';
import { sleep } from './stats';

export interface IdleSubject {
  readonly name: string;
  readonly child: Child;
}

export interface IdleResult {
  readonly name: string;
  readonly rssKb: number;
  readonly threads: number;
  /** utime + stime ticks spent during the window. */
  readonly cpuTicks: number;
  /** Context switches (all threads) during the window. */
  readonly wakeups: number;
  readonly error?: string;
}

export async function measureIdle(subjects: readonly IdleSubject[], windowMs: number, settleMs: number): Promise<IdleResult[]> {
  // Start-up garbage and lazy compilation settle before the window opens.
  await sleep(settleMs);
  const before = new Map<string, ProcSample>();
  for (const subject of subjects) before.set(subject.name, readProcSample(subject.child.pid));
  await sleep(windowMs);
  return subjects.map((subject) => {
    const start = before.get(subject.name);
    if (!subject.child.running || start === undefined) {
      return { name: subject.name, rssKb: Number.NaN, threads: Number.NaN, cpuTicks: Number.NaN, wakeups: Number.NaN,
        error: `exited during the idle window:\n${subject.child.tail()}` };
    }
    const end = readProcSample(subject.child.pid);
    return {
      name: subject.name,
      rssKb: end.rssKb,
      threads: end.threads,
      cpuTicks: end.cpuTicks - start.cpuTicks,
      wakeups: end.contextSwitches - start.contextSwitches,
    };
  });
}
