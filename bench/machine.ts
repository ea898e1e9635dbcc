// Where the numbers came from: the machine, and the kernel limits that shape
// inotify results. The limits are global and other processes (tests that
// lower max_queued_events to force an overflow) may change them mid-run, so
// they are read at the start and at the end and a change is called out.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface InotifyLimits {
  readonly maxQueuedEvents: number;
  readonly maxUserWatches: number;
  readonly maxUserInstances: number;
}

export function readInotifyLimits(): InotifyLimits {
  const read = (name: string): number => Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim());
  return {
    maxQueuedEvents: read('max_queued_events'),
    maxUserWatches: read('max_user_watches'),
    maxUserInstances: read('max_user_instances'),
  };
}

function describeLimits(limits: InotifyLimits): string {
  return `max_queued_events=${limits.maxQueuedEvents} max_user_watches=${limits.maxUserWatches} max_user_instances=${limits.maxUserInstances}`;
}

export function machineNote(atStart: InotifyLimits = readInotifyLimits()): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  const atEnd = readInotifyLimits();
  const limits =
    describeLimits(atStart) === describeLimits(atEnd)
      ? `fs.inotify ${describeLimits(atEnd)}`
      : `fs.inotify CHANGED DURING THE RUN by another process: ${describeLimits(atStart)} at the start, ${describeLimits(atEnd)} at the end`;
  return (
    `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ` +
    `Node ${process.version}; shared machine, load average at the end ${load}; ${limits}`
  );
}
