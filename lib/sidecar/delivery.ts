// Delivers one reload: resolve the targets afresh (so restarts are followed),
// make sure the signal cannot kill a target that has not installed its
// handler yet, and send it race-free.
//
// The held targets (held-targets.ts: those the last reload reached, or the
// start-up lookup found) are signalled first, through the ProcessHandles
// kept open since then: one read of their status (still a target? handler
// installed?) and, with pidfds, one pidfd_send_signal. The full /proc scan
// runs after them: on a node with hundreds of processes it costs
// milliseconds, and the app is almost always the same process as last time.
// The scan still runs for every reload, and any target it finds that was not
// signalled yet (a restart, a second instance) is signalled at once.
import { setTimeout as sleep } from 'node:timers/promises';

import { combineStatus, defaultActionTerminates, hasCode, ignoresSignal, isSignalPermissionError, listProcessSummaries, maskHas, type ProcessSummary, type ProcStatus, type Signal } from '..';
import { errorMessage } from './errors';
import { handlerTimeoutMessage, ignoredSignalMessage, noTargetMessage, permissionMessage } from './diagnosis';
import { type HeldTarget, heldStatus, MAX_HELD, openTarget } from './held-targets';
import type { Logger } from './log';
import { selectTargets } from './targets';

export interface DeliveryOptions {
  readonly processName: string;
  readonly signal: Signal;
  readonly signalAll: boolean;
  readonly handlerWaitMs: number;
  readonly log: Logger;
  /** Aborts a handler wait (shutdown). */
  readonly abort?: AbortSignal;
  /** When the change was detected, for the latency in the log (performance.now() ms). */
  readonly detectedAt?: number;
  readonly selfPid?: number;
  /**
   * Targets held since the last reload or start-up: tried first (see the
   * file comment). deliverReload takes them over: it closes those it does
   * not return.
   */
  readonly held?: readonly HeldTarget[];
}

/** sent: every target got the signal. no_target: nothing to signal. failed: some target did not get it. */
export type DeliveryStatus = 'sent' | 'no_target' | 'failed';

export interface DeliveryReport {
  readonly status: DeliveryStatus;
  /** Targets that got the signal, at most {@link MAX_HELD}, handles open: pass them as `held` next time, or close them. */
  readonly delivered: readonly HeldTarget[];
  /** Why a target was not signalled: 'permission', 'handler_timeout', 'exited', 'shutdown', 'error'. */
  readonly failures: readonly string[];
}

const HANDLER_POLL_MS = 20;

export async function deliverReload(options: DeliveryOptions): Promise<DeliveryReport> {
  const delivered: HeldTarget[] = [];
  try {
    return await deliver(options, delivered);
  } catch (error) {
    // Nothing is returned, so nothing may stay open. close() is idempotent.
    for (const held of [...(options.held ?? []), ...delivered]) held.handle.close();
    throw error;
  }
}

async function deliver(options: DeliveryOptions, delivered: HeldTarget[]): Promise<DeliveryReport> {
  const selfPid = options.selfPid ?? process.pid;
  const failures: string[] = [];
  const handled = new Set<string>();
  const record = (outcome: HeldTarget | string): void => {
    if (typeof outcome === 'string') failures.push(outcome);
    // Past MAX_HELD a handle is closed as soon as its signal is out.
    else if (delivered.length < MAX_HELD) delivered.push(outcome);
    else outcome.handle.close();
  };

  for (const held of options.held ?? []) {
    const status = heldStatus(held, options.processName);
    if (status === undefined) {
      held.handle.close();
      continue;
    }
    handled.add(identity(held.summary));
    record(await deliverThrough(held, status, options));
  }

  const processes = listProcessSummaries();
  const { targets, workers } = selectTargets(processes, options.processName, options.signalAll, selfPid);
  for (const target of targets) {
    if (handled.has(identity(target))) continue;
    handled.add(identity(target));
    const opened = openTarget(target);
    if ('held' in opened) record(await deliverThrough(opened.held, opened.status, options));
    else record(openFailure(target, opened.error, options.log));
  }
  // After the signals: the first line logged brings the reloader's "change detected" with it.
  if (workers.length > 0) {
    options.log.debug('workers skipped', { pids: workers.map((info) => info.pid) });
  }
  if (handled.size === 0) {
    options.log.warn('target not found', { reason: noTargetMessage(options.processName, processes, selfPid) });
    return { status: 'no_target', delivered: [], failures: [] };
  }
  return { status: failures.length === 0 ? 'sent' : 'failed', delivered, failures };
}

