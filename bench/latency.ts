// Update-to-signal latency: the writer stamps CLOCK_MONOTONIC just before
// renaming `..data_tmp` over `..data`; the target stamps in its SIGHUP
// handler. One update at a time: the next is published only after the
// previous one's signal arrived (or was given up as lost) plus a random gap,
// so every signal belongs to exactly one update and the gap catches extras.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { CPrograms } from './compile';
import { KubeletWriter } from './kubelet-writer';
import type { Reloader } from './reloaders';
import { SignalTarget } from './signal-target';
import { nsToMs, percentile, sleep } from './stats';

export interface LatencyOptions {
  readonly programs: CPrograms;
  readonly tmpRoot: string;
  /** Updates measured. */
  readonly updates: number;
  /** Updates published first and not counted in the percentiles (JIT, lazy loading). */
  readonly warmup: number;
  /** How long to wait for a signal before counting the update as lost. */
  readonly lostAfterMs: number;
  /** Pause after each update's signal, ms: a random value in [min, max). */
  readonly gapMs: readonly [min: number, max: number];
  /** The row's name, when it differs from the reloader's. */
  readonly label?: string;
  /** Options for the sidecar's node (the profiler's --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

export interface LatencyResult {
  readonly name: string;
  readonly updates: number;
  /** Latency of the very first update after ready, ms: what a pod sees on its first change. */
  readonly firstMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly lost: number;
  readonly extra: number;
  readonly error?: string;
}

export async function measureLatency(reloader: Reloader, options: LatencyOptions): Promise<LatencyResult> {
  const dir = mkdtempSync(join(options.tmpRoot, 'volume-'));
  const writer = new KubeletWriter(dir);
  writer.create();
  const target = await SignalTarget.start(options.programs.signalTarget);
  const updates: bigint[] = [];
  let error: string | undefined;
  try {
    const child = await reloader.start({
      dir,
      targetPid: target.pid,
      targetName: options.programs.targetName,
      programs: options.programs,
      ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    });
    try {
      const total = options.warmup + options.updates;
      for (let i = 0; i < total; i++) {
        const expected = target.stamps.length + 1;
        updates.push(writer.update());
        await target.waitForCount(expected, options.lostAfterMs);
        // A random gap: no update lines up with a periodic wakeup by accident.
        const [min, max] = options.gapMs;
        await sleep(min + Math.random() * (max - min));
        if (!child.running) throw new Error(`${reloader.name} exited:\n${child.tail()}`);
      }
      await sleep(200);
    } finally {
      await child.stop();
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return summarize(options.label ?? reloader.name, updates, target.stamps, options.warmup, error);
}

/**
 * Attributes each signal to the latest update published before it. An update
 * with no signal is lost; every signal after an update's first is extra, as is
 * a signal before any update.
 */
export function summarize(
  name: string,
  updates: readonly bigint[],
  signals: readonly bigint[],
  warmup: number,
  error?: string,
): LatencyResult {
  const perUpdate: bigint[][] = updates.map(() => []);
  let extra = 0;
  let u = -1;
  for (const signal of [...signals].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    while (u + 1 < updates.length && (updates[u + 1] ?? 0n) <= signal) u++;
    const bucket = perUpdate[u];
    if (bucket === undefined) extra++;
    else bucket.push(signal);
  }
  const latencies: number[] = [];
  let lost = 0;
  let firstMs = Number.NaN;
  perUpdate.forEach((bucket, index) => {
    const first = bucket[0];
    const published = updates[index] ?? 0n;
    if (first === undefined) {
      lost++;
    } else {
      if (index === 0) firstMs = nsToMs(first - published);
      if (index >= warmup) latencies.push(nsToMs(first - published));
    }
    extra += Math.max(0, bucket.length - 1);
  });
  latencies.sort((a, b) => a - b);
  return {
    name,
    updates: updates.length,
    firstMs,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
    lost,
    extra,
    ...(error === undefined ? {} : { error }),
  };
}
