// Scale: how long watching a 10,000-directory tree takes, what it costs in
// memory, and what happens under a burst of 100,000 file events. The burst
// is far beyond fs.inotify.max_queued_events (16384 by default) unless the
// consumer keeps up, so a queue overflow is expected and must be handled:
// for the sidecar, by exactly one reload once the burst is over.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { Inotify } from '../lib/inotify';
import {
  IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONLYDIR,
} from '../lib/inotify-flags';
import type { Child } from './child';
import type { CPrograms } from './compile';
import { readProcSample } from './proc-stats';
import type { Reloader } from './reloaders';
import { SignalTarget } from './signal-target';
import { nsToMs, sleep } from './stats';
import { runBurst, type Tree } from './tree';

/** The change mask a recursive watcher uses: two events per created file. */
export const CHANGE_MASK =
  IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

export interface LibraryBurstResult {
  readonly watches: number;
  /** Walking the tree and adding every watch, ms. */
  readonly watchMs: number;
  readonly expected: number;
  readonly delivered: number;
  readonly overflows: number;
  readonly burstMs: number;
  /** From the burst's first file to the last event delivered, ms. */
  readonly drainedMs: number;
}

/** The library alone (lib/inotify.ts), in this process: walk, watch, burst, count. */
export async function measureLibraryBurst(programs: CPrograms, tree: Tree, files: number): Promise<LibraryBurstResult> {
  const inotify = new Inotify();
  try {
    const started = process.hrtime.bigint();
    const pending = [tree.root];
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      inotify.watch(dir, CHANGE_MASK);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) pending.push(join(dir, entry.name));
      }
    }
    const watchMs = nsToMs(process.hrtime.bigint() - started);
    let delivered = 0;
    let overflows = 0;
    let lastEvent = 0n;
    inotify.on('batch', (events) => {
      lastEvent = process.hrtime.bigint();
      for (const event of events) {
        if (event.kind === 'overflow') overflows++;
        else delivered++;
      }
    });
    const burst = await runBurst(programs.burst, tree, files);
    await quiet(() => lastEvent, 500);
    return {
      watches: inotify.watches.size,
      watchMs,
      expected: files * 2,
      delivered,
      overflows,
      burstMs: nsToMs(burst.endNs - burst.startNs),
      drainedMs: lastEvent === 0n ? Number.NaN : nsToMs(lastEvent - burst.startNs),
    };
  } finally {
    inotify.close();
  }
}

/** Resolves once `last()` has not moved for `quietMs`. */
async function quiet(last: () => bigint, quietMs: number): Promise<void> {
  for (;;) {
    const seen = last();
    await sleep(quietMs);
    if (last() === seen) return;
  }
}

export interface StartupResult {
  readonly name: string;
  /** From spawn to the ready line, ms (Node start-up included). */
  readonly readyMs: number;
  readonly rssKb: number;
  readonly error?: string;
}

export async function measureStartup(
  reloader: Reloader,
  tree: Tree,
  programs: CPrograms,
  target: SignalTarget,
  nodeArgs: readonly string[] = [],
): Promise<{ result: StartupResult; child: Child | undefined }> {
  const spawned = process.hrtime.bigint();
  try {
    const child = await reloader.start({
      dir: tree.root, targetPid: target.pid, targetName: programs.targetName, programs, tree: true, nodeArgs,
    });
    const readyMs = nsToMs(process.hrtime.bigint() - spawned);
    // Let start-up garbage settle, as a long-running watcher would.
    await sleep(300);
    return { result: { name: reloader.name, readyMs, rssKb: readProcSample(child.pid).rssKb }, child };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { result: { name: reloader.name, readyMs: Number.NaN, rssKb: Number.NaN, error: message }, child: undefined };
  }
}

export interface SidecarBurstResult {
  readonly reloads: number;
  readonly burstMs: number;
  /** From the burst's last file to the (first) reload, ms: the debounce plus the work after it. */
  readonly reloadAfterEndMs: number;
  readonly reloadsDuringBurst: number;
  /** What the sidecar logged about the overflow, if anything. */
  readonly overflowLog: string | undefined;
}

/** Bursts the tree a running sidecar watches, and counts the reloads it sends. */
export async function measureSidecarBurst(
  child: Child,
  target: SignalTarget,
  programs: CPrograms,
  tree: Tree,
  files: number,
): Promise<SidecarBurstResult> {
  const before = target.stamps.length;
  const burst = await runBurst(programs.burst, tree, files);
  await target.waitForCount(before + 1, 30000);
  // Anything that follows within 3 s is a second reload for the same burst.
  await sleep(3000);
  const signals = target.stamps.slice(before);
  const afterEnd = signals.filter((stamp) => stamp >= burst.endNs);
  const first = afterEnd[0];
  return {
    reloads: signals.length,
    burstMs: nsToMs(burst.endNs - burst.startNs),
    reloadAfterEndMs: first === undefined ? Number.NaN : nsToMs(first - burst.endNs),
    reloadsDuringBurst: signals.length - afterEnd.length,
    overflowLog: child.output.find((line) => /overflow/i.test(line)),
  };
}
