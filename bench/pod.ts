// A Pod-sized PID namespace for the latency run. The sidecar finds its
// target by scanning /proc, so its latency depends on how many processes it
// can see: a Pod with shareProcessNamespace shows a handful, this shared
// machine shows hundreds. Inside `unshare --pid --mount-proc`, with a pause
// process as pid 1 and the target and the sidecar joined through nsenter (as
// a container runtime joins a Pod's sandbox), /proc shows about what a Pod's
// does. Needs CAP_SYS_ADMIN; without it the row is reported as failed.
import { readdirSync, readFileSync } from 'node:fs';

import { Child } from './child';
import { sleep } from './stats';

export class PodNamespace {
  private constructor(private readonly pause: Child, readonly pid1HostPid: number) {}

  static async start(): Promise<PodNamespace> {
    const pause = new Child('pod pause', 'unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sleep', 'infinity']);
    for (let attempt = 0; attempt < 200; attempt++) {
      const pid1 = childOf(pause.pid);
      if (pid1 !== undefined) return new PodNamespace(pause, pid1);
      if (!pause.running) break;
      await sleep(10);
    }
    await pause.stop();
    throw new Error(`cannot create a PID namespace (unshare needs CAP_SYS_ADMIN):\n${pause.tail()}`);
  }

  /** The command prefix that runs a program inside the namespace. */
  get prefix(): string[] {
    return ['nsenter', `--target=${this.pid1HostPid}`, '--pid', '--mount', '--'];
  }

  stop(): Promise<void> {
    return this.pause.stop();
  }
}

/** A child of `pid`, by scanning /proc (task/<tid>/children needs CONFIG_PROC_CHILDREN). */
function childOf(pid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) counted from the last ')', as the command name may hold anything.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) return Number(name);
    } catch {
      // Exited during the scan.
    }
  }
  return undefined;
}
