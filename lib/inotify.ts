// A typed inotify instance over the native handle.
//
// Kernel behaviour that shapes this API (inotify(7)):
// - Watches are per inode, not per path. Adding a second path to an inode this
//   instance already watches returns the same wd and, without IN_MASK_ADD,
//   replaces its mask. Both paths then name one Watch; event paths are joined
//   to the path it was first added with.
// - A wd stays valid until IN_IGNORED arrives, even after inotify_rm_watch:
//   events queued before the removal still carry it. The registry retires a
//   wd only on IN_IGNORED, so late events are attributed correctly and a
//   reused number never inherits a stale watch.
// - When the kernel queue (fs.inotify.max_queued_events, 16384 by default)
//   fills, further events are dropped and a single IN_Q_OVERFLOW with wd -1 is
//   queued. It always reaches every consumer: after it, only a rescan tells
//   the truth.
// - Watches are not recursive, and a watch on a symlink follows it unless
//   IN_DONT_FOLLOW is given. IN_DELETE_SELF for a file comes only once its
//   last link is gone and its last descriptor closed.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

import { abortError, hasCode } from './errors';
import { closedError, explainInotifyError } from './inotify-errors';
import { decodeEvent, type EventWatch, type InotifyEvent, overflowEvent, type Watch } from './inotify-event';
export type { Watch } from './inotify-event';
import { IN_IGNORED, IN_MASK_ADD, IN_Q_OVERFLOW } from './inotify-flags';
import { native, type NativeInotifyHandle, type RawNames } from './native';
import { PushIterator } from './push-iterator';

export type {
  InotifyEvent, InotifyEventBase, InotifyFileEvent, InotifyNameEvent, InotifyOverflowEvent, InotifySelfEvent,
  InotifyWatchEvent,
} from './inotify-event';


export interface InotifyOptions {
  /** Keep the event loop alive while open (default true), like fs.watch's `persistent`. */
  readonly ref?: boolean;
}

export interface EventsOptions {
  /** Ends the iteration: a pending `next()` rejects with an AbortError. */
  readonly signal?: AbortSignal;
  /**
   * How many events may wait for a slow consumer (default 16384). Past it the
   * waiting events are discarded and one `overflow` event (source `queue`)
   * takes their place, so the consumer knows to rescan.
   */
  readonly capacity?: number;
}

interface InotifyEvents {
  event: [event: InotifyEvent];
  batch: [events: InotifyEvent[]];
  overflow: [event: InotifyEvent];
  error: [error: Error];
  close: [];
}

class WatchRecord implements EventWatch {
  active = true;
  readonly paths = new Set<string>();
  /**
   * What join(path, name) puts before `name`. The kernel's names never
   * contain '/' and are never '.' or '..', which join would resolve, so
   * prefixing gives join's result for a string concatenation per event.
   */
  readonly childPrefix: string;
  constructor(readonly wd: number, readonly path: string, public mask: number) {
    this.paths.add(path);
    this.childPrefix = join(path, 'x').slice(0, -1);
  }
}

const DEFAULT_CAPACITY = 16384;

/**
 * One inotify instance (one descriptor, its own kernel queue).
 *
 * Events: `batch` (every event of one wakeup's reads, in order), then `event` for each,
 * then `overflow` for an IN_Q_OVERFLOW; `error` when reading fails; `close`.
 * A listener that throws does not keep the other listeners or the rest of the
 * batch from their events; its exception surfaces as an uncaught exception
 * once the batch is delivered, as one from an fs.watch listener would.
 */
export class Inotify extends EventEmitter<InotifyEvents> {
  readonly #handle: NativeInotifyHandle;
  readonly #byWd = new Map<number, WatchRecord>();
  readonly #byPath = new Map<string, WatchRecord>();
  #closed = false;

