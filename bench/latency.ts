// Update-to-signal latency: the kubelet replay (lib/testing) stamps
// CLOCK_MONOTONIC just before renaming `..data_tmp` over `..data`
// (WriteResult.committedAt); the target stamps in its SIGHUP handler. One
// update at a time: the next is published only after the previous one's
// signal arrived (or was given up as lost) plus a random gap, so every signal
// belongs to exactly one update and the gap catches extras.
//
// Every reloader runs at once, each with its own volume and its own target
// (under its own process name), and they take turns in blocks of a few
// updates. On a shared machine the load drifts over a minute; taking turns
// spreads that drift over every reloader alike, which keeps the ratios to
// the C floor honest even when the absolute numbers move.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { AtomicWriter } from '../lib/testing';
import type { Child } from './child';
import type { CPrograms } from './compile';
import { PodNamespace } from './pod';
import type { Reloader } from './reloaders';
import { SignalTarget } from './signal-target';
import { nsToMs, percentile, sleep } from './stats';
import { createVolume, generationPayload } from './volume';

export interface LatencyRun {
  readonly reloader: Reloader;
  /** The row's name, when it differs from the reloader's. */
  readonly label?: string;
  /** Updates measured. */
  readonly updates: number;
  /** How long to wait for a signal before counting the update as lost. */
  readonly lostAfterMs: number;
  /** Pause after each update's signal, ms: a random value in [min, max). */
  readonly gapMs: readonly [min: number, max: number];
  /** Run the target and the reloader in a Pod-sized PID namespace. */
  readonly inPod?: boolean;
  /** Options for the sidecar's node (the profiler's --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment for the reloader (a setting the row compares). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface LatencyOptions {
  readonly programs: CPrograms;
  readonly tmpRoot: string;
  /** Updates published first and not counted in the percentiles (JIT, lazy loading). */
  readonly warmup: number;
  /** Updates per turn. */
  readonly block: number;
  readonly progress?: (message: string) => void;
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

class Session {
  readonly updates: bigint[] = [];
  error: string | undefined;
  #dir: string | undefined;
  #writer: AtomicWriter | undefined;
  #generation = 0;
  #pod: PodNamespace | undefined;
  #target: SignalTarget | undefined;
  #child: Child | undefined;

  constructor(readonly run: LatencyRun, readonly index: number) {}

  get name(): string {
    return this.run.label ?? this.run.reloader.name;
  }

  get stamps(): readonly bigint[] {
    return this.#target?.stamps ?? [];
  }

  async start(options: LatencyOptions): Promise<void> {
    try {
      this.#dir = mkdtempSync(join(options.tmpRoot, 'volume-'));
      this.#writer = createVolume(this.#dir);
      // A name of its own, so that pkill and the sidecar's lookup each find
      // exactly this session's target among all the live ones.
      const targetName = `t${this.index}-${process.pid}`.slice(0, 15);
      const program = join(options.tmpRoot, targetName);
      copyFileSync(options.programs.signalTarget, program);
      this.#pod = this.run.inPod === true ? await PodNamespace.start() : undefined;
      this.#target = await SignalTarget.start(program, this.#pod?.prefix);
      this.#child = await this.run.reloader.start({
        dir: this.#dir,
        targetPid: this.#target.pid,
        targetName,
        programs: options.programs,
        ...(this.run.nodeArgs === undefined ? {} : { nodeArgs: this.run.nodeArgs }),
        ...(this.run.env === undefined ? {} : { env: this.run.env }),
        ...(this.#pod === undefined ? {} : { prefix: this.#pod.prefix }),
      });
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** Publishes up to `count` more updates, one at a time. */
  async publish(count: number): Promise<void> {
    const target = this.#target;
    const writer = this.#writer;
    const child = this.#child;
    if (this.error !== undefined || target === undefined || writer === undefined || child === undefined) return;
    const [min, max] = this.run.gapMs;
    for (let i = 0; i < count; i++) {
      const expected = target.stamps.length + 1;
      const { committedAt } = writer.writeSync(generationPayload(++this.#generation));
      if (committedAt === undefined) {
        this.error = `generation ${this.#generation} changed nothing in ${writer.targetDir}`;
        return;
      }
      this.updates.push(committedAt);
      await target.waitForCount(expected, this.run.lostAfterMs);
      // A random gap: no update lines up with a periodic wakeup by accident.
      await sleep(min + Math.random() * (max - min));
      if (!child.running) {
        this.error = `${this.name} exited:\n${child.tail()}`;
        return;
      }
    }
  }

  async stop(): Promise<void> {
    await this.#child?.stop();
    try {
      await this.#target?.stop();
    } catch (error) {
      this.error ??= error instanceof Error ? error.message : String(error);
    }
    await this.#pod?.stop();
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }
}

export async function measureLatency(runs: readonly LatencyRun[], options: LatencyOptions): Promise<LatencyResult[]> {
  const sessions = runs.map((run, index) => new Session(run, index));
  try {
    for (const session of sessions) {
      options.progress?.(`latency: starting ${session.name}`);
      await session.start(options);
    }
    for (const session of sessions) await session.publish(options.warmup);
    const rounds = Math.max(...runs.map((run) => Math.ceil(run.updates / options.block)));
    for (let round = 0; round < rounds; round++) {
      if (round % 10 === 0) options.progress?.(`latency: round ${round + 1} of ${rounds}`);
      for (const session of sessions) {
        const left = session.run.updates + options.warmup - session.updates.length;
        await session.publish(Math.min(options.block, left));
      }
    }
    // Late or extra signals still count.
    await sleep(200);
  } finally {
    for (const session of sessions) await session.stop();
  }
  return sessions.map((session) => summarize(session.name, session.updates, session.stamps, options.warmup, session.error));
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
