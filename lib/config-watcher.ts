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
// - A file still being written in a plain directory holds the check back
//   until it is closed, or for `writeWait` at most (pending-writes.ts).
// - Directories that symbolic links lead to are watched as well
//   (link-watches.ts), after each check, from what the fingerprint read.
// - A check that cannot read the configuration for a passing reason
//   (EMFILE, EIO, ...) is not a check: it emits 'retry' and runs again with
//   a backoff, keeping its reasons, until a read succeeds.
// - Checks never overlap: one asked for during another runs after it.
// - No exception leaves an event handler or a timer: what a listener throws
//   is an 'error' (or, without an 'error' listener, a process warning), and
//   the watcher goes on.
import { EventEmitter } from 'node:events';
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';

import { ChangeQueue } from './change-queue';
import { type CheckReasons, type ConfigChange, lazyConfigChange, LISTED_REASONS, type UnchangedCheck } from './config-change';
import { DirectoryWatcher, type DirectoryKind, PLAIN_MASK, type Trigger } from './directory-watcher';
import {
  type Fingerprint, fingerprint, type FingerprintLimits, type FingerprintOptions,
  FingerprintReadError, type FingerprintSkip,
} from './fingerprint';
import { Inotify, type InotifyEvent } from './inotify';
import { IN_ONLYDIR } from './inotify-flags';
import { LinkWatches } from './link-watches';
import { monotonicMs } from './monotonic-clock';
import { PendingWrites } from './pending-writes';
import { WatchRouter } from './watch-router';
import type { WatchProblem } from './watch-tree';