  /** Throws EMFILE with the limit that was hit (instances per user, or descriptors per process). */
  constructor(options: InotifyOptions = {}) {
    super();
    try {
      this.#handle = new native.InotifyHandle(
        (count, records, names, raws) => this.#onBatch(count, records, names, raws),
        (error) => this.#onError(error),
      );
    } catch (error) {
      throw explainInotifyError(error);
    }
    if (options.ref === false) this.#handle.unref();
  }

  /** The inotify file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live watches, by wd. */
  get watches(): ReadonlyMap<number, Watch> {
    return this.#byWd;
  }

  /**
   * Adds a watch (inotify_add_watch), or returns the existing Watch when this
   * instance already watches the inode. Throws a system error: ENOENT,
   * EACCES, ENOTDIR (also with IN_ONLYDIR on a non-directory), EEXIST (with
   * IN_MASK_CREATE on a watched inode), EINVAL (no event bit in `mask`),
   * EBADF once closed, or ENOSPC with a message naming
   * fs.inotify.max_user_watches and its value.
   */
  watch(path: string | Buffer, mask: number): Watch {
    if (typeof path !== 'string' && !Buffer.isBuffer(path)) {
      throw new TypeError(`watch(path, mask): path must be a string or a Buffer, got ${path === null ? 'null' : typeof path}`);
    }
    if (path.length === 0) throw new TypeError('watch(path, mask): path must not be empty');
    if (!Number.isInteger(mask) || mask < -0x80000000 || mask > 0xffffffff) {
      throw new TypeError(`watch(path, mask): mask must be a 32-bit integer of IN_* flags, got ${describe(mask)}`);
    }
    const key = typeof path === 'string' ? path : path.toString();
    if (this.#closed) throw closedError('inotify_add_watch', key);
    let wd: number;
    try {
      wd = this.#handle.addWatch(path, mask >>> 0);
    } catch (error) {
      throw explainInotifyError(error, mask);
    }
    let record = this.#byWd.get(wd);
    if (record === undefined) {
      record = new WatchRecord(wd, key, mask >>> 0);
      this.#byWd.set(wd, record);
    } else {
      record.mask = ((mask & IN_MASK_ADD) !== 0 ? record.mask | mask : mask) >>> 0;
      record.paths.add(key);
    }
    this.#byPath.set(key, record);
    return record;
  }

  /** The live watch added under this path, if any. */
  watchFor(path: string): Watch | undefined {
    return this.#byPath.get(path);
  }

  /**
   * Asks the kernel to remove a watch (every path of its inode). The watch
   * stays registered, and events queued before the removal keep arriving for
   * it, until the kernel's IN_IGNORED retires it. Removing an unknown watch or
   * one the kernel has already dropped is not an error.
   */
  unwatch(watch: Watch | number | string): void {
    if (this.#closed) return;
    const record = this.#resolve(watch);
    if (record === undefined || !record.active) return;
    try {
      this.#handle.removeWatch(record.wd);
    } catch (error) {
      // EINVAL: the kernel already removed it and IN_IGNORED is on its way.
      if (!hasCode(error, 'EINVAL')) throw error;
    }
  }

  /** Lets the process exit while this instance is open. */
  unref(): this {
    this.#handle.unref();
    return this;
  }

  /** Keeps the process alive while this instance is open (the default). */
  ref(): this {
    this.#handle.ref();
    return this;
  }

  /**
   * Closes the descriptor; every watch goes with it, and events still queued
   * in the kernel are discarded. Safe to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.close();
    for (const record of this.#byWd.values()) record.active = false;
    this.#byWd.clear();
    this.#byPath.clear();
    this.emit('close');
  }

  /**
   * {@link close}, for `using inotify = new Inotify()`: in TypeScript 5.2 and
   * later, whose compiled `using` calls this on Node 20.4 and later, and in
   * JavaScript where the engine itself accepts `using` (Node 24 and later).
   * Node 20 defines Symbol.dispose but its JavaScript rejects `using`: there,
   * call close() in a `finally`.
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Events as an async iterator with its own bounded queue. Ends when the
   * instance closes; rejects with an AbortError when `signal` aborts, and
   * with the error when reading fails. Breaking out of the loop detaches it.
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<InotifyEvent> {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`events({ capacity }): capacity must be a positive integer, got ${describe(capacity)}`);
    }
    return new EventQueue(this, capacity, options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<InotifyEvent> {
    return this.events();
  }

  #resolve(watch: Watch | number | string): WatchRecord | undefined {
    if (typeof watch === 'number') return this.#byWd.get(watch);
    if (typeof watch === 'string') return this.#byPath.get(watch);
    const record = this.#byWd.get(watch.wd);
    // A Watch from before its wd was retired must not remove a newer watch that reuses the number.
    return record === watch ? record : undefined;
  }

  #onError(error: NodeJS.ErrnoException): void {
    this.emit('error', error);
  }

  #onBatch(count: number, records: Uint32Array, names: string, raws: RawNames): void {
    if (this.#closed) return;
    const events = this.#decodeBatch(count, records, names, raws);
    // Allocated at the first failure: a wakeup often brings a single event,
    // so what each batch costs is paid about once per event.
    let failures: unknown[] | undefined;
    if (this.listenerCount('batch') > 0) failures = this.#deliver(failures, 'batch', events);
    // Checked once: only a listener can add a listener, and none runs between here and the loop.
    if (this.listenerCount('event') > 0 || this.listenerCount('overflow') > 0) {
      for (const event of events) {
        failures = this.#deliver(failures, 'event', event);
        if (event.kind === 'overflow') failures = this.#deliver(failures, 'overflow', event);
      }
    }
    if (failures === undefined) return;
    for (let i = 1; i < failures.length; i++) {
      const failure = failures[i];
      process.nextTick(() => {
        throw failure;
      });
    }
    throw failures[0];
  }

  /** Calls each listener on its own, so one that throws cannot starve the others; returns the failures so far. */
  #deliver<K extends 'batch' | 'event' | 'overflow'>(
    failures: unknown[] | undefined,
    name: K,
    payload: InotifyEvents[K][0],
  ): unknown[] | undefined {
    for (const listener of this.rawListeners(name) as Array<(payload: InotifyEvents[K][0]) => void>) {
      try {
        listener.call(this, payload);
      } catch (failure) {
        (failures ??= []).push(failure);
      }
    }
    return failures;
  }

  #decodeBatch(count: number, records: Uint32Array, names: string, raws: RawNames): InotifyEvent[] {
    const events: InotifyEvent[] = [];
    for (let i = 0, r = 0, start = 0; i < count; i++, r += 3) {
      // Each name is cut from the joined string in turn rather than by
      // split(): a wakeup often brings a single event, whose name is then the
      // whole string, and slice() of the whole string is that string.
      const end = i === count - 1 ? names.length : names.indexOf('/', start);
      // An empty segment is an event without a name: no file name is empty.
      const name = end === start ? undefined : names.slice(start, end);
      start = end + 1;
      const wd = (records[r] ?? 0) | 0;
      const mask = records[r + 1] ?? 0;
      if ((mask & IN_Q_OVERFLOW) !== 0) {
        events.push(overflowEvent('kernel'));
        continue;
      }
      // Every wd the kernel reports was returned by watch() before its
      // events could be read, and is forgotten only at its IN_IGNORED, the
      // last event it carries: the registry always knows it.
      const watch = this.#byWd.get(wd);
      if (watch === undefined) continue;
      if ((mask & IN_IGNORED) !== 0) this.#retire(watch);
      events.push(decodeEvent(wd, mask, records[r + 2] ?? 0, name, raws?.[i], watch));
    }
    return events;
  }

  #retire(record: WatchRecord): void {
    record.active = false;
    this.#byWd.delete(record.wd);
    for (const path of record.paths) {
      if (this.#byPath.get(path) === record) this.#byPath.delete(path);
    }
  }
}

