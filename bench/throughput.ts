// Library throughput: events per second from the kernel queue to a
// JavaScript listener, through the addon (lib/inotify.ts) and through
// fs.watch, on the same workload.
//
// The files are made by another process (bench/c/burst.c, open + close of a
// new name, as fast as one process can), as a kubelet or an editor makes
// them. Two regimes, each against fs.watch in the same run:
//
// - live: this process's event loop is free while the writer runs. The
//   reader wakes up many times per round, to batches of whatever has queued
//   since the last read, and pays its cost per wakeup as well as per event.
//   The clock runs from the writer's first file (its CLOCK_MONOTONIC stamp;
//   run.ts checks that process.hrtime.bigint() reads the same clock) to the
//   listener seeing the last event. A reader that keeps up runs at the
//   writer's rate, whatever it costs, and a cheaper one only sleeps more
//   often, each time for fewer events. Each of those wakeups is paid by the
//   writer too (the kernel wakes the reader from inside the writer's
//   syscall), so the rate can even fall as the reader gets cheaper. Beside
//   the rate: this process's CPU time per event over the same window, and
//   how often its main thread was scheduled in, per event.
// - queued: the event loop is busy (a synchronous wait for the writer) until
//   every file is made, as when events arrive while the application works.
//   The clock runs from the writer's exit to the last event delivered: how
//   fast a backlog drains, which is the cost per event alone.
//
// `events` stays below fs.inotify.max_queued_events, so nothing overflows.
// Both watchers use fs.watch's own mask (libuv's), so both see exactly one
// IN_CREATE per file.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';

import { Inotify } from '../lib/inotify';
import {
  IN_ATTRIB, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO,
} from '../lib/inotify-flags';
import { median } from './stats';

/** The mask libuv's uv_fs_event_start asks for. */
const LIBUV_MASK = IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO;

export type Consumer = 'inotify-event' | 'inotify-batch' | 'inotify-iterator' | 'fs.watch';

export type Regime = 'live' | 'queued';

export interface ThroughputResult {
  readonly regime: Regime;
  readonly consumer: Consumer;
  readonly events: number;
  readonly rounds: number;
  /** Live: from the writer's first file to the last event delivered. Queued: from the writer's exit. Median over rounds. */
  readonly eventsPerSecond: number;
  /** This process's CPU time (user + system, every thread) over the same window, per event; median over rounds. */
  readonly cpuUsPerEvent: number;
  /** How often the main thread was scheduled in over the same window, per event: about how often it slept and woke. */
  readonly wakeupsPerEvent: number;
  /** How fast the writer made its files in these rounds (median): in live rounds, the ceiling for eventsPerSecond. */
  readonly writerEventsPerSecond: number;
  readonly complete: boolean;
}

interface Usage {
  /** User + system time of every thread of this process, us. */
  readonly cpuUs: number;
  /** How many times the main thread has been scheduled in (NaN where the kernel keeps no schedstat). */
  readonly runs: number;
}

function usage(): Usage {
  const { user, system } = process.cpuUsage();
  let runs = Number.NaN;
  try {
    // run time (ns), time waiting to run (ns), times scheduled in
    runs = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[2]);
  } catch {
    // Without CONFIG_SCHED_INFO: the column shows '-'.
  }
  return { cpuUs: user + system, runs };
}

interface Subscription {
  /** Resolves when `count` events have been seen, or false when the deadline passes. */
  readonly done: Promise<boolean>;
  /** process.hrtime.bigint() and usage() when the last event was seen. */
  readonly finishedAt: () => { ns: bigint; usage: Usage };
  close(): void;
}

function subscribe(consumer: Consumer, dir: string, count: number): Subscription {
  let seen = 0;
  let finishedAt = { ns: 0n, usage: { cpuUs: 0, runs: 0 } };
  let finish: (complete: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  // A round takes tens of milliseconds; one that has not finished in 5 s lost events.
  const deadline = setTimeout(() => finish(false), 5000);
  const tick = (n: number): void => {
    seen += n;
    if (seen >= count && finishedAt.ns === 0n) {
      // Read here, inside the listener, so nothing after the last delivery is charged to the round.
      finishedAt = { ns: process.hrtime.bigint(), usage: usage() };
      finish(true);
    }
  };
  const result = (close: () => void): Subscription => ({
    done,
    finishedAt: () => finishedAt,
    close: () => {
      clearTimeout(deadline);
      close();
    },
  });
  if (consumer === 'fs.watch') {
    const watcher = watch(dir, () => tick(1));
    return result(() => watcher.close());
  }
  const inotify = new Inotify();
  inotify.watch(dir, LIBUV_MASK);
  if (consumer === 'inotify-event') inotify.on('event', () => tick(1));
  else if (consumer === 'inotify-batch') inotify.on('batch', (events) => tick(events.length));
  else {
    void (async () => {
      for await (const event of inotify.events({ capacity: count * 2 })) {
        void event;
        tick(1);
      }
    })();
  }
  return result(() => inotify.close());
}

interface Writer {
  /** Starts the burst in `dir`; resolves with the writer's own stamps around it. */
  run(dir: string): Promise<{ startNs: bigint; endNs: bigint }>;
}

/**
 * Spawns the burst writer ahead of the round: it waits on stdin for the
 * directory, so fork and exec are over before the round begins.
 */
function spawnWriter(burst: string, count: number): Promise<Writer> {
  const child = spawn(burst, [String(count)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const run = async (dir: string): Promise<{ startNs: bigint; endNs: bigint }> => {
    child.stdin.end(`${dir}\n`);
    const code = await exited;
    if (code !== 0) throw new Error(`burst writer failed (code ${String(code)}): ${err}`);
    return parseStamps(out, err);
  };
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve({ run }));
    child.once('error', reject);
  });
}

