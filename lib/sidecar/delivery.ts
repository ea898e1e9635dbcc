// Delivers one reload: resolve the targets afresh (so restarts are followed),
// make sure the signal cannot kill a target that has not installed its
// handler yet, and send it race-free.
//
// The targets of the previous reload are signalled first, through the
// ProcessHandles kept open since then: one read of their status (is the
// handler still installed? same program?) and, with pidfds, one
// pidfd_send_signal. The
// full /proc scan runs after them: on a node with hundreds of processes it
// costs milliseconds, and the app is almost always the same process as last
// time. The scan still runs for every reload, and any target it finds that
// was not signalled yet (a restart, a second instance) is signalled at once.
import { setTimeout as sleep } from 'node:timers/promises';

import { errorMessage, hasCode } from '../errors';
import { combineStatus, ignoresSignal, listProcessSummaries, type ProcessSummary, readProcessSummary } from '../proc';
import { maskHas, type ProcStatus } from '../proc-parse';
import { openProcess, type ProcessHandle } from '../process-handle';
import { defaultActionTerminates, type Signal } from '../signals';
import { CAP_KILL, hasEffectiveCapability } from './capabilities';
import { handlerTimeoutMessage, ignoredSignalMessage, noTargetMessage, permissionMessage } from './diagnosis';
import type { Logger } from './log';
import { matchesName, seesOnlyItself, selectTargets } from './targets';

/** A process that got a reload, with the handle to reach it next time. */
export interface HeldTarget {
  /** The process as the scan that chose it saw it. */
  readonly summary: ProcessSummary;
  readonly handle: ProcessHandle;
  /**
   * Its name in status when chosen. A process whose name changed has
   * exec'd another program (or renamed itself), so whether it is still a
   * target is left to the scan.
   */
  readonly name: string;
}

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
   * Who got the previous reload: tried first (see the file comment).
   * deliverReload takes them over: it closes those it does not return.
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

/**
 * Targets held open between reloads, at most. Each keeps two descriptors
 * for as long as it lives, and with SIGNAL_ALL a name can match hundreds of
 * processes (every postgres backend): past this many, the rest are reached
 * through the scan on each reload, as every target used to be.
 */
export const MAX_HELD = 16;

/** The first MAX_HELD of `targets`; the handles of the rest are closed. */
function keepHeld(targets: readonly HeldTarget[]): HeldTarget[] {
  for (const extra of targets.slice(MAX_HELD)) extra.handle.close();
  return targets.slice(0, MAX_HELD);
}

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
    else delivered.push(outcome);
  };

  for (const held of options.held ?? []) {
    const status = currentStatus(held, options.processName);
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
    const opened = open(target);
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
  return { status: failures.length === 0 ? 'sent' : 'failed', delivered: keepHeld(delivered), failures };
}

function identity(target: ProcessSummary): string {
  return `${target.pid}@${target.startTime}`;
}

/**
 * The held process's status, or undefined when it has exited or may no
 * longer answer to the name. Like the scan, which leaves out a process it
 * cannot read, this never fails the reload: the scan decides about it.
 *
 * An unchanged status Name proves the name still matches only for a target
 * that matched through its comm, which is that Name. One that matched
 * through argv[0], its executable or its title (a name longer than comm
 * holds, nginx's "nginx: master process") could exec another program under
 * the same comm, so its names are read again, as the scan would.
 */
function currentStatus(held: HeldTarget, processName: string): ProcStatus | undefined {
  try {
    const status = held.handle.status();
    if (status.name !== held.name) return undefined;
    if (held.summary.comm === processName) return status;
    const summary = readProcessSummary(held.summary.pid);
    return summary?.startTime === held.summary.startTime && matchesName(summary, processName) ? status : undefined;
  } catch {
    return undefined;
  }
}

interface Opened {
  readonly held: HeldTarget;
  readonly status: ProcStatus;
}

/** Opens a handle on a target found by the scan and reads its status; the error when it cannot. */
function open(target: ProcessSummary): Opened | { readonly error: unknown } {
  let handle: ProcessHandle | undefined;
  try {
    handle = openProcess(target);
    const status = handle.status();
    return { held: { summary: target, handle, name: status.name }, status };
  } catch (error) {
    handle?.close();
    return { error };
  }
}

function openFailure(target: ProcessSummary, error: unknown, log: Logger): string {
  if (hasCode(error, 'ESRCH')) {
    log.warn('target exited before the reload', { pid: target.pid, process: target.comm });
    return 'exited';
  }
  log.error('reload not sent', { pid: target.pid, reason: errorMessage(error) });
  return 'error';
}

export interface LookupOptions {
  readonly processName: string;
  readonly signalAll: boolean;
  readonly log: Logger;
  readonly selfPid?: number;
}

/**
 * The targets a reload would signal now, opened but not signalled, and a
 * log line saying what was found. At start-up this tells the operator at
 * once what would otherwise show only at the first ConfigMap update, maybe
 * days later: above all a Pod without `shareProcessNamespace`. The handles
 * are the `held` of the first delivery.
 */
export function lookUpTargets(options: LookupOptions): HeldTarget[] {
  const selfPid = options.selfPid ?? process.pid;
  const processes = listProcessSummaries();
  const { targets } = selectTargets(processes, options.processName, options.signalAll, selfPid);
  const held: HeldTarget[] = [];
  for (const target of targets.slice(0, MAX_HELD)) {
    const opened = open(target);
    if ('held' in opened) held.push(opened.held);
  }
  if (targets.length > 0) {
    options.log.info('target found', { targets: targets.map((target) => `${target.pid} ${target.comm}`) });
  } else if (seesOnlyItself(processes, selfPid)) {
    options.log.warn('no target can be seen', { reason: noTargetMessage(options.processName, processes, selfPid) });
  } else {
    // In a Pod the app's container often starts after the sidecar: not a fault yet.
    options.log.info('target not running yet', { process_name: options.processName });
  }
  return held;
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
    if (hasCode(error, 'EPERM')) {
      const reason = permissionMessage({
        target: combineStatus(summary, status),
        signalName: signal.name,
        ourUid: process.getuid?.() ?? -1,
        haveCapKill: hasEffectiveCapability(CAP_KILL),
      });
      log.error('reload not sent', { pid: summary.pid, reason });
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
