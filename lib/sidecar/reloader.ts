// The reload loop: watches every configured directory, decides whether the
// configuration really changed, and delivers at most one reload at a time.
//
// The invariant: after the last write of any sequence, the target receives a
// signal sent after that write, and when nothing changed it receives none.
// - A kubelet commit and a directory coming back run a check at once;
//   plain-directory events and queue overflows run it after the debounce window.
// - A check compares the content fingerprint with the last one delivered, so
//   bookkeeping events and identical rewrites never signal.
// - Checks never overlap. A trigger during a check or a delivery marks the
//   loop dirty, and it checks again when the current one ends, so a write that
//   races a delivery is followed by another look, never lost.
import { errorMessage } from '../errors';
import { Inotify, type InotifyEvent } from '../inotify';
import type { Config } from './config';
import { deliverReload, type DeliveryReport } from './delivery';
import { DirectoryWatcher, type Trigger } from '../directory-watcher';
import { diffFingerprints, type Fingerprint, fingerprint } from '../fingerprint';
import type { HeldTarget } from './held-targets';
import { listedAtMost, type Logger, precededBy } from './log';
import { nullObserver, type ReloadObserver } from './observer';
import { lookUpTargets } from './startup-lookup';
import { WatchRouter } from '../watch-router';

export interface ReloaderOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly observer?: ReloadObserver;
}

export class Reloader {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #observer: ReloadObserver;
  readonly #abort = new AbortController();
  #inotify: Inotify | undefined;
  #watchers: DirectoryWatcher[] = [];
  /** The content last delivered (or found at start-up). */
  #delivered: Fingerprint | undefined;
  /** Targets the last reload reached, or start-up found, handles open: tried first next time. */
  #held: readonly HeldTarget[] = [];
  #debounce: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Set while a batch of events is dispatched: an immediate check then runs when the batch ends. */
  #inBatch = false;
  #checkAfterBatch = false;
  /** Why the next check runs: the first few distinct reasons, and how many triggers came besides. */
  #pending: PendingReasons = { listed: [], more: 0 };
  #firstTriggerAt: number | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #ready = false;

