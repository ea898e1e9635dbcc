// Polling with a deadline, for conditions the kernel reports only on request
// (a signal mask in /proc, a file appearing). The deadline is a safety net
// so a broken build fails with a message instead of hanging; it is never
// what a test asserts.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between probes (default 10 ms). */
  readonly intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than undefined, null or
 * false, and resolves with that value. Rejects when the deadline passes,
 * naming `what` and the last value the probe returned; give `what` as a
 * function when it reports progress, so the message tells the state at the
 * timeout rather than at the call. An exception from the
 * probe rejects at once: wrap probes that may fail transiently.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()} (last probe returned ${String(value)})`);
    }
    await sleep(intervalMs);
  }
}
