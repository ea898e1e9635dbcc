// One target of a reload: is it ready to take the signal (reception), wait
// for it if not, and send through its handle. delivery.ts runs one of these
// per target, side by side.
//
// The usual path, a target that takes the signal now, is synchronous: the
// signal goes out in the same turn as the event that called for it, and a
// handle past what the reload keeps is closed at once. Only a target that
// must be waited for returns a promise. Waits are limited to MAX_WAITING at
// a time, each holding its target's two descriptors; the others queue
// holding none, and open their target again in turn.
import { setTimeout as sleep } from 'node:timers/promises';

import {
  hasCode, isSignalPermissionError, monotonicMs, type ProcessSummary, type ProcStatus, receptionIsSafe, type Signal, type SignalReception,
} from '..';
import { handlerTimeoutMessage, ignoredSignalMessage, permissionMessage, unseenTimeoutMessage } from './diagnosis';
import { errorMessage } from './errors';
import { type HeldTarget, heldReception, openTarget } from './held-targets';
import type { Logger } from './log';

export interface TargetDeliveryOptions {
  readonly signal: Signal;
  readonly handlerWaitMs: number;
  /**
   * Wait until /proc shows a target takes the signal without dying (default
   * true). False sends at once when that cannot be shown; a target that
   * ignores the signal is still a failure.
   */
  readonly handlerCheck?: boolean;
  readonly log: Logger;
  /** Aborts a wait (shutdown). */
  readonly abort?: AbortSignal;
  /** When the change was detected, for the latency in the log (monotonicMs()). */
  readonly detectedAt?: number;
}

/**
 * The target that got the signal (its handle open, to keep or close), or why
 * it did not: 'permission', 'handler_timeout', 'ignored', 'exited',
 * 'shutdown', 'error'.
 */
export type TargetOutcome = HeldTarget | string;

/** Targets waited for at once, each holding a pidfd and a status descriptor. */
export const MAX_WAITING = 16;

const HANDLER_POLL_MS = 20;

