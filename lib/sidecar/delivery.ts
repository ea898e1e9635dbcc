// Delivers one reload: resolve the targets afresh (so restarts are followed),
// make sure the signal cannot kill a target that has not installed its
// handler yet, and send it race-free.
//
// The targets of the previous reload are signalled first, each after a check
// of that one process, and the full /proc scan runs after them: on a node
// with hundreds of processes the scan costs milliseconds, and the app is
// almost always the same process as last time. The scan still runs for
// every reload, and any target it finds that was not signalled yet (a
// restart, a second instance) is signalled at once.
import { setTimeout as sleep } from 'node:timers/promises';

import { errorMessage, hasCode } from '../errors';
import {
  catchesSignal, ignoresSignal, listProcessSummaries, type ProcessInfo, type ProcessSummary, readProcess,
  readProcessSummary, withStatus,
} from '../proc';
import { type SignalMethod, signalProcess, type SignalTarget } from '../signal-process';
import { defaultActionTerminates, type Signal } from '../signals';
import { CAP_KILL, hasEffectiveCapability } from './capabilities';
import { handlerTimeoutMessage, ignoredSignalMessage, noTargetMessage, permissionMessage } from './diagnosis';
import type { Logger } from './log';
import { matchesName, selectTargets } from './targets';

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
  /** Who got the previous reload: tried first (see the file comment). */
  readonly previous?: readonly SignalTarget[];
}

/** sent: every target got the signal. no_target: nothing to signal. failed: some target did not get it. */
export type DeliveryStatus = 'sent' | 'no_target' | 'failed';

export interface Delivered extends SignalTarget {
  readonly method: SignalMethod;
}

export interface DeliveryReport {
  readonly status: DeliveryStatus;
  readonly delivered: readonly Delivered[];
  /** Why a target was not signalled: 'permission', 'handler_timeout', 'exited', 'shutdown', 'error'. */
  readonly failures: readonly string[];
}

const HANDLER_POLL_MS = 20;

export async function deliverReload(options: DeliveryOptions): Promise<DeliveryReport> {
  const selfPid = options.selfPid ?? process.pid;
  const delivered: Delivered[] = [];
  const failures: string[] = [];
  const handled = new Set<string>();
  const deliver = async (target: ProcessSummary): Promise<void> => {
    handled.add(identity(target));
    const outcome = await deliverOne(target, options);
    if (typeof outcome === 'string') failures.push(outcome);
    else delivered.push(outcome);
  };

  for (const known of options.previous ?? []) {
    const summary = summaryOrUndefined(known.pid);
    // Same process (pid and start time) still answering to the name: the scan would pick it again.
    if (summary !== undefined && summary.startTime === known.startTime && matchesName(summary, options.processName)) {
      await deliver(summary);
    }
  }

  const processes = listProcessSummaries();
  const { targets, workers } = selectTargets(processes, options.processName, options.signalAll, selfPid);
  if (workers.length > 0) {
    options.log.debug('workers skipped', { pids: workers.map((info) => info.pid) });
  }
  for (const target of targets) {
    if (!handled.has(identity(target))) await deliver(target);
  }
  if (handled.size === 0) {
    options.log.warn('target not found', { reason: noTargetMessage(options.processName, processes, selfPid) });
    return { status: 'no_target', delivered: [], failures: [] };
  }
  return { status: failures.length === 0 ? 'sent' : 'failed', delivered, failures };
}

/**
 * The fast path must never be worse than the scan: where the scan skips a
 * process it cannot read (EACCES under hidepid=noaccess), so does this.
 */
function summaryOrUndefined(pid: number): ProcessSummary | undefined {
  try {
    return readProcessSummary(pid);
  } catch {
    return undefined;
  }
}

function identity(target: SignalTarget): string {
  return `${target.pid}@${target.startTime}`;
}

async function deliverOne(found: ProcessSummary, options: DeliveryOptions): Promise<Delivered | string> {
  const { signal, log } = options;
  // The scan read no status, which only targets need (signal masks, uid).
  const initial = withStatus(found);
  const target = initial === undefined ? 'exited' : await waitForHandler(initial, options);
  if (target === 'exited') {
    log.warn('target exited before the reload', { pid: found.pid, process: found.comm });
    return 'exited';
  }
  if (target === 'aborted') {
    log.info('reload abandoned: shutting down', { pid: found.pid, process: found.comm });
    return 'shutdown';
  }
  if (target === 'timeout') {
    log.error('reload not sent', { pid: found.pid, reason: handlerTimeoutMessage(found, signal.name, options.handlerWaitMs) });
    return 'handler_timeout';
  }
  if (ignoresSignal(target, signal.number)) {
    log.warn('target ignores the signal', { pid: target.pid, reason: ignoredSignalMessage(target, signal.name) });
  }
  try {
    const method = signalProcess({ pid: target.pid, startTime: target.startTime }, signal.number);
    log.info('reload sent', {
      pid: target.pid,
      process: target.comm,
      signal: signal.name,
      method,
      latency_ms: options.detectedAt === undefined ? undefined : Number((performance.now() - options.detectedAt).toFixed(3)),
    });
    return { pid: target.pid, startTime: target.startTime, method };
  } catch (error) {
    if (hasCode(error, 'EPERM')) {
      const reason = permissionMessage({
        target,
        signalName: signal.name,
        ourUid: process.getuid?.() ?? -1,
        haveCapKill: hasEffectiveCapability(CAP_KILL),
      });
      log.error('reload not sent', { pid: target.pid, reason });
      return 'permission';
    }
    if (hasCode(error, 'ESRCH')) {
      log.warn('target exited before the reload', { pid: target.pid, process: target.comm });
      return 'exited';
    }
    log.error('reload not sent', { pid: target.pid, reason: errorMessage(error) });
    return 'error';
  }
}

/**
 * Returns the target once delivering the signal is safe: it catches or
 * ignores the signal, or the signal's default action does not terminate.
 * A process still starting up may not have installed its handler yet;
 * signalling it then would kill the app we meant to reload.
 */
async function waitForHandler(target: ProcessInfo, options: DeliveryOptions): Promise<ProcessInfo | 'exited' | 'timeout' | 'aborted'> {
  const signo = options.signal.number;
  if (!defaultActionTerminates(signo)) return target;
  const deadline = performance.now() + options.handlerWaitMs;
  let current = target;
  let logged = false;
  for (;;) {
    if (catchesSignal(current, signo) || ignoresSignal(current, signo)) return current;
    if (performance.now() >= deadline) return 'timeout';
    if (!logged) {
      options.log.info('waiting for the target to install its signal handler', {
        pid: current.pid, process: current.comm, signal: options.signal.name, max_wait_ms: options.handlerWaitMs,
      });
      logged = true;
    }
    try {
      await sleep(HANDLER_POLL_MS, undefined, options.abort === undefined ? {} : { signal: options.abort });
    } catch {
      return 'aborted';
    }
    const next = readProcess(current.pid);
    if (next === undefined || next.startTime !== current.startTime) return 'exited';
    current = next;
  }
}