/** A number as written, anything else by its type: for "got ..." in messages. */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

class EventQueue extends PushIterator<InotifyEvent> {
  // Consumed from #head rather than by shift(): a burst queues thousands of
  // events, and shift() may copy the rest of an array that large each time.
  #queue: Array<InotifyEvent | undefined> = [];
  #head = 0;
  readonly #onBatch = (events: InotifyEvent[]): void => this.#push(events);
  readonly #onClose = (): void => this.end(undefined);
  readonly #onError = (error: Error): void => this.end(error);
  readonly #onAbort = (): void => this.end(abortError(this.signal));

  constructor(
    private readonly inotify: Inotify,
    private readonly capacity: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    super();
    if (signal?.aborted) {
      this.end(abortError(signal));
      return;
    }
    if (inotify.closed) {
      this.end(undefined);
      return;
    }
    inotify.on('batch', this.#onBatch);
    inotify.on('close', this.#onClose);
    inotify.on('error', this.#onError);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  protected take(): InotifyEvent | undefined {
    const event = this.#queue[this.#head];
    if (event === undefined) return undefined;
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) this.discard();
    return event;
  }

  protected discard(): void {
    this.#queue = [];
    this.#head = 0;
  }

  protected detach(): void {
    this.inotify.off('batch', this.#onBatch);
    this.inotify.off('close', this.#onClose);
    this.inotify.off('error', this.#onError);
    this.signal?.removeEventListener('abort', this.#onAbort);
  }

  #push(events: InotifyEvent[]): void {
    for (const event of events) {
      if (this.offer(event)) continue;
      if (this.#queue.length - this.#head >= this.capacity) {
        // Dropping silently would hide changes; one overflow tells the consumer to rescan.
        this.discard();
        this.#queue.push(overflowEvent('queue'));
      } else {
        this.#queue.push(event);
      }
    }
  }
}
