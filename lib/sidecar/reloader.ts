// The reload loop: the library's ConfigWatcher says when the configuration
// really changed; this delivers the reload, one at a time, and keeps the
// books (logs, metrics).
//
// The invariant: after the last write of any sequence, the target receives a
// signal sent after that write, and when nothing changed it receives none.
// - The watcher reports each change once. What the app last received is
//   tracked here (`#delivered`): a change back to it sends nothing, and a
//   check that finds content the app has not received yet (its reload
//   failed, or found no target) sends it, even when the watcher saw no
//   change since.
// - Deliveries never overlap. A change during one is delivered right after
//   it, so a write that races a delivery is followed by another, never lost.
import {
  type ConfigChange, ConfigWatcher, diffFingerprints, type Fingerprint, type FingerprintSkip, type UnchangedCheck,
} from '..';
import type { Config } from './config';
import { deliverReload, type DeliveryReport } from './delivery';
import { errorMessage } from './errors';
import type { HeldTarget } from './held-targets';
import { listedAtMost, type Logger, precededBy } from './log';
import { nullObserver, type ReloadObserver } from './observer';
import { lookUpTargets } from './startup-lookup';
import { unreadableFix, watchProblemFix } from './watch-diagnosis';

export interface ReloaderOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly observer?: ReloadObserver;
  /** Key of the fingerprints logged and exported (fingerprint-key.ts); plain sha256 without one. */
  readonly fingerprintKey?: Buffer;
}

/** A check that calls for a delivery: the content, and why. */
interface DueReload {
  readonly fingerprint: Fingerprint;
  readonly trigger: string;
  readonly detectedAt: number;
}

export class Reloader {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #observer: ReloadObserver;
  readonly #fingerprintKey: Buffer | undefined;
  readonly #abort = new AbortController();
  #watcher: ConfigWatcher | undefined;
  /** The content the app was last reloaded with (or started with). */
  #delivered: Fingerprint | undefined;
  /** Targets the last reload reached, or start-up found, handles open: tried first next time. */
  #held: readonly HeldTarget[] = [];
  #running: Promise<void> | undefined;
  /** The newest content due while a delivery was running. */
  #next: DueReload | undefined;
  #ready = false;

  constructor(options: ReloaderOptions) {
    this.#config = options.config;
    this.#log = options.log;
    this.#observer = options.observer ?? nullObserver;
    this.#fingerprintKey = options.fingerprintKey;
  }

  /** Every directory watched and present: what /readyz reports. */
  get ready(): boolean {
    return this.#ready && (this.#watcher?.complete ?? false);
  }

  /** The fingerprint the app was last reloaded with (or started with). */
  get deliveredFingerprint(): string | undefined {
    return this.#delivered?.digest;
  }

