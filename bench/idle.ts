// Idle footprint: every subject is started in the same run, left alone for a
// window, and read from /proc before and after. Nothing touches their
// directories, so any CPU time or wakeup in the window is the subject's own
// doing: a timer, a poll, a leftover interval.
//
// The window opens only after a settling period. V8 runs its memory reducer
// once, some 8-10 s after start-up when the allocation rate drops: a few
// garbage collections on helper threads (dozens of context switches, a tick
// of CPU, and RSS falls by a couple of MiB). That is a one-off, not polling,
// so it is reported apart from the window ("settling" columns).
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
  /** Ticks and context switches while settling, before the window. */
  readonly settlingTicks: number;
  readonly settlingWakeups: number;
  /** Context switches (all threads) during the window. */
  readonly wakeups: number;
  readonly error?: string;
}

export async function measureIdle(subjects: readonly IdleSubject[], windowMs: number, settleMs: number): Promise<IdleResult[]> {
  const sample = (): Map<string, ProcSample> =>
    new Map(subjects.filter((subject) => subject.child.running).map((subject) => [subject.name, readProcSample(subject.child.pid)]));
  const started = sample();
  await sleep(settleMs);
  const opened = sample();
  await sleep(windowMs);
  const closed = sample();
  return subjects.map((subject) => {
    const first = started.get(subject.name);
    const start = opened.get(subject.name);
    const end = closed.get(subject.name);
    if (first === undefined || start === undefined || end === undefined) {
      return {
        name: subject.name, rssKb: Number.NaN, threads: Number.NaN, cpuTicks: Number.NaN, wakeups: Number.NaN,
        settlingTicks: Number.NaN, settlingWakeups: Number.NaN, error: `exited while idle:\n${subject.child.tail()}`,
      };
    }
    return {
      name: subject.name,
      rssKb: end.rssKb,
      threads: end.threads,
      cpuTicks: end.cpuTicks - start.cpuTicks,
      wakeups: end.contextSwitches - start.contextSwitches,
      settlingTicks: start.cpuTicks - first.cpuTicks,
      settlingWakeups: start.contextSwitches - first.contextSwitches,
    };
  });
}
