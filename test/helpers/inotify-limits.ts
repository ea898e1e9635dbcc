// Reaching the inotify limits in a test without starving the rest of the
// machine. The watch and instance limits are counted per user *and* per user
// namespace (Linux 5.11+), so a child in a fresh user namespace can lower its
// own ceiling (/proc/sys/user/max_inotify_*) and hit it while every other
// process keeps the node's limits. Only where user namespaces are unavailable
// does a root child lower the global sysctl, for the few milliseconds it
// needs, restoring it in `finally`.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { type CommandResult, runCommand } from './child-process';
import { runNodeScript } from './inotify-kit';

const USERNS = ['unshare', '--user', '--map-root-user'] as const;

/** True when this machine lets us create a user namespace in which we are root. */
export async function userNamespacesWork(): Promise<boolean> {
  try {
    const result = await runCommand(USERNS[0], [...USERNS.slice(1), 'true'], { timeoutMs: 5000 });
    return result.code === 0;
  } catch {
    return false;
  }
}

export function readLimit(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}

/**
 * How many inotify watches, or instances, uid 0 holds machine-wide now, from
 * /proc/<pid>/fdinfo. Only needed to lower a global limit just above it.
 */
export function rootInotifyUsage(): { watches: number; instances: number } {
  let watches = 0;
  let instances = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (!/^Uid:\s+0\s/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue;
        instances++;
        watches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
      }
    } catch {
      // The process exited while we looked.
    }
  }
  return { watches, instances };
}

export interface LimitRun {
  /** The /proc/sys file the child lowers. */
  readonly sysctl: string;
  readonly value: number;
  /** Lower it inside a new user namespace (no effect outside), or globally. */
  readonly namespace: boolean;
  /** Runs with the limit lowered; `LIMIT_TEST_RESULT(x)` prints its JSON result. */
  readonly body: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `body` in a child Node process with one limit lowered, and always restored. */
export function runWithLoweredLimit(run: LimitRun): Promise<CommandResult> {
  const script = `
    const fs = require('fs');
    const sysctl = ${JSON.stringify(run.sysctl)};
    const previous = fs.readFileSync(sysctl, 'utf8');
    let result;
    const LIMIT_TEST_RESULT = (value) => { result = value; };
    try {
      fs.writeFileSync(sysctl, ${JSON.stringify(String(run.value))});
      ${run.body}
    } finally {
      fs.writeFileSync(sysctl, previous);
    }
    console.log(JSON.stringify(result));
  `;
  return runNodeScript(script, { wrapper: run.namespace ? USERNS : undefined, env: { ...process.env, ...run.env } });
}
