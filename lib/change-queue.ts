// The queue behind ConfigWatcher.changes(): one change waits at most. A
// consumer slower than the changes gets them merged, from the configuration
// it saw last to the newest, because for configuration only the newest
// content matters, and it must never be handed a stale one.
import { type ConfigChange, LISTED_REASONS } from './config-change';
import { abortError } from './errors';
import { diffFingerprints } from './fingerprint';

/** What the queue listens to: a ConfigWatcher. */
export interface ChangeSource {
  readonly closed: boolean;
  on(event: 'change', listener: (change: ConfigChange) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'change', listener: (change: ConfigChange) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export class ChangeQueue implements AsyncIterableIterator<ConfigChange> {
  #queued: ConfigChange | undefined;
  #waiter: { resolve: (result: IteratorResult<ConfigChange>) => void; reject: (error: unknown) => void } | undefined;
  #done = false;
  #failure: unknown;
  readonly #onChange = (change: ConfigChange): void => this.#push(change);
  readonly #onClose = (): void => this.#finish(undefined);
  readonly #onAbort = (): void => this.#finish(abortError(this.signal));

  constructor(private readonly watcher: ChangeSource, private readonly signal: AbortSignal | undefined) {
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
