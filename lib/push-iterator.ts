// An async iterator fed by events: the part every such queue shares. A
// value is handed straight to a pending next() when there is one, and
// otherwise buffered by the subclass; the iteration ends once, either
// cleanly (done) or with a failure that the next call to next() rejects with.
export abstract class PushIterator<T> implements AsyncIterableIterator<T> {
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #failure: unknown;

  /** The next buffered value, removed from the buffer; undefined when it is empty. */
  protected abstract take(): T | undefined;
  /** Drops whatever is buffered (the consumer has stopped). */
  protected abstract discard(): void;
  /** Removes the listeners that feed this iterator. */
  protected abstract detach(): void;

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.take();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#ended) {
      const failure = this.#failure;
      this.#failure = undefined;
      return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Breaking out of a `for await` loop: detach, and drop what was buffered. */
  return(): Promise<IteratorResult<T>> {
    this.discard();
    this.end(undefined);
    this.#failure = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Hands `value` to a pending next(); false when none waits, and the subclass must buffer it. */
  protected offer(value: T): boolean {
    const waiter = this.#waiter;
    if (waiter === undefined) return false;
    this.#waiter = undefined;
    waiter.resolve({ value, done: false });
    return true;
  }

  /** Ends the iteration: buffered values are still handed out, then done, or the failure. */
  protected end(failure: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.detach();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) this.#failure = failure;
    else if (failure === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(failure);
  }
}