  /** Watches everything, records the starting fingerprint, and sends nothing. */
  async start(): Promise<void> {
    const watcher = await ConfigWatcher.open({
      dirs: this.#config.configDirs,
      debounce: this.#config.debounceMs,
      ...(this.#fingerprintKey === undefined ? {} : { fingerprintKey: this.#fingerprintKey }),
    });
    this.#watcher = watcher;
    this.#listen(watcher);
    for (const directory of watcher.directories) {
      this.#log.info('watching', { dir: directory.dir, kind: directory.kind, watches: directory.watches });
    }
    for (const problem of watcher.problems) this.#logProblem(problem.path, problem.error);
    this.#observer.watchProblems(watcher.problems.length);
    const delivered = watcher.fingerprint;
    this.#logUnreadable(delivered.unreadable);
    this.#logSkipped(delivered.skipped);
    this.#delivered = delivered;
    this.#observer.fingerprint(delivered.digest);
    this.#observer.watches(watcher.watchCount);
    try {
      this.#held = lookUpTargets({ processName: this.#config.processName, signalAll: this.#config.signalAll, log: this.#log });
    } catch (error) {
      // The first reload looks again; watching goes on regardless.
      this.#log.warn('target lookup failed', { reason: errorMessage(error) });
    }
    this.#ready = true;
    this.#observer.ready(true);
    this.#log.info('ready', { fingerprint: delivered.digest.slice(0, 16), files: delivered.files.size });
  }

  /** Stops watching, lets a delivery in flight finish, and cancels a handler wait. */
  async stop(): Promise<void> {
    this.#ready = false;
    this.#observer.ready(false);
    this.#next = undefined;
    await this.#watcher?.close();
    this.#abort.abort();
    await this.#running;
    for (const held of this.#held) held.handle.close();
    this.#held = [];
  }

  #listen(watcher: ConfigWatcher): void {
    watcher.on('change', (change) => this.#onChange(change));
    watcher.on('unchanged', (check) => this.#onUnchanged(check));
    watcher.on('events', (count) => {
      this.#observer.watchEvents(count);
      this.#observer.watches(watcher.watchCount);
      this.#observer.watchProblems(watcher.problems.length);
    });
    watcher.on('trigger', (trigger) => {
      // A directory watched after a retry says so with a trigger, and with no event of its own.
      this.#observer.watchProblems(watcher.problems.length);
      this.#log.debug('trigger', { dir: trigger.dir, reason: trigger.reason, immediate: trigger.immediate });
    });
    watcher.on('missing', (missing) => {
      this.#log.warn('not reloading while a config directory is missing', { missing });
    });
    watcher.on('lost', (dir, why) => {
      this.#observer.ready(false);
      this.#log.warn('config directory lost; keeping on and waiting for it to come back', { dir, reason: why });
    });
    watcher.on('back', (dir, kind) => {
      this.#observer.ready(this.ready);
      this.#log.info('config directory is back; watching again', { dir, kind });
    });
    watcher.on('problem', (problem) => {
      this.#observer.watchProblems(watcher.problems.length);
      this.#logProblem(problem.path, problem.error);
    });
    watcher.on('unreadable', (paths) => this.#logUnreadable(paths));
    watcher.on('skipped', (skips) => this.#logSkipped(skips));
    watcher.on('retry', (error, delayMs) => {
      this.#observer.readRetry();
      this.#log.warn('cannot read the configuration now; checking again', {
        path: error.path, reason: error.message, retry_in_ms: delayMs,
      });
    });
    watcher.on('overflow', (source) => {
      this.#log.warn('inotify queue overflowed; rescanning everything', {
        source, fix: 'raise fs.inotify.max_queued_events on the node if this repeats',
      });
    });
    watcher.on('error', (error) => this.#log.error('watching failed', { reason: error.message }));
  }

  #logProblem(path: string, error: Error): void {
    this.#log.warn('cannot watch a directory; watching the rest', { path, reason: error.message, fix: watchProblemFix(error) });
  }

  #logUnreadable(paths: readonly string[]): void {
    this.#observer.unreadable(paths.length);
    if (paths.length === 0) return;
    this.#log.warn('cannot read some configuration files', {
      paths: listedAtMost(paths, LISTED_FILES), fix: unreadableFix(process.getuid?.() ?? -1),
    });
  }

  #logSkipped(skips: readonly FingerprintSkip[]): void {
    if (skips.length === 0) return;
    this.#log.warn('some configuration paths are not read', {
      skipped: listedAtMost(skips.map((skip) => `${skip.path}: ${skip.reason}`), LISTED_FILES),
    });
  }

  #onChange(change: ConfigChange): void {
    const due = { fingerprint: change.fingerprint, trigger: summarize(change), detectedAt: change.detectedAt };
    if (change.fingerprint.digest === this.#delivered?.digest && this.#running === undefined) {
      // Back to what the app has.
      this.#skip(due);
      return;
    }
    this.#deliver(due);
  }

  #onUnchanged(check: UnchangedCheck): void {
    const due = { fingerprint: check.fingerprint, trigger: summarize(check), detectedAt: check.detectedAt };
    // Not what the app has: its last reload did not reach it. Try again.
    if (check.fingerprint.digest !== this.#delivered?.digest) this.#deliver(due);
    else if (this.#running === undefined) this.#skip(due);
  }

  #skip(due: DueReload): void {
    this.#observer.skippedUnchanged();
    this.#log.info('skipped: content unchanged', { trigger: due.trigger, fingerprint: due.fingerprint.digest.slice(0, 16) });
  }

  #deliver(due: DueReload): void {
    if (!this.#ready) return;
    if (this.#running !== undefined) {
      this.#next = due;
      return;
    }
    this.#running = this.#deliverAll(due).finally(() => {
      this.#running = undefined;
    });
  }

  async #deliverAll(first: DueReload): Promise<void> {
    let due: DueReload | undefined = first;
    while (due !== undefined && this.#ready) {
      try {
        if (due.fingerprint.digest === this.#delivered?.digest) this.#skip(due);
        else await this.#deliverOnce(due);
      } catch (error) {
        this.#log.error('reload failed', { reason: errorMessage(error) });
      }
      due = this.#next;
      this.#next = undefined;
    }
  }

  async #deliverOnce(due: DueReload): Promise<void> {
    const before = this.#delivered;
    const current = due.fingerprint;
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
          trigger: due.trigger,
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
        detectedAt: due.detectedAt,
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

/** Keeps log lines readable when a burst touched thousands of files. */
function abbreviate(paths: readonly string[] | undefined): readonly string[] | undefined {
  return paths === undefined ? undefined : listedAtMost(paths, LISTED_FILES);
}

function summarize(check: { readonly reasons: readonly string[]; readonly moreReasons: number }): string {
  const listed = check.reasons.join('; ');
  return check.moreReasons === 0 ? listed : `${listed} and ${check.moreReasons} more`;
}
