// The reload loop: the library's ConfigWatcher says when the configuration
// really changed; this runs the reload actions (reload-action.ts), one
// reload at a time, retries a reload that failed, and keeps the books (logs,
// metrics).
//
// The invariant: after the last write of any sequence, the app is reloaded
// after that write, and when nothing changed it is not.
// - The watcher reports each change once. What the app last received is
//   tracked here (`#delivered`): a change back to it sends nothing, and a
//   check that finds content the app has not received yet (its reload
//   failed, or found no target) sends it, even when the watcher saw no
//   change since.
// - Reloads never overlap. A change during one is reloaded right after it,
//   so a write that races a reload is followed by another, never lost.
// - A reload runs the actions in order and stops at the first that fails.
//   It is tried again after a backoff (retry-delay.ts), from the action that
//   failed: those before it have done their part for this content, and
//   running them again would reload the app twice. A newer change cancels
//   the wait, and is reloaded from the first action instead: the app should
//   get what is there now, not what failed.
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type ConfigChange, ConfigWatcher, diffFingerprints, type FileChanges, type Fingerprint, type FingerprintSkip, type UnchangedCheck,
} from '..';
import { actionsOf, type Config } from './config';
import { errorMessage } from './errors';
import { listedAtMost, type Logger, precededBy } from './log';
import { nullObserver, type ReloadObserver } from './observer';
import { createActions } from './actions';
import type { ActionOutcome, ReloadAction } from './reload-action';
import { retryDelayMs } from './retry-delay';
import { unreadableFix, watchProblemFix } from './watch-diagnosis';

export interface ReloaderOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly observer?: ReloadObserver;
  /** Key of the fingerprints logged and exported (fingerprint-key.ts); plain sha256 without one. */
  readonly fingerprintKey?: Buffer;
}

/** A check that calls for a reload: the content, and why. */
interface DueReload {
  readonly fingerprint: Fingerprint;
  readonly trigger: string;
  readonly detectedAt: number;
}

/** The action an attempt stopped at, and why. */
interface FailedAction {
  readonly index: number;
  readonly action: ReloadAction;
  readonly outcome: ActionOutcome;
}

export class Reloader {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #observer: ReloadObserver;
  readonly #fingerprintKey: Buffer | undefined;
  readonly #abort = new AbortController();
  readonly #actions: readonly ReloadAction[];
  #watcher: ConfigWatcher | undefined;
  /** The content the app was last reloaded with (or started with). */
  #delivered: Fingerprint | undefined;
  #running: Promise<void> | undefined;
  /** The content the running reload is for. */
  #inFlight: Fingerprint | undefined;
  /**
   * A reload given up after some of its actions succeeded: its content, and
   * the first action that did not. A later check that finds the same content
   * resumes there, as a retry would: the actions that succeeded (the signal)
   * are not run twice for one change.
   */
  #givenUp: { readonly digest: string; readonly from: number } | undefined;
  /** The newest content due while a reload was running. */
  #next: DueReload | undefined;
  /** Aborted when newer content is due: ends the running reload's wait for a retry. */
  #superseded: AbortController | undefined;
  #ready = false;

  constructor(options: ReloaderOptions) {
    this.#config = options.config;
    this.#log = options.log;
    this.#observer = options.observer ?? nullObserver;
    this.#fingerprintKey = options.fingerprintKey;
    this.#actions = createActions(options.config);
  }

  /** Every directory watched and present: what /readyz reports. */
  get ready(): boolean {
    return this.#ready && (this.#watcher?.complete ?? false);
  }

  /** The fingerprint the app was last reloaded with (or started with). */
  get deliveredFingerprint(): string | undefined {
    return this.#delivered?.digest;
  }

