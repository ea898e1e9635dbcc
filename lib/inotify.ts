// A typed inotify instance over the native handle.
//
// Kernel behaviour that shapes this API (inotify(7)):
// - Watches are per inode, not per path. Adding a second path to an inode this
//   instance already watches returns the same wd and, without IN_MASK_ADD,
//   replaces its mask. Both paths then name one Watch.
// - A wd stays valid until IN_IGNORED arrives, even after inotify_rm_watch:
//   events queued before the removal still carry it. The registry retires a
//   wd only on IN_IGNORED, so late events are attributed correctly and a
//   reused number never inherits a stale watch.
// - When the kernel queue (fs.inotify.max_queued_events) fills, events are
//   dropped and a single IN_Q_OVERFLOW with wd -1 is queued. It always
//   reaches every consumer: after it, only a rescan tells the truth.
// - Watches are not recursive, and a watch on a symlink follows it unless
//   IN_DONT_FOLLOW is given.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

import { explainInotifyError } from './errors';
import { decodeKinds, IN_IGNORED, IN_ISDIR, IN_Q_OVERFLOW, type InotifyEventKind } from './inotify-flags';
import { native, type NativeInotifyHandle, type RawInotifyEvent } from './native';

/** A watch established by {@link Inotify.watch}. */
export interface Watch {
  readonly wd: number;
  /** The path it was first added with (lossy when given as non-UTF-8 bytes). */
  readonly path: string;
  /** The mask most recently requested for it. */
  readonly mask: number;
  /** False once IN_IGNORED has retired it. */
  readonly active: boolean;
}

/** One event, decoded. */
export interface InotifyEvent {
  readonly wd: number;
  readonly mask: number;
  /** Links IN_MOVED_FROM to its IN_MOVED_TO; 0 for other events. */
  readonly cookie: number;
  /** The primary kind; see `kinds` for every bit set. */
  readonly kind: InotifyEventKind;
  readonly kinds: readonly InotifyEventKind[];
  readonly isDir: boolean;
  /** The entry's name inside the watched directory; undefined for events on the watch itself. */
  readonly name: string | undefined;
  /** The exact name bytes when they are not valid UTF-8. */
  readonly rawName: Buffer | undefined;
  /** The watch the event belongs to; undefined for overflow (wd -1). */
  readonly watch: Watch | undefined;
  /** The watch's path joined with `name`. */
  readonly path: string | undefined;
  /**
   * For `overflow`: `kernel` when the kernel dropped events, `queue` when this
   * library's bounded queue for a slow `for await` consumer did.
   */
  readonly overflowSource?: 'kernel' | 'queue';
}

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

class WatchRecord implements Watch {
  active = true;
  readonly paths = new Set<string>();
  constructor(readonly wd: number, readonly path: string, public mask: number) {
    this.paths.add(path);
  }
}

const DEFAULT_CAPACITY = 16384;

export class Inotify extends EventEmitter<InotifyEvents> {
  readonly #handle: NativeInotifyHandle;
  readonly #byWd = new Map<number, WatchRecord>();
  readonly #byPath = new Map<string, WatchRecord>();
  #closed = false;