/** Wait turns: at most `size` at once; the rest queue in order. */
export class WaitSlots {
  #free: number;
  readonly #queue: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  tryTake(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** Resolves true once a turn is taken, false when `abort` fires first. */
  take(abort: AbortSignal | undefined): Promise<boolean> {
    if (this.tryTake()) return Promise.resolve(true);
    if (abort?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const grant = (): void => {
        abort?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        this.#queue.splice(this.#queue.indexOf(grant), 1);
        resolve(false);
      };
      this.#queue.push(grant);
      abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the turn to the next in the queue, or frees it. */
  release(): void {
    const next = this.#queue.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}

interface Waited {
  readonly status: ProcStatus;
  readonly reception: SignalReception;
}

/**
 * Delivers the signal to one target whose status was just read: at once
 * (returning the outcome) when it may go now or never can, else by waiting
 * for it in turn (returning a promise). Closes the target's handle unless
 * the outcome is the target.
 */
export function deliverToTarget(held: HeldTarget, status: ProcStatus, options: TargetDeliveryOptions, slots: WaitSlots): TargetOutcome | Promise<TargetOutcome> {
  const first = guarded(held, options, () => assess(held, status, options));
  return isWaited(first) ? waitInTurn(held, first, options, slots) : first;
}

/** Runs one step for `held`: an exception fails this target only, logged; its handle is closed on any failure. */
function guarded<T>(held: HeldTarget, options: TargetDeliveryOptions, step: () => T | string): T | string {
  let outcome: T | string = 'error';
  try {
    outcome = step();
  } catch (error) {
    // A status that does not parse, say: this target fails, the others are still tried.
    options.log.error('reload not sent', { pid: held.summary.pid, reason: errorMessage(error) });
  }
  if (typeof outcome === 'string') held.handle.close();
  return outcome;
}

function isWaited(value: TargetOutcome | Waited): value is Waited {
  return typeof value !== 'string' && 'reception' in value;
}

/** True when the signal may go now: it cannot kill the target, or the check is off. */
function mayGo(reception: SignalReception, options: TargetDeliveryOptions): boolean {
  return receptionIsSafe(reception) || options.handlerCheck === false;
}

/** Sends now if the signal may go (or fails now if it never can); else says what to wait on. */
function assess(held: HeldTarget, status: ProcStatus, options: TargetDeliveryOptions): TargetOutcome | Waited {
  const reception = heldReception(held, status, options.signal.number);
  if (reception === undefined) return exited(held.summary, options.log);
  if (mayGo(reception, options)) return send(held, reception, options);
  return { status, reception };
}

async function waitInTurn(held: HeldTarget, waited: Waited, options: TargetDeliveryOptions, slots: WaitSlots): Promise<TargetOutcome> {
  let current = held;
  let state = waited;
  if (!slots.tryTake()) {
    current.handle.close();
    if (!(await slots.take(options.abort))) return abandoned(held.summary, options.log);
    const opened = openTarget(held.summary);
    if ('error' in opened) {
      slots.release();
      return openFailure(held.summary, opened.error, options.log);
    }
    current = opened.held;
    const again = guarded(current, options, () => assess(current, opened.status, options));
    if (!isWaited(again)) {
      slots.release();
      return again;
    }
    state = again;
  }
  const target = current;
  try {
    const waitedFor = await waitForReception(target, state, options);
    return guarded(target, options, () => {
      if (waitedFor === 'aborted') return abandoned(target.summary, options.log);
      if (waitedFor === 'exited') return exited(target.summary, options.log);
      if (!mayGo(waitedFor.reception, options)) {
        options.log.error('reload not sent', { pid: target.summary.pid, reason: timeoutMessage(target.summary, waitedFor.reception, options) });
        return 'handler_timeout';
      }
      return send(target, waitedFor.reception, options);
    });
  } catch (error) {
    options.log.error('reload not sent', { pid: target.summary.pid, reason: errorMessage(error) });
    target.handle.close();
    return 'error';
  } finally {
    slots.release();
  }
}

function exited(summary: ProcessSummary, log: Logger): string {
  log.warn('target exited before the reload', { pid: summary.pid, process: summary.comm });
  return 'exited';
}

function abandoned(summary: ProcessSummary, log: Logger): string {
  log.info('reload abandoned: shutting down', { pid: summary.pid, process: summary.comm });
  return 'shutdown';
}

/** Why a target found by the scan could not be opened: it exited, or something else. */
export function openFailure(target: ProcessSummary, error: unknown, log: Logger): string {
  if (hasCode(error, 'ESRCH')) return exited(target, log);
  log.error('reload not sent', { pid: target.pid, reason: errorMessage(error) });
  return 'error';
}

/** Sends the signal through the target's handle, unless the target ignores it. */
function send(held: HeldTarget, reception: SignalReception, options: TargetDeliveryOptions): TargetOutcome {
  const { signal, log } = options;
  const { summary, handle } = held;
  if (reception.by === 'ignored') {
    log.error('reload not sent', { pid: summary.pid, reason: ignoredSignalMessage(summary, signal.name) });
    return 'ignored';
  }
  try {
    handle.signal(signal.number);
  } catch (error) {
    if (isSignalPermissionError(error)) {
      // The library's error carries both uids and whether CAP_KILL was held.
      log.error('reload not sent', { pid: summary.pid, reason: permissionMessage(signal.name, error.permission) });
      return 'permission';
    }
    if (hasCode(error, 'ESRCH')) return exited(summary, log);
    log.error('reload not sent', { pid: summary.pid, reason: errorMessage(error) });
    return 'error';
  }
  // Every line about this delivery is written after the signal: the app is
  // waiting for it, and nothing here changes whether it should be sent.
  log.info('reload sent', {
    pid: summary.pid,
    process: summary.comm,
    signal: signal.name,
    method: handle.method,
    received_by: reception.by,
    latency_ms: options.detectedAt === undefined ? undefined : Number((monotonicMs() - options.detectedAt).toFixed(3)),
  });
  return held;
}

function timeoutMessage(summary: ProcessSummary, reception: SignalReception, options: TargetDeliveryOptions): string {
  if (reception.by === 'unknown') {
    return unseenTimeoutMessage(summary, options.signal.name, reception.threads, process.geteuid?.() ?? -1, options.handlerWaitMs);
  }
  return handlerTimeoutMessage(summary, options.signal.name, options.handlerWaitMs);
}

/**
 * Polls the target until the signal may go (see {@link mayGo}), it exits,
 * the wait times out (the last status and reception are returned) or
 * shutdown aborts it.
 */
async function waitForReception(held: HeldTarget, initial: Waited, options: TargetDeliveryOptions): Promise<Waited | 'exited' | 'aborted'> {
  const deadline = monotonicMs() + options.handlerWaitMs;
  let last = initial;
  let logged = false;
  for (;;) {
    if (monotonicMs() >= deadline) return last;
    if (!logged) {
      options.log.info('waiting for the target to install its signal handler', {
        pid: held.summary.pid, process: held.summary.comm, signal: options.signal.name, received_by: last.reception.by, max_wait_ms: options.handlerWaitMs,
      });
      logged = true;
    }
    try {
      await sleep(HANDLER_POLL_MS, undefined, options.abort === undefined ? {} : { signal: options.abort });
    } catch {
      return 'aborted';
    }
    let status: ProcStatus;
    try {
      status = held.handle.status();
    } catch (error) {
      if (hasCode(error, 'ESRCH')) return 'exited';
      throw error;
    }
    const reception = heldReception(held, status, options.signal.number);
    if (reception === undefined) return 'exited';
    last = { status, reception };
    if (mayGo(reception, options)) return last;
  }
}
