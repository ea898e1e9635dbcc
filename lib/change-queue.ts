// The queue behind ConfigWatcher.changes(): one change waits at most. A
// consumer slower than the changes gets them merged, from the configuration
// it saw last to the newest, because for configuration only the newest
// content matters, and it must never be handed a stale one.
import { type ConfigChange, lazyConfigChange, LISTED_REASONS } from './config-change';
import { abortError } from './errors';
import { PushIterator } from './push-iterator';

/** What the queue listens to: a ConfigWatcher. */
export interface ChangeSource {
  readonly closed: boolean;
  on(event: 'change', listener: (change: ConfigChange) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'change', listener: (change: ConfigChange) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export class ChangeQueue extends PushIterator<ConfigChange> {
  #queued: ConfigChange | undefined;
  readonly #onChange = (change: ConfigChange): void => this.#push(change);
  readonly #onClose = (): void => this.end(undefined);
  readonly #onAbort = (): void => this.end(abortError(this.signal));

  constructor(private readonly watcher: ChangeSource, private readonly signal: AbortSignal | undefined) {
    super();
    if (signal?.aborted === true) {
      this.end(abortError(signal));
      return;
    }
    if (watcher.closed) {
      this.end(undefined);
      return;
    }
    watcher.on('change', this.#onChange);
    watcher.on('close', this.#onClose);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  protected take(): ConfigChange | undefined {
    const queued = this.#queued;
    this.#queued = undefined;
    return queued;
  }

  protected discard(): void {
    this.#queued = undefined;
  }

  protected detach(): void {
    this.watcher.off('change', this.#onChange);
    this.watcher.off('close', this.#onClose);
    this.signal?.removeEventListener('abort', this.#onAbort);
  }

  #push(change: ConfigChange): void {
    if (this.offer(change)) return;
    const older = this.#queued;
    if (older !== undefined && older.previous.digest === change.fingerprint.digest) {
      // Changed and changed back before the consumer looked: nothing to see.
      this.#queued = undefined;
      return;
    }
    // Merged: from what the consumer saw last to the newest content, its
    // file lists worked out when read, as for any change. A listed reason
    // that no longer fits the list is counted with the others.
    if (older === undefined) {
      this.#queued = change;
      return;
    }
    const reasons = [...new Set([...older.reasons, ...change.reasons])];
    const listed = reasons.slice(0, LISTED_REASONS);
    this.#queued = lazyConfigChange(
      { reasons: listed, moreReasons: older.moreReasons + change.moreReasons + reasons.length - listed.length, detectedAt: older.detectedAt },
      change.fingerprint,
      older.previous,
    );
  }
}