  constructor(options: ReloaderOptions) {
    this.#config = options.config;
    this.#log = options.log;
    this.#observer = options.observer ?? nullObserver;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The fingerprint the app was last reloaded with (or started with). */
  get deliveredFingerprint(): string | undefined {
    return this.#delivered?.digest;
  }

  /** Watches everything, records the starting fingerprint, and sends nothing. */
  start(): void {
    const inotify = new Inotify();
    this.#inotify = inotify;
    const router = new WatchRouter(inotify);
    inotify.on('batch', (events) => this.#onBatch(router, events));
    inotify.on('error', (error) => this.#log.error('inotify read failed', { reason: error.message }));

    this.#watchers = this.#config.configDirs.map(
      (dir) => new DirectoryWatcher(dir, router, this.#log, (trigger) => this.#request(trigger)),
    );
    for (const watcher of this.#watchers) {
      watcher.establish();
      this.#log.info('watching', { dir: watcher.dir, kind: watcher.kind, watches: watcher.watchCount });
    }
    const delivered = fingerprint(this.#config.configDirs);
    this.#delivered = delivered;
    this.#observer.fingerprint(delivered.digest);
    this.#observer.watches(router.size);
    try {
      this.#held = lookUpTargets({ processName: this.#config.processName, signalAll: this.#config.signalAll, log: this.#log });
    } catch (error) {
      // The first reload looks again; watching goes on regardless.
      this.#log.warn('target lookup failed', { reason: errorMessage(error) });
    }
    this.#ready = true;
    this.#observer.ready(true);
    this.#log.info('ready', {
      fingerprint: delivered.digest.slice(0, 16), files: delivered.files.size,
    });
  }

  /** Stops watching, lets a delivery in flight finish, and cancels a handler wait. */
  async stop(): Promise<void> {
    this.#ready = false;
    this.#observer.ready(false);
    clearTimeout(this.#debounce);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#checkAfterBatch = false;
    for (const watcher of this.#watchers) watcher.close();
    this.#inotify?.close();
    this.#abort.abort();
    this.#dirty = false;
    await this.#running;
    for (const held of this.#held) held.handle.close();
    this.#held = [];
  }

  #onBatch(router: WatchRouter, events: readonly InotifyEvent[]): void {
    this.#inBatch = true;
    try {
      this.#dispatch(router, events);
    } finally {
      this.#inBatch = false;
    }
    if (this.#checkAfterBatch) {
      this.#checkAfterBatch = false;
      if (this.#ready) this.#check();
    }
    this.#observer.watchEvents(events.length);
    this.#observer.watches(router.size);
  }

  #dispatch(router: WatchRouter, events: readonly InotifyEvent[]): void {
    for (const event of events) {
      if (event.kind === 'overflow') {
        this.#log.warn('inotify queue overflowed; rescanning everything', {
          source: event.overflowSource,
          fix: 'raise fs.inotify.max_queued_events on the node if this repeats',
        });
        for (const watcher of this.#watchers) watcher.rescan();
        // Through the debounce: an overflow means a burst is still under way,
        // and the burst should end in one reload, not one per overflow.
        this.#request({ dir: '*', reason: 'queue overflow', immediate: false });
      } else {
        router.dispatch(event);
      }
    }
  }

  #request(trigger: Trigger): void {
    if (!this.#ready && this.#delivered !== undefined) return;
    this.#log.debug('trigger', { dir: trigger.dir, reason: trigger.reason, immediate: trigger.immediate });
    // A burst brings one trigger per event; the log shows only a few reasons.
    const { listed } = this.#pending;
    if (!listed.includes(trigger.reason)) {
      if (listed.length < LISTED_REASONS) listed.push(trigger.reason);
      else this.#pending.more++;
    }
    this.#firstTriggerAt ??= performance.now();
    if (trigger.immediate) {
      clearTimeout(this.#debounce);
      this.#debounce = undefined;
      // Not a direct call: one batch can hold several commits (several
      // volumes), and they should make one check. Within a batch the check
      // runs as the batch ends, without waiting for the next loop turn.
      if (this.#inBatch) {
        this.#checkAfterBatch = true;
        return;
      }
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#check();
      });
    } else if (this.#immediate === undefined && !this.#checkAfterBatch) {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = undefined;
        this.#check();
      }, this.#config.debounceMs);
    }
  }

  #check(): void {
    if (this.#running !== undefined) {
      this.#dirty = true;
      return;
    }
    this.#running = this.#runChecks().finally(() => {
      this.#running = undefined;
    });
  }

  async #runChecks(): Promise<void> {
    do {
      this.#dirty = false;
      const reasons = this.#pending;
      const detectedAt = this.#firstTriggerAt;
      this.#pending = { listed: [], more: 0 };
      this.#firstTriggerAt = undefined;
      try {
        await this.#checkOnce(reasons, detectedAt);
      } catch (error) {
        this.#log.error('reload check failed', { reason: errorMessage(error) });
      }
    } while (this.#dirty && this.#ready);
  }

  async #checkOnce(reasons: PendingReasons, detectedAt: number | undefined): Promise<void> {
    // `missing`, not `kind`: kind walks every watch, and this runs on every check.
    const missing = this.#watchers.filter((watcher) => watcher.missing).map((watcher) => watcher.dir);
    if (missing.length > 0) {
      this.#log.warn('not reloading while a config directory is missing', { missing });
      return;
    }
    const before = this.#delivered;
    const current = fingerprint(this.#config.configDirs);
    if (before !== undefined && current.digest === before.digest) {
      this.#observer.skippedUnchanged();
      this.#log.info('skipped: content unchanged', { trigger: summarize(reasons), fingerprint: current.digest.slice(0, 16) });
      return;
    }
    // The change is logged just before the delivery's first line, which on
    // the usual path comes after the signal: the app should not wait for
    // the diff and the formatting.
    let announced = false;
    const announce = (): void => {
      if (announced) return;
      announced = true;
      // It runs inside the delivery's logging: a fault here must not be
      // taken for a failed delivery.
      try {
        this.#observer.changeDetected();
        const changes = before === undefined ? undefined : diffFingerprints(before, current);
        this.#log.info('change detected', {
          trigger: summarize(reasons),
          added: abbreviate(changes?.added), removed: abbreviate(changes?.removed), modified: abbreviate(changes?.modified),
          fingerprint: current.digest.slice(0, 16),
        });
      } catch (error) {
        this.#log.error('logging the change failed', { reason: errorMessage(error) });
      }
    };
    // The delivery takes the held handles over, and closes what it does not return.
    const held = this.#held;
    this.#held = [];
    let report: DeliveryReport;
    try {
      report = await deliverReload({
        processName: this.#config.processName,
        signal: this.#config.signal,
        signalAll: this.#config.signalAll,
        handlerWaitMs: this.#config.handlerWaitMs,
        log: precededBy(this.#log, announce),
        abort: this.#abort.signal,
        held,
        ...(detectedAt === undefined ? {} : { detectedAt }),
      });
    } finally {
      announce(); // in case the delivery logged nothing, or failed before logging
    }
    this.#held = report.delivered;
    if (report.status === 'no_target') {
      this.#observer.targetNotFound();
      this.#observer.reload('no_target');
      return;
    }
    this.#observer.reload(report.status === 'sent' ? 'success' : 'failure');
    if (report.status === 'sent') {
      this.#delivered = current;
      this.#observer.fingerprint(current.digest);
    }
  }
}

const LISTED_FILES = 10;
const LISTED_REASONS = 3;

interface PendingReasons {
  readonly listed: string[];
  more: number;
}

/** Keeps log lines readable when a burst touched thousands of files. */
function abbreviate(paths: readonly string[] | undefined): readonly string[] | undefined {
  return paths === undefined ? undefined : listedAtMost(paths, LISTED_FILES);
}

function summarize(reasons: PendingReasons): string {
  const listed = reasons.listed.join('; ');
  return reasons.more === 0 ? listed : `${listed} and ${reasons.more} more`;
}