interface Round {
  readonly eventsPerSecond: number;
  readonly cpuUsPerEvent: number;
  readonly wakeupsPerEvent: number;
  readonly writerEventsPerSecond: number;
  readonly complete: boolean;
}

/** The writer's CLOCK_MONOTONIC stamps around its burst, from its output. */
function parseStamps(out: string, describe: string): { startNs: bigint; endNs: bigint } {
  const start = /start (\d+)/.exec(out)?.[1];
  const end = /end (\d+)/.exec(out)?.[1];
  if (start === undefined || end === undefined) throw new Error(`burst writer failed: ${describe}`);
  return { startNs: BigInt(start), endNs: BigInt(end) };
}

async function round(regime: Regime, consumer: Consumer, burst: string, tmpRoot: string, events: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpRoot, 'throughput-'));
  const writer = regime === 'live' ? await spawnWriter(burst, events) : undefined;
  const subscription = subscribe(consumer, dir, events);
  try {
    let stamps: { startNs: bigint; endNs: bigint };
    let clockStart: bigint;
    let before: Usage;
    let complete: boolean;
    if (writer !== undefined) {
      before = usage();
      [stamps, complete] = await Promise.all([writer.run(dir), subscription.done]);
      clockStart = stamps.startNs;
    } else {
      // Synchronous: the event loop reads nothing until the writer has exited.
      const out = execFileSync(burst, [String(events)], { input: `${dir}\n`, encoding: 'utf8' });
      clockStart = process.hrtime.bigint();
      before = usage();
      stamps = parseStamps(out, out);
      complete = await subscription.done;
    }
    const { ns, usage: after } = subscription.finishedAt();
    // This continuation runs inside the listener call that saw the last
    // event, or just after it. For fs.watch, libuv defers inotify_rm_watch
    // until that call returns, so closing and deleting the files here would
    // queue one IN_DELETE per file on libuv's shared inotify descriptor, and
    // libuv would read them during the next consumer's timed round.
    await new Promise((resolve) => setImmediate(resolve));
    return {
      eventsPerSecond: events / (Number(ns - clockStart) / 1e9),
      cpuUsPerEvent: (after.cpuUs - before.cpuUs) / events,
      wakeupsPerEvent: (after.runs - before.runs) / events,
      writerEventsPerSecond: events / (Number(stamps.endNs - stamps.startNs) / 1e9),
      complete,
    };
  } finally {
    subscription.close();
    // An Inotify's descriptor is closed in libuv's close callback, later in
    // this loop turn. Deleting the files before then would queue one IN_DELETE
    // per file on it, and the kernel would free them, when the descriptor
    // closes, inside the next consumer's timed round.
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const CONSUMERS: readonly Consumer[] = ['fs.watch', 'inotify-event', 'inotify-batch', 'inotify-iterator'];

const REGIMES: readonly Regime[] = ['live', 'queued'];

export async function measureThroughput(burst: string, tmpRoot: string, events: number, rounds: number): Promise<ThroughputResult[]> {
  const cases = REGIMES.flatMap((regime) => CONSUMERS.map((consumer) => ({ regime, consumer, key: `${regime} ${consumer}` })));
  const samples = new Map<string, Round[]>(cases.map((c) => [c.key, []]));
  const complete = new Map<string, boolean>(cases.map((c) => [c.key, true]));
  // Interleaved, so drift in the machine's load hits every case alike.
  for (let r = 0; r < rounds + 1; r++) {
    for (const { regime, consumer, key } of cases) {
      const result = await round(regime, consumer, burst, tmpRoot, events);
      // Round 0 warms up the JIT and is not counted.
      if (r > 0 && result.complete) samples.get(key)?.push(result);
      if (!result.complete) complete.set(key, false);
    }
  }
  return cases.map(({ regime, consumer, key }) => {
    const counted = samples.get(key) ?? [];
    return {
      regime,
      consumer,
      events,
      rounds,
      eventsPerSecond: median(counted.map((s) => s.eventsPerSecond)),
      cpuUsPerEvent: median(counted.map((s) => s.cpuUsPerEvent)),
      wakeupsPerEvent: median(counted.map((s) => s.wakeupsPerEvent)),
      writerEventsPerSecond: median(counted.map((s) => s.writerEventsPerSecond)),
      complete: complete.get(key) ?? false,
    };
  });
}
