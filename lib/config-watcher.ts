// Watches configuration directories and says when what an app reads really
// changed: once per change, with what changed.
//
// - Kubelet volumes (ConfigMap, Secret, projected, downwardAPI): the commit,
//   the rename of `..data_tmp` over `..data`, is the one change, checked at
//   once (kubelet-volume.ts).
// - Plain directories are watched recursively; their events are checked after
//   a trailing debounce, so a burst or an editor's save is one check. A
//   maximum delay bounds the debounce: a file rewritten over and over cannot
//   postpone a real change next to it for ever.
// - Several volumes: the kubelet commits each volume of a Pod on its own, so
//   a ConfigMap and a Secret updated together land apart. With `settle`, a
//   commit waits that long for the other volumes' commits, so the one check
//   sees them all; a commit in every volume ends the wait at once.
// - IN_ATTRIB is never watched: chmod, chown and fsGroup walks change no content.
// - A check compares the content fingerprint (fingerprint.ts) with the last
//   one reported: bookkeeping events and identical rewrites report nothing.
// - A queue overflow rescans everything and checks; a directory that is
//   deleted is waited for and checked again when it is back. While one is
//   missing nothing is checked, so no change is reported for a half-present
//   configuration.
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

import { DirectoryWatcher, type DirectoryKind, type Trigger } from './directory-watcher';
import { diffFingerprints, type FileChanges, type Fingerprint, fingerprint } from './fingerprint';
import { abortError } from './errors';
import { Inotify, type InotifyEvent } from './inotify';
import { WatchRouter } from './watch-router';
import type { WatchProblem } from './watch-tree';

export interface ConfigWatcherOptions {
  /** Directories to watch: kubelet volumes and plain directories alike. Each must exist when opened. */
  readonly dirs: readonly string[];
  /** Quiet time after the last plain-directory event before a check, in ms (default 250). */
  readonly debounce?: number;
  /** Longest a check waits for events to stop, in ms from the first (default 10 s, at least `debounce` and `settle`). */
  readonly maxDelay?: number;
  /**
   * With more than one directory: how long a kubelet commit waits for
   * commits in the other kubelet volumes before the check, in ms (default 0,
   * no wait). The wait ends early once every kubelet volume has committed.
   * With a single directory nothing waits.
   */
  readonly settle?: number;
  /** Keep the event loop alive while open (default true). */
  readonly ref?: boolean;
}

/** Why a check ran: the first few distinct triggers, and how many others came besides. */
export interface CheckReasons {
  readonly reasons: readonly string[];
  readonly moreReasons: number;
  /** performance.now() of the first trigger of this check. */
  readonly detectedAt: number;
}

/** A real change: the content differs from the last one reported (or found at open). */
export interface ConfigChange extends CheckReasons, FileChanges {
  readonly fingerprint: Fingerprint;
  readonly previous: Fingerprint;
}

/** A check that found the content last reported: a resync, a rewrite of the same bytes. */
export interface UnchangedCheck extends CheckReasons {
  readonly fingerprint: Fingerprint;
}

export interface DirectoryState {
  readonly dir: string;
  readonly kind: DirectoryKind;
  readonly watches: number;
}

