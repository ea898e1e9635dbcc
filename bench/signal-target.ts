// The C signal target as seen from the bench: the stamps it takes in its
// SIGHUP handler, as they arrive.
import { Child } from './child';

export class SignalTarget {
  readonly stamps: bigint[] = [];
  /** CLOCK_MONOTONIC when the handler was installed, as the target read it. */
  readyStamp = 0n;
  readonly #child: Child;
  #waiter: { count: number; resolve: (arrived: boolean) => void } | undefined;

  private constructor(child: Child) {
    this.#child = child;
    child.onLine((line) => {
      const match = /^signal (\d+)$/.exec(line);
      if (match?.[1] === undefined) return;
      this.stamps.push(BigInt(match[1]));
      const waiter = this.#waiter;
      if (waiter !== undefined && this.stamps.length >= waiter.count) {
        this.#waiter = undefined;
        waiter.resolve(true);
      }
    });
  }

  /** `prefix` runs it through another command first (nsenter into a Pod's namespace). */
  static async start(executable: string, prefix: readonly string[] = []): Promise<SignalTarget> {
    const [command = executable, ...args] = [...prefix, executable];
    const target = new SignalTarget(new Child('signal-target', command, args));
    const line = await target.#child.waitForLine(/^ready \d+$/, 5000);
    target.readyStamp = BigInt(line.slice('ready '.length));
    return target;
  }

  /** The pid of the process started: the target itself unless it was started through a prefix. */
  get pid(): number {
    return this.#child.pid;
  }

  /** True once `count` signals in total have arrived, false after `timeoutMs` without. */
  waitForCount(count: number, timeoutMs: number): Promise<boolean> {
    if (this.stamps.length >= count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.#waiter = {
        count,
        resolve: (arrived) => {
          clearTimeout(timer);
          resolve(arrived);
        },
      };
    });
  }

  /**
   * Stops the target and checks its own count of handler runs against the
   * stamps read live, so a lost line of output cannot pass for a lost signal.
   */
  async stop(): Promise<void> {
    await this.#child.stop();
    const total = this.#child.output.find((line) => line.startsWith('total '));
    if (total !== undefined && Number(total.slice('total '.length)) !== this.stamps.length) {
      throw new Error(`signal target handled ${total.slice(6)} signals but reported ${this.stamps.length}`);
    }
  }
}