function identity(target: ProcessSummary): string {
  return `${target.pid}@${target.startTime}`;
}

function openFailure(target: ProcessSummary, error: unknown, log: Logger): string {
  if (hasCode(error, 'ESRCH')) {
    log.warn('target exited before the reload', { pid: target.pid, process: target.comm });
    return 'exited';
  }
  log.error('reload not sent', { pid: target.pid, reason: errorMessage(error) });
  return 'error';
}

/** Signals one target once it is safe to; closes its handle unless it is returned. */
async function deliverThrough(held: HeldTarget, initial: ProcStatus, options: DeliveryOptions): Promise<HeldTarget | string> {
  let outcome: HeldTarget | string = 'error';
  try {
    outcome = await sendThrough(held, initial, options);
  } catch (error) {
    // A status that does not parse, say: this target fails, the others are still tried.
    options.log.error('reload not sent', { pid: held.summary.pid, reason: errorMessage(error) });
  } finally {
    if (typeof outcome === 'string') held.handle.close();
  }
  return outcome;
}

async function sendThrough(held: HeldTarget, initial: ProcStatus, options: DeliveryOptions): Promise<HeldTarget | string> {
  const { signal, log } = options;
  const { summary, handle } = held;
  // No await on the usual path, where the handler is in place: the signal
  // then goes out in the same turn as the event that called for it.
  const status = safeToSignal(initial, signal.number) ? initial : await waitForHandler(held, initial, options);
  if (status === 'exited') {
    log.warn('target exited before the reload', { pid: summary.pid, process: summary.comm });
    return 'exited';
  }
  if (status === 'aborted') {
    log.info('reload abandoned: shutting down', { pid: summary.pid, process: summary.comm });
    return 'shutdown';
  }
  if (status === 'timeout') {
    log.error('reload not sent', { pid: summary.pid, reason: handlerTimeoutMessage(summary, signal.name, options.handlerWaitMs) });
    return 'handler_timeout';
  }
  try {
    handle.signal(signal.number);
  } catch (error) {
    if (isSignalPermissionError(error)) {
      log.error('reload not sent', { pid: summary.pid, reason: permissionMessage(signal.name, error.permission) });
      return 'permission';
    }
    if (hasCode(error, 'ESRCH')) {
      log.warn('target exited before the reload', { pid: summary.pid, process: summary.comm });
      return 'exited';
    }
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
    latency_ms: options.detectedAt === undefined ? undefined : Number((performance.now() - options.detectedAt).toFixed(3)),
  });
  const info = combineStatus(summary, status);
  if (ignoresSignal(info, signal.number)) {
    log.warn('target ignores the signal', { pid: summary.pid, reason: ignoredSignalMessage(info, signal.name) });
  }
  return held;
}

/**
 * True when delivering the signal cannot kill the target: it catches or
 * ignores the signal, or the signal's default action does not terminate. A
 * process still starting up may not have installed its handler yet;
 * signalling it then would kill the app we meant to reload.
 */
function safeToSignal(status: ProcStatus, signo: number): boolean {
  return !defaultActionTerminates(signo) || maskHas(status.signals.caught, signo) || maskHas(status.signals.ignored, signo);
}

/** Polls the target's status until {@link safeToSignal}, it exits, the wait times out or shutdown aborts it. */
async function waitForHandler(
  held: HeldTarget,
  initial: ProcStatus,
  options: DeliveryOptions,
): Promise<ProcStatus | 'exited' | 'timeout' | 'aborted'> {
  const signo = options.signal.number;
  const deadline = performance.now() + options.handlerWaitMs;
  let current = initial;
  let logged = false;
  for (;;) {
    if (safeToSignal(current, signo)) return current;
    if (performance.now() >= deadline) return 'timeout';
    if (!logged) {
      options.log.info('waiting for the target to install its signal handler', {
        pid: held.summary.pid, process: held.summary.comm, signal: options.signal.name, max_wait_ms: options.handlerWaitMs,
      });
      logged = true;
    }
    try {
      await sleep(HANDLER_POLL_MS, undefined, options.abort === undefined ? {} : { signal: options.abort });
    } catch {
      return 'aborted';
    }
    try {
      current = held.handle.status();
    } catch (error) {
      if (hasCode(error, 'ESRCH')) return 'exited';
      throw error;
    }
  }
}