interface ConfigWatcherEvents {
  change: [change: ConfigChange];
  unchanged: [check: UnchangedCheck];
  /** How many inotify events one read brought (after they were handled). */
  events: [count: number];
  /** Every event that asks for a check, for debugging. */
  trigger: [trigger: Trigger];
  /** A check was due, and not made, because these directories are missing. */
  missing: [dirs: readonly string[]];
  /** A configured directory was deleted, moved away or unmounted; its return is awaited. */
  lost: [dir: string, why: string];
  /** It is back and watched again; a check follows at once. */
  back: [dir: string, kind: DirectoryKind];
  /** A directory inside could not be watched; the rest is watched regardless. */
  problem: [problem: WatchProblem];
  /** Events were lost; everything is rescanned and checked. */
  overflow: [source: 'kernel' | 'queue'];
  error: [error: Error];
  close: [];
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_MAX_DELAY_MS = 10_000;
/** Reasons listed per check; a burst brings one trigger per event. */
const LISTED_REASONS = 3;

export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> implements AsyncIterable<ConfigChange> {
  readonly dirs: readonly string[];
  readonly #debounceMs: number;
  readonly #maxDelayMs: number;
  readonly #settleMs: number;
  readonly #inotify: Inotify;
  readonly #router: WatchRouter;
  readonly #watchers: DirectoryWatcher[];
  #fingerprint: Fingerprint;
  #debounce: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Set while a commit waits for the other volumes' (`settle`); the directories committed since. */
  #settle: { readonly timer: NodeJS.Timeout; readonly committed: Set<string> } | undefined;
  /** Set while a batch is dispatched: an immediate check then runs as the batch ends. */
  #inBatch = false;
  #checkAfterBatch = false;
  #pending: { listed: string[]; more: number; since: number | undefined } = { listed: [], more: 0, since: undefined };
  readonly #ref: boolean;
  #closed = false;

  private constructor(options: ConfigWatcherOptions) {
    super();
    this.dirs = [...new Set(options.dirs.map((dir) => resolve(dir)))];
    this.#debounceMs = checkDuration('debounce', options.debounce ?? DEFAULT_DEBOUNCE_MS);
    this.#settleMs = checkDuration('settle', options.settle ?? 0);
    this.#maxDelayMs = Math.max(this.#debounceMs, this.#settleMs, checkDuration('maxDelay', options.maxDelay ?? DEFAULT_MAX_DELAY_MS));
    this.#ref = options.ref !== false;
    this.#inotify = new Inotify(this.#ref ? {} : { ref: false });
    this.#router = new WatchRouter(this.#inotify);
    this.#watchers = this.dirs.map((dir) => new DirectoryWatcher(dir, this.#router, {
      trigger: (trigger) => this.#request(trigger),
      lost: (lost, why) => this.emit('lost', lost, why),
      back: (back, kind) => this.emit('back', back, kind),
      problem: (problem) => this.emit('problem', problem),
    }));
    this.#fingerprint = { digest: '', files: new Map() };
    this.#inotify.on('batch', (events) => this.#onBatch(events));
    this.#inotify.on('error', (error) => this.#fail(error));
  }

  /**
   * Watches every directory and records the starting fingerprint; resolves
   * once both are done. Rejects, holding nothing, when a directory does not
   * exist or cannot be watched (the error names it; ENOSPC names the limit).
   */
  static async open(options: ConfigWatcherOptions): Promise<ConfigWatcher> {
    if (options.dirs.length === 0) throw new TypeError('ConfigWatcher.open({ dirs }): dirs must name at least one directory');
    const watcher = new ConfigWatcher(options);
    try {
      for (const dir of watcher.dirs) assertDirectory(dir);
      for (const directory of watcher.#watchers) directory.establish();
      watcher.#fingerprint = fingerprint(watcher.dirs);
    } catch (error) {
      await watcher.close();
      throw error;
    }
    return watcher;
  }

  /** The content last reported (or found at open). */
  get fingerprint(): Fingerprint {
    return this.#fingerprint;
  }

  /** Each directory, its kind now and its watches. */
  get directories(): readonly DirectoryState[] {
    return this.#watchers.map((watcher) => ({ dir: watcher.dir, kind: watcher.kind, watches: watcher.watchCount }));
  }

  /** True while every configured directory exists and is watched. */
  get complete(): boolean {
    return this.#watchers.every((watcher) => !watcher.missing);
  }

  /** Watches held in all. */
  get watchCount(): number {
    return this.#router.size;
  }

  /** Directories inside that could not be watched, and why. */
  get problems(): readonly WatchProblem[] {
    return this.#watchers.flatMap((watcher) => watcher.problems);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Checks now, as a trigger would (after an outside hint that something changed). */
  checkNow(reason = 'requested'): void {
    this.#request({ dir: '*', reason, immediate: true });
  }

  /** Stops watching and ends every iteration. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimers();
    for (const watcher of this.#watchers) watcher.close();
    this.#inotify.close();
    this.emit('close');
  }

  /**
   * The changes as an async iterator; ends when the watcher closes, rejects
   * with an AbortError when `signal` aborts. A consumer slower than the
   * changes gets them merged: one change from the configuration it saw last
   * to the newest, never a stale one.
   */
  changes(options: { readonly signal?: AbortSignal } = {}): AsyncIterableIterator<ConfigChange> {
    return new ChangeQueue(this, options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConfigChange> {
    return this.changes();
  }

  #onBatch(events: readonly InotifyEvent[]): void {
    this.#inBatch = true;
    try {
      for (const event of events) {
        try {
          this.#dispatch(event);
        } catch (error) {
          // A watcher's bookkeeping failed for one event: the rest of the
          // batch still counts, and a rescan-and-check restores a known state.
          this.#fail(error);
          this.#rescan('kernel');
        }
      }
      for (const watcher of this.#watchers) watcher.endBatch();
    } finally {
      this.#inBatch = false;
    }
    if (this.#checkAfterBatch) {
      this.#checkAfterBatch = false;
      this.#check();
    }
    this.emit('events', events.length);
  }

  #dispatch(event: InotifyEvent): void {
    if (event.kind !== 'overflow') {
      this.#router.dispatch(event);
      return;
    }
    this.emit('overflow', event.overflowSource ?? 'kernel');
    this.#rescan(event.overflowSource ?? 'kernel');
  }

  #rescan(source: 'kernel' | 'queue'): void {
    for (const watcher of this.#watchers) {
      try {
        watcher.rescan();
      } catch (error) {
        this.#fail(error);
      }
    }
    // Through the debounce: an overflow means a burst is under way, which
    // should end in one check, not one per overflow.
    this.#request({ dir: '*', reason: `queue overflow (${source})`, immediate: false });
  }

  #request(trigger: Trigger): void {
    if (this.#closed) return;
    this.emit('trigger', trigger);
    const pending = this.#pending;
    if (!pending.listed.includes(trigger.reason)) {
      if (pending.listed.length < LISTED_REASONS) pending.listed.push(trigger.reason);
      else pending.more++;
    }
    if (pending.since === undefined) {
      pending.since = performance.now();
      this.#deadline = setTimeout(() => this.#check(), this.#maxDelayMs);
      this.#unrefIfAsked(this.#deadline);
    }
    if (trigger.immediate) {
      if (this.#settling(trigger)) return;
      clearTimeout(this.#debounce);
      this.#debounce = undefined;
      // Not a direct call: one batch can hold several commits (several
      // volumes), and they make one check, as the batch ends.
      if (this.#inBatch) {
        this.#checkAfterBatch = true;
        return;
      }
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#check();
      });
    } else if (this.#immediate === undefined && !this.#checkAfterBatch && this.#settle === undefined) {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.#check(), this.#debounceMs);
      this.#unrefIfAsked(this.#debounce);
    }
  }

  /**
   * True while a commit waits for the commits of the other kubelet volumes
   * (the check then runs when the last of them commits, or when `settle`
   * has passed since the first). Other immediate triggers never wait.
   */
  #settling(trigger: Trigger): boolean {
    if (trigger.commit !== true || this.#settleMs === 0 || this.#watchers.length < 2) return false;
    const committed = this.#settle?.committed ?? new Set<string>();
    committed.add(trigger.dir);
    const volumes = this.#watchers.filter((watcher) => watcher.kind === 'kubelet volume');
    if (volumes.every((watcher) => committed.has(watcher.dir))) return false;
    if (this.#settle === undefined) {
      const timer = setTimeout(() => this.#check(), this.#settleMs);
      this.#unrefIfAsked(timer);
      this.#settle = { timer, committed };
    }
    // The settled check covers the plain directories' events as well.
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    return true;
  }

  #unrefIfAsked(timer: NodeJS.Timeout): void {
    if (!this.#ref) timer.unref();
  }

  #cancelTimers(): void {
    clearTimeout(this.#debounce);
    clearTimeout(this.#deadline);
    clearTimeout(this.#settle?.timer);
    this.#settle = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#debounce = undefined;
    this.#deadline = undefined;
    this.#immediate = undefined;
    this.#checkAfterBatch = false;
  }

  #check(): void {
    if (this.#closed) return;
    this.#cancelTimers();
    const pending = this.#pending;
    this.#pending = { listed: [], more: 0, since: undefined };
    const reasons: CheckReasons = { reasons: pending.listed, moreReasons: pending.more, detectedAt: pending.since ?? performance.now() };
    const missing = this.#watchers.filter((watcher) => watcher.missing).map((watcher) => watcher.dir);
    if (missing.length > 0) {
      this.emit('missing', missing);
      return;
    }
    let current: Fingerprint;
    try {
      current = fingerprint(this.dirs);
    } catch (error) {
      this.#fail(error);
      return;
    }
    const previous = this.#fingerprint;
    if (current.digest === previous.digest) {
      this.emit('unchanged', { ...reasons, fingerprint: current });
      return;
    }
    this.#fingerprint = current;
    this.emit('change', { ...reasons, ...diffFingerprints(previous, current), fingerprint: current, previous });
  }

  #fail(error: unknown): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}

function checkDuration(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`ConfigWatcher.open({ ${name} }): ${name} must be a number of milliseconds, 0 or more; got ${String(value)}`);
  }
  return value;
}

function assertDirectory(dir: string): void {
  const stat = statSync(dir); // throws ENOENT, EACCES with the path, as fs does
  if (!stat.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, ConfigWatcher.open '${dir}'`), {
      code: 'ENOTDIR', errno: -20, syscall: 'stat', path: dir,
    });
  }
}

class ChangeQueue implements AsyncIterableIterator<ConfigChange> {
  #queued: ConfigChange | undefined;
  #waiter: { resolve: (result: IteratorResult<ConfigChange>) => void; reject: (error: unknown) => void } | undefined;
  #done = false;
  #failure: unknown;
  readonly #onChange = (change: ConfigChange): void => this.#push(change);
  readonly #onClose = (): void => this.#finish(undefined);
  readonly #onAbort = (): void => this.#finish(abortError(this.signal));

  constructor(private readonly watcher: ConfigWatcher, private readonly signal: AbortSignal | undefined) {
    if (watcher.closed) {
      this.#done = true;
      return;
    }
    if (signal?.aborted === true) {
      this.#done = true;
      this.#failure = abortError(signal);
      return;
    }
    watcher.on('change', this.#onChange);
    watcher.on('close', this.#onClose);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConfigChange> {
    return this;
  }

  next(): Promise<IteratorResult<ConfigChange>> {
    const queued = this.#queued;
    if (queued !== undefined) {
      this.#queued = undefined;
      return Promise.resolve({ value: queued, done: false });
    }
    if (this.#done) {
      const failure = this.#failure;
      this.#failure = undefined;
      return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<ConfigChange>> {
    this.#finish(undefined);
    this.#queued = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  #push(change: ConfigChange): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: change, done: false });
      return;
    }
    const older = this.#queued;
    if (older !== undefined && older.previous.digest === change.fingerprint.digest) {
      // Changed and changed back before the consumer looked: nothing to see.
      this.#queued = undefined;
      return;
    }
    // Merged: from what the consumer saw last to the newest content.
    this.#queued = older === undefined ? change : {
      ...change,
      ...diffFingerprints(older.previous, change.fingerprint),
      previous: older.previous,
      reasons: [...new Set([...older.reasons, ...change.reasons])].slice(0, LISTED_REASONS),
      moreReasons: older.moreReasons + change.moreReasons,
      detectedAt: older.detectedAt,
    };
  }

  #finish(failure: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.watcher.off('change', this.#onChange);
    this.watcher.off('close', this.#onClose);
    this.signal?.removeEventListener('abort', this.#onAbort);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) this.#failure = failure;
    else if (failure === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(failure);
  }
}
