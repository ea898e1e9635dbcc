// Library throughput: events per second from the kernel queue to a
// JavaScript listener, through the addon (lib/inotify.ts) and through
// fs.watch, on the same workload.
//
// Each round creates `events` files in one directory while this process's
// event loop is blocked, so every event is already queued in the kernel when
// the clock starts; the clock stops when the listener has seen the last one.
// What is measured is therefore only the delivery path (read, parse, objects,
// callbacks), not how fast files can be made. `events` stays below
// fs.inotify.max_queued_events so nothing overflows. Both watchers use
// fs.watch's own mask (libuv's), so both see exactly one IN_CREATE per file.
import { closeSync, mkdtempSync, openSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';

import { Inotify } from '../lib/inotify';
import {
  IN_ATTRIB, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO,
} from '../lib/inotify-flags';
import { median, nsToMs } from './stats';

/** The mask libuv's uv_fs_event_start asks for. */
const LIBUV_MASK = IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO;

export type Consumer = 'inotify-event' | 'inotify-batch' | 'inotify-iterator' | 'fs.watch';

export interface ThroughputResult {
  readonly consumer: Consumer;
  readonly events: number;
  readonly rounds: number;
  /** Median over rounds. */
  readonly eventsPerSecond: number;
  readonly complete: boolean;
}

interface Subscription {
  /** Resolves when `count` events have been seen, or false when the deadline passes. */
  readonly done: Promise<boolean>;
  close(): void;
}

function subscribe(consumer: Consumer, dir: string, count: number): Subscription {
  let seen = 0;
  let finish: (complete: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  // A round takes tens of milliseconds; one that has not finished in 3 s lost events.
  const deadline = setTimeout(() => finish(false), 3000);
  const tick = (n: number): void => {
    seen += n;
    if (seen >= count) finish(true);
  };
  if (consumer === 'fs.watch') {
    const watcher = watch(dir, () => tick(1));
    return { done, close: () => (clearTimeout(deadline), watcher.close()) };
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
  return { done, close: () => (clearTimeout(deadline), inotify.close()) };
}

async function round(consumer: Consumer, tmpRoot: string, events: number): Promise<{ ms: number; complete: boolean }> {
  const dir = mkdtempSync(join(tmpRoot, 'throughput-'));
  const subscription = subscribe(consumer, dir, events);
  try {
    for (let i = 0; i < events; i++) closeSync(openSync(join(dir, `f${i}`), 'wx'));
    const started = process.hrtime.bigint();
    const complete = await subscription.done;
    const ms = nsToMs(process.hrtime.bigint() - started);
    // This continuation runs inside the listener call that saw the last
    // event. For fs.watch, libuv defers inotify_rm_watch until that call
    // returns, so closing and deleting the files here would queue one
    // IN_DELETE per file on libuv's shared inotify descriptor, and libuv would
    // read them during the next consumer's timed round.
    await new Promise((resolve) => setImmediate(resolve));
    return { ms, complete };
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

export async function measureThroughput(tmpRoot: string, events: number, rounds: number): Promise<ThroughputResult[]> {
  const consumers: Consumer[] = ['fs.watch', 'inotify-event', 'inotify-batch', 'inotify-iterator'];
  const times = new Map<Consumer, number[]>(consumers.map((c) => [c, []]));
  const complete = new Map<Consumer, boolean>(consumers.map((c) => [c, true]));
  // Interleaved, so drift in the machine's load hits every consumer alike.
  for (let r = 0; r < rounds + 1; r++) {
    for (const consumer of consumers) {
      const result = await round(consumer, tmpRoot, events);
      // Round 0 warms up the JIT and is not counted.
      if (r > 0) times.get(consumer)?.push(result.ms);
      if (!result.complete) complete.set(consumer, false);
    }
  }
  return consumers.map((consumer) => ({
    consumer,
    events,
    rounds,
    eventsPerSecond: events / (median(times.get(consumer) ?? []) / 1000),
    complete: complete.get(consumer) ?? false,
  }));
}