  constructor(options: InotifyOptions = {}) {
    super();
    try {
      this.#handle = new native.InotifyHandle((error, events) => this.#onBatch(error, events));
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
   * Adds a watch (inotify_add_watch). Throws a system error: ENOENT, ENOTDIR
   * (with IN_ONLYDIR), EACCES, EEXIST (with IN_MASK_CREATE), or ENOSPC with a
   * message naming fs.inotify.max_user_watches and its value.
   */
  watch(path: string | Buffer, mask: number): Watch {
    let wd: number;
    try {
      wd = this.#handle.addWatch(path, mask >>> 0);
    } catch (error) {
      throw explainInotifyError(error);
    }
    const key = typeof path === 'string' ? path : path.toString();
    let record = this.#byWd.get(wd);
    if (record === undefined) {
      record = new WatchRecord(wd, key, mask);
      this.#byWd.set(wd, record);
    } else {
      record.mask = mask;
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
   * Asks the kernel to remove a watch. The watch stays registered, and its
   * events keep arriving, until the kernel's IN_IGNORED retires it. Removing a
   * watch the kernel has already dropped is not an error.
   */
  unwatch(watch: Watch | number | string): void {
    const record = this.#resolve(watch);
    if (record === undefined || !record.active) return;
    try {
      this.#handle.removeWatch(record.wd);
    } catch (error) {
      // EINVAL: the kernel already removed it and IN_IGNORED is on its way.
      if (!(error instanceof Error && (error as NodeJS.ErrnoException).code === 'EINVAL')) throw error;
    }
  }

  /** Lets the process exit while this instance is open. */
  unref(): this {
    this.#handle.unref();
    return this;
  }

  ref(): this {
    this.#handle.ref();
    return this;
  }

  /** Closes the descriptor; every watch goes with it. Safe to call twice. */
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
   * Events as an async iterator with its own bounded queue. Ends when the
   * instance closes; rejects with an AbortError when `signal` aborts.
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<InotifyEvent> {
    return new EventQueue(this, options.capacity ?? DEFAULT_CAPACITY, options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<InotifyEvent> {
    return this.events();
  }

  #resolve(watch: Watch | number | string): WatchRecord | undefined {
    if (typeof watch === 'number') return this.#byWd.get(watch);
    if (typeof watch === 'string') return this.#byPath.get(watch);
    return this.#byWd.get(watch.wd);
  }

  #onBatch(error: NodeJS.ErrnoException | null, raw: RawInotifyEvent[] | null): void {
    if (error !== null) {
      this.emit('error', error);
      return;
    }
    if (raw === null || this.#closed) return;
    const events = raw.map((item) => this.#decode(item));
    this.emit('batch', events);
    for (const event of events) {
      this.emit('event', event);
      if (event.kind === 'overflow') this.emit('overflow', event);
    }
  }

  #decode(raw: RawInotifyEvent): InotifyEvent {
    const kinds = decodeKinds(raw.mask);
    const record = this.#byWd.get(raw.wd);
    if ((raw.mask & IN_IGNORED) !== 0 && record !== undefined) this.#retire(record);
    return {
      wd: raw.wd,
      mask: raw.mask,
      cookie: raw.cookie,
      kind: kinds[0] ?? 'ignored',
      kinds,
      isDir: (raw.mask & IN_ISDIR) !== 0,
      name: raw.name,
      rawName: raw.raw,
      watch: record,
      path: record === undefined ? undefined : raw.name === undefined ? record.path : join(record.path, raw.name),
      ...((raw.mask & IN_Q_OVERFLOW) !== 0 ? { overflowSource: 'kernel' as const } : {}),
    };
  }

  #retire(record: WatchRecord): void {
    record.active = false;
    this.#byWd.delete(record.wd);
    for (const path of record.paths) {
      if (this.#byPath.get(path) === record) this.#byPath.delete(path);
    }
  }
}

/** An overflow event that this library, not the kernel, generated. */
function queueOverflow(): InotifyEvent {
  return {
    wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, kind: 'overflow', kinds: ['overflow'], isDir: false,
    name: undefined, rawName: undefined, watch: undefined, path: undefined, overflowSource: 'queue',
  };
}

class EventQueue implements AsyncIterableIterator<InotifyEvent> {
  readonly #queue: InotifyEvent[] = [];
  #waiter: { resolve: (result: IteratorResult<InotifyEvent>) => void; reject: (error: unknown) => void } | undefined;
  #done = false;
  #failure: unknown;
  readonly #onBatch = (events: InotifyEvent[]): void => this.#push(events);
  readonly #onClose = (): void => this.#finish(undefined);
  readonly #onAbort = (): void => this.#finish(abortError(this.signal));

  constructor(
    private readonly inotify: Inotify,
    private readonly capacity: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal?.aborted) {
      this.#done = true;
      this.#failure = abortError(signal);
      return;
    }
    if (inotify.closed) {
      this.#done = true;
      return;
    }
    inotify.on('batch', this.#onBatch);
    inotify.on('close', this.#onClose);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  next(): Promise<IteratorResult<InotifyEvent>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#done) {
      const failure = this.#failure;
      this.#failure = undefined;
      return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<InotifyEvent>> {
    this.#queue.length = 0;
    this.#finish(undefined);
    this.#failure = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<InotifyEvent> {
    return this;
  }

  #push(events: InotifyEvent[]): void {
    for (const event of events) {
      const waiter = this.#waiter;
      if (waiter !== undefined) {
        this.#waiter = undefined;
        waiter.resolve({ value: event, done: false });
      } else if (this.#queue.length >= this.capacity) {
        // Dropping silently would hide changes; one overflow tells the consumer to rescan.
        this.#queue.length = 0;
        this.#queue.push(queueOverflow());
      } else {
        this.#queue.push(event);
      }
    }
  }

  #finish(failure: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.inotify.off('batch', this.#onBatch);
    this.inotify.off('close', this.#onClose);
    this.signal?.removeEventListener('abort', this.#onAbort);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) {
      this.#failure = failure;
    } else if (failure === undefined) {
      waiter.resolve({ value: undefined, done: true });
    } else {
      waiter.reject(failure);
    }
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const error = new Error('The operation was aborted', { cause: signal?.reason });
  error.name = 'AbortError';
  (error as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return error;
}