export interface ConfigWatcherOptions {
  /** Directories to watch: kubelet volumes and plain directories alike. Each must exist when opened. */
  readonly dirs: readonly string[];
  /** Quiet time after the last plain-directory event before a check, in ms (default 250). */
  readonly debounce?: number;
  /**
   * Longest a check waits for events to stop, in ms from the first (default
   * 10 s, at least `debounce` and `settle`). A file still being written holds
   * it longer, up to `writeWait`.
   */
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
  /**
   * Longest a check waits for a file that is still open for writing, in ms
   * from its first write (default 30 s).
   */
  readonly writeWait?: number;
  /** Key of the HMAC-SHA256 fingerprints (see fingerprint.ts); plain sha256 without one. */
  readonly fingerprintKey?: Buffer | string;
  /** Bounds of a fingerprint walk: files, bytes hashed, depth. */
  readonly limits?: Partial<FingerprintLimits>;
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
  /** A directory (configured, inside, or led to by a link) could not be watched; the rest is watched regardless. */
  problem: [problem: WatchProblem];
  /** A check could not read the configuration (EMFILE, EIO, ...); it runs again in `delayMs`. */
  retry: [error: FingerprintReadError, delayMs: number];
  /** The files and directories that exist and cannot be read changed (at open: see `fingerprint.unreadable`). */
  unreadable: [paths: readonly string[]];
  /** The paths the fingerprint walk did not take changed (at open: see `fingerprint.skipped`). */
  skipped: [skips: readonly FingerprintSkip[]];
  /** Events were lost; everything is rescanned and checked. */
  overflow: [source: 'kernel' | 'queue'];
  error: [error: Error];
  close: [];
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_MAX_DELAY_MS = 10_000;
const DEFAULT_WRITE_WAIT_MS = 30_000;
/** Backoff of a check that could not read the configuration. */
const READ_RETRY_FIRST_MS = 100;
const READ_RETRY_MAX_MS = 5000;

export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> implements AsyncIterable<ConfigChange> {
  readonly dirs: readonly string[];
  readonly #debounceMs: number;
  readonly #maxDelayMs: number;
  readonly #settleMs: number;
  readonly #inotify: Inotify;
  readonly #router: WatchRouter;
  readonly #watchers: DirectoryWatcher[];
  readonly #links: LinkWatches;
  readonly #writes: PendingWrites;
  readonly #fingerprintOptions: FingerprintOptions;
  #fingerprint: Fingerprint;
  #debounce: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Set while a commit waits for the other volumes' (`settle`); the directories committed since. */
  #settle: { readonly timer: NodeJS.Timeout; readonly committed: Set<string> } | undefined;
  /** Set while a batch is dispatched: an immediate check then runs as the batch ends. */
  #inBatch = false;
  #checkAfterBatch = false;
  #pending: PendingCheck = emptyPending();
  #checking = false;
  #checkAgain = false;
  #readRetryMs = READ_RETRY_FIRST_MS;
  readonly #ref: boolean;
  #closed = false;

  private constructor(options: ConfigWatcherOptions) {
    super();
    this.dirs = [...new Set(options.dirs.map((dir) => resolve(dir)))];
    this.#debounceMs = checkDuration('debounce', options.debounce ?? DEFAULT_DEBOUNCE_MS);
    this.#settleMs = checkDuration('settle', options.settle ?? 0);
    this.#maxDelayMs = Math.max(this.#debounceMs, this.#settleMs, checkDuration('maxDelay', options.maxDelay ?? DEFAULT_MAX_DELAY_MS));
    this.#ref = options.ref !== false;
    this.#writes = new PendingWrites(checkDuration('writeWait', options.writeWait ?? DEFAULT_WRITE_WAIT_MS));
    this.#fingerprintOptions = {
      ...(options.fingerprintKey === undefined ? {} : { key: options.fingerprintKey }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    };
    this.#inotify = new Inotify(this.#ref ? {} : { ref: false });
    this.#router = new WatchRouter(this.#inotify);
    this.#watchers = this.dirs.map((dir) => new DirectoryWatcher(dir, this.#router, {
      trigger: (trigger) => this.#request(trigger),
      lost: (lost, why) => {
        this.#writes.forget(lost);
        this.emit('lost', lost, why);
      },
      back: (back, kind) => this.emit('back', back, kind),
      problem: (problem) => this.emit('problem', problem),
      written: (event, path) => this.#writes.note(event.kind, path, event.isDir),
    }, { ref: this.#ref }));
    this.#links = new LinkWatches(this.#router, PLAIN_MASK | IN_ONLYDIR, {
      event: (event, path) => {
        this.#writes.note(event.kind, path, event.isDir);
        this.#request({ dir: path, reason: `${event.kind} ${path}`, immediate: false });
      },
      lost: (dir) => this.#request({ dir, reason: `${dir}, led to by a link, went away`, immediate: false }),
      problem: (problem) => this.emit('problem', problem),
    });
    this.#fingerprint = { digest: '', files: new Map(), unreadable: [], skipped: [], linkedDirs: [] };
    this.#inotify.on('batch', (events) => this.#onBatch(events));
    this.#inotify.on('error', (error) => this.#fail(error));
  }

  /**
   * Every event reaches its listeners; one that throws is reported as an
   * 'error' instead of unwinding into the watcher's own bookkeeping.
   */
  override emit<K extends keyof ConfigWatcherEvents>(event: K, ...args: ConfigWatcherEvents[K]): boolean {
    if (event === 'error') return this.#reportError(args[0] as Error);
    try {
      return super.emit<keyof ConfigWatcherEvents>(event, ...args);
    } catch (error) {
      this.#fail(error);
      return true;
    }
  }

  /**
   * Watches every directory and records the starting fingerprint; resolves
   * once both are done. A directory (or one inside) that cannot be watched
   * (EACCES, ENOSPC at the watch limit) is a 'problem', listed in
   * `problems` and tried again with a backoff, not a failure. Rejects,
   * holding nothing, when a directory does not exist, when no inotify
   * instance can be had (EMFILE names the limit), or with a
   * FingerprintReadError when the configuration cannot be read now (EMFILE,
   * EIO: try again later).
   */
  static async open(options: ConfigWatcherOptions): Promise<ConfigWatcher> {
    if (options.dirs.length === 0) throw new TypeError('ConfigWatcher.open({ dirs }): dirs must name at least one directory');
    const watcher = new ConfigWatcher(options);
    try {
      for (const dir of watcher.dirs) assertDirectory(dir);
      for (const directory of watcher.#watchers) directory.establish();
      watcher.#fingerprint = await fingerprint(watcher.dirs, watcher.#fingerprintOptions);
      watcher.#watchLinks(watcher.#fingerprint);
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

  /** Directories that could not be watched (configured ones, ones inside, ones led to by links), and why. */
  get problems(): readonly WatchProblem[] {
    return [...this.#watchers.flatMap((watcher) => watcher.problems), ...this.#links.problems];
  }

  /** Files still being written that hold a check back. */
  get writesInProgress(): readonly string[] {
    return this.#writes.paths;
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
    this.#links.close();
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
      for (const watcher of this.#watchers) {
        try {
          watcher.endBatch();
        } catch (error) {
          this.#fail(error);
        }
      }
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
    // The closes of writes in progress may be among the lost events; a
    // writer still at work is seen again at its next write.
    this.#writes.clear();
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
    if (trigger.poll !== true) pending.pollOnly = false;
    if (!pending.listed.includes(trigger.reason)) {
      if (pending.listed.length < LISTED_REASONS) pending.listed.push(trigger.reason);
      else pending.more++;
    }
    pending.since ??= monotonicMs();
    if (trigger.immediate) {
      if (this.#settling(trigger)) {
        this.#armDeadline(pending.since);
        return;
      }
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
      this.#armDeadline(pending.since);
    }
  }

  /**
   * Bounds a wait that triggers can prolong (the debounce, the settle) to
   * `maxDelay` after the first trigger of the check. A check that runs as
   * the batch ends, or in the next turn, needs no bound, and makes no timer
   * on the way to the reload.
   */
  #armDeadline(since: number): void {
    if (this.#deadline !== undefined) return;
    this.#deadline = setTimeout(() => this.#check(), Math.max(0, this.#maxDelayMs - (monotonicMs() - since)));
    this.#unrefIfAsked(this.#deadline);
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
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    void this.#runChecks();
  }

  async #runChecks(): Promise<void> {
    try {
      do {
        this.#checkAgain = false;
        await this.#checkOnce();
      } while (this.#checkAgain && !this.#closed);
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#checking = false;
    }
  }

  async #checkOnce(): Promise<void> {
    this.#cancelTimers();
    const pending = this.#pending;
    this.#pending = emptyPending();
    const reasons: CheckReasons = { reasons: pending.listed, moreReasons: pending.more, detectedAt: pending.since ?? monotonicMs() };
    const missing = this.#watchers.filter((watcher) => watcher.missing).map((watcher) => watcher.dir);
    if (missing.length > 0) {
      this.emit('missing', missing);
      return;
    }
    const writing = this.#writes.waitMs();
    if (writing > 0) {
      // A file is still being written: its close asks for a check, and the bound ends the wait.
      this.#postpone(pending, writing);
      return;
    }
    let current: Fingerprint;
    try {
      current = await fingerprint(this.dirs, this.#fingerprintOptions);
    } catch (error) {
      if (!(error instanceof FingerprintReadError)) throw error;
      if (this.#closed) return;
      const delay = this.#readRetryMs;
      this.#readRetryMs = Math.min(READ_RETRY_MAX_MS, delay * 2);
      this.#postpone(pending, delay);
      this.emit('retry', error, delay);
      return;
    }
    if (this.#closed) return;
    this.#readRetryMs = READ_RETRY_FIRST_MS;
    const previous = this.#fingerprint;
    this.#watchLinks(current);
    if (current.unreadable.join('\0') !== previous.unreadable.join('\0')) this.emit('unreadable', current.unreadable);
    if (describeSkips(current.skipped) !== describeSkips(previous.skipped)) this.emit('skipped', current.skipped);
    if (current.digest === previous.digest) {
      this.#fingerprint = current;
      if (!pending.pollOnly) this.emit('unchanged', { ...reasons, fingerprint: current });
      return;
    }
    this.#fingerprint = current;
    this.emit('change', lazyConfigChange(reasons, current, previous));
  }

  /** Puts a check's reasons back and runs it again in `delayMs` (sooner if asked). */
  #postpone(taken: PendingCheck, delayMs: number): void {
    const pending = this.#pending;
    for (const reason of taken.listed) {
      if (pending.listed.includes(reason)) continue;
      if (pending.listed.length < LISTED_REASONS) pending.listed.push(reason);
      else pending.more++;
    }
    pending.more += taken.more;
    pending.pollOnly &&= taken.pollOnly;
    if (taken.since !== undefined) pending.since = Math.min(taken.since, pending.since ?? Infinity);
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#check(), delayMs);
    this.#unrefIfAsked(this.#deadline);
  }

  /** Watches the directories links lead to, less those already watched as part of a configured one. */
  #watchLinks(current: Fingerprint): void {
    // The usual configuration has no links: no real paths to work out on the reload path.
    if (current.linkedDirs.length === 0 && this.#links.size === 0 && this.#links.problems.length === 0) return;
    const roots = this.#watchers.filter((watcher) => !watcher.missing).map((watcher) => realPath(watcher.dir));
    this.#links.update(current.linkedDirs, (dir) => roots.some((root) => dir === root || dir.startsWith(root + sep)));
  }

  #fail(error: unknown): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  /** An 'error' for its listeners; without one (or when one throws), a process warning, never a throw. */
  #reportError(error: Error): boolean {
    if (this.listenerCount('error') > 0) {
      try {
        return super.emit('error', error);
      } catch (failure) {
        process.emitWarning(failure instanceof Error ? failure : String(failure), 'ConfigWatcherWarning');
        return true;
      }
    }
    process.emitWarning(error, 'ConfigWatcherWarning');
    return false;
  }
}

interface PendingCheck {
  listed: string[];
  more: number;
  since: number | undefined;
  /** Every trigger so far was a look at an unwatched directory. */
  pollOnly: boolean;
}

function emptyPending(): PendingCheck {
  return { listed: [], more: 0, since: undefined, pollOnly: true };
}

function describeSkips(skips: readonly FingerprintSkip[]): string {
  return skips.map((skip) => `${skip.path}\0${skip.reason}`).join('\n');
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
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