  /** Watches everything, records the starting fingerprint, and reloads nothing. */
  async start(): Promise<void> {
    const watcher = await ConfigWatcher.open({
      dirs: this.#config.configDirs,
      debounce: this.#config.debounceMs,
      ...(this.#fingerprintKey === undefined ? {} : { fingerprintKey: this.#fingerprintKey }),
      settle: this.#config.settleMs,
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
    for (const action of this.#actions) action.start(this.#log);
    this.#ready = true;
    this.#observer.ready(true);
    this.#log.info('ready', { fingerprint: delivered.digest.slice(0, 16), files: delivered.files.size, actions: actionsOf(this.#config) });
  }

  /** Stops watching, cancels a retry and any wait, lets what is left of a reload end, and closes the actions. */
  async stop(): Promise<void> {
    this.#ready = false;
    this.#observer.ready(false);
    this.#next = undefined;
    await this.#watcher?.close();
    this.#abort.abort();
    await this.#running;
    for (const action of this.#actions) action.close();
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
      // The running reload (and its retries) is for this very content.
      if (due.fingerprint.digest === this.#inFlight?.digest && this.#next === undefined) return;
      this.#next = due;
      this.#superseded?.abort();
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
        else await this.#reload(due);
      } catch (error) {
        this.#log.error('reload failed', { reason: errorMessage(error) });
      }
      due = this.#next;
      this.#next = undefined;
    }
  }

  /** Reloads one content: attempts, and retries from the failed action, until success, a newer change, giving up or shutdown. */
  async #reload(due: DueReload): Promise<void> {
    const current = due.fingerprint;
    const before = this.#delivered;
    const resumeAt = this.#givenUp?.digest === current.digest ? this.#givenUp.from : 0;
    this.#givenUp = undefined;
    // Worked out when first needed: after the signal, on the usual path.
    let diff: { readonly changes: FileChanges | undefined } | undefined;
    const changes = (): FileChanges | undefined => {
      diff ??= { changes: before === undefined ? undefined : diffFingerprints(before, current) };
      return diff.changes;
    };
    let changed: readonly string[] | undefined;
    const changedFiles = (): readonly string[] => {
      changed ??= listChanged(changes());
      return changed;
    };
    // The change is logged just before the first line an action logs, which
    // on the usual path comes after the signal: the app should not wait for
    // the diff and the formatting.
    let announced = false;
    const announce = (): void => {
      if (announced) return;
      announced = true;
      // It runs inside an action's logging: a fault here must not be taken
      // for a failed action.
      try {
        if (resumeAt > 0) {
          this.#log.info('resuming a reload given up, at the action that failed', {
            trigger: due.trigger, action: this.#actions[resumeAt]?.name, fingerprint: current.digest.slice(0, 16),
          });
          return;
        }
        this.#observer.changeDetected();
        const { added, removed, modified } = changes() ?? {};
        this.#log.info('change detected', {
          trigger: due.trigger,
          added: abbreviate(added), removed: abbreviate(removed), modified: abbreviate(modified),
          fingerprint: current.digest.slice(0, 16),
        });
      } catch (error) {
        this.#log.error('logging the change failed', { reason: errorMessage(error) });
      }
    };
    this.#inFlight = current;
    let from = resumeAt;
    let partial = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const failed = await this.#attempt(due, changedFiles, from, precededBy(this.#log, announce));
        announce(); // in case no action logged anything
        if (failed === undefined) {
          this.#delivered = current;
          this.#observer.fingerprint(current.digest);
          if (attempt > 1) this.#log.info('reloaded after retrying', { attempts: attempt, fingerprint: current.digest.slice(0, 16) });
          return;
        }
        if (failed.outcome.partial === true) partial = true;
        if (failed.outcome.result === 'shutdown' || this.#abort.signal.aborted) return;
        from = failed.index;
        const fields = { action: failed.action.name, attempt, reason: failed.outcome.reason };
        if (this.#next !== undefined) {
          this.#log.info('retry cancelled: a newer change supersedes it', fields);
          return;
        }
        if (attempt > this.#config.reloadRetries) {
          this.#log.error('reload failed; giving up until the next change', { ...fields, fingerprint: current.digest.slice(0, 16) });
          if (from > 0) this.#givenUp = { digest: current.digest, from };
          return;
        }
        const delay = retryDelayMs(attempt);
        this.#log.warn('reload attempt failed; retrying', { ...fields, retry_in_ms: delay });
        // Made for the wait only: a newer change before it was seen just above.
        const superseded = new AbortController();
        this.#superseded = superseded;
        try {
          await sleep(delay, undefined, { signal: AbortSignal.any([this.#abort.signal, superseded.signal]) });
        } catch {
          if (!this.#abort.signal.aborted) this.#log.info('retry cancelled: a newer change supersedes it', fields);
          return;
        }
      }
    } finally {
      this.#inFlight = undefined;
      this.#superseded = undefined;
      // Ended short with actions done (the signal sent, the URL not called;
      // or some targets signalled and not others): the app holds some of
      // this content. Should the configuration go back to what was delivered
      // before, that is a change to reload, not a skip.
      if ((from > 0 || partial) && this.#delivered !== current) this.#delivered = undefined;
    }
  }

  /** Runs the actions from `from` on, in order; the first that does not succeed, or undefined when all did. */
  async #attempt(due: DueReload, changed: () => readonly string[], from: number, log: Logger): Promise<FailedAction | undefined> {
    for (let index = from; index < this.#actions.length; index++) {
      const action = this.#actions[index];
      if (action === undefined) break;
      let outcome: ActionOutcome;
      try {
        outcome = await action.run({
          fingerprint: due.fingerprint, changedFiles: changed, log, abort: this.#abort.signal, detectedAt: due.detectedAt,
        });
      } catch (error) {
        // An action names the failures it knows; anything else is a fault, retried all the same.
        this.#log.error('reload failed', { action: action.name, reason: errorMessage(error) });
        outcome = { result: 'failure', reason: errorMessage(error) };
      }
      if (outcome.result === 'shutdown') return { index, action, outcome };
      this.#observer.action(action.name, outcome.result === 'success' ? 'success' : 'failure');
      if (outcome.result === 'success') continue;
      if (outcome.result === 'no_target') this.#observer.targetNotFound();
      this.#observer.reload(outcome.result);
      return { index, action, outcome };
    }
    this.#observer.reload('success');
    return undefined;
  }
}

const LISTED_FILES = 10;

/** Keeps log lines readable when a burst touched thousands of files. */
function abbreviate(paths: readonly string[] | undefined): readonly string[] | undefined {
  return paths === undefined ? undefined : listedAtMost(paths, LISTED_FILES);
}

/** Every file added, modified or removed, sorted: what the command action is told. */
function listChanged(changes: FileChanges | undefined): readonly string[] {
  return changes === undefined ? [] : [...changes.added, ...changes.modified, ...changes.removed].sort();
}

function summarize(check: { readonly reasons: readonly string[]; readonly moreReasons: number }): string {
  const listed = check.reasons.join('; ');
  return check.moreReasons === 0 ? listed : `${listed} and ${check.moreReasons} more`;
}
