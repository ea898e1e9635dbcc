// Delivers one reload: resolve the targets afresh (so restarts are followed),
// make sure the signal cannot kill a target that is not ready for it, and
// send it race-free.
//
// The held targets (held-targets.ts: those the last reload reached, or the
// start-up lookup found) are signalled first, through the ProcessHandles
// kept open since then: one read of their status (still a target? handler
// installed?) and, with pidfds, one pidfd_send_signal. The full /proc scan
// runs after them: on a node with hundreds of processes it costs
// milliseconds, and the app is almost always the same process as last time.
// The scan still runs for every reload, and any target it finds that was not
// signalled yet (a restart, a second instance) is signalled at once.
//
// Each target is delivered to on its own (target-delivery.ts): one that must
// be waited for (its handler is not there yet) holds up neither the others
// nor the scan. A target already reloaded with this content
// (`alreadyReached`, after a partial delivery) is not signalled again.
import { listProcessSummaries, type ProcessSummary, type ProcStatus } from '..';
import { noTargetMessage } from './diagnosis';
import { errorMessage } from './errors';
import { type HeldTarget, heldStatus, MAX_HELD, openTarget } from './held-targets';
import { selectTargets } from './targets';
import { deliverToTarget, MAX_WAITING, openFailure, type TargetDeliveryOptions, type TargetOutcome, WaitSlots } from './target-delivery';

export interface DeliveryOptions extends TargetDeliveryOptions {
  readonly processName: string;
  readonly signalAll: boolean;
  readonly selfPid?: number;
  /**
   * Targets held since the last reload or start-up: tried first (see the
   * file comment). deliverReload takes them over: it closes those it does
   * not return.
   */
  readonly held?: readonly HeldTarget[];
  /** Targets ({@link targetIdentity}) that already have this content: not signalled again. */
  readonly alreadyReached?: ReadonlySet<string>;
}

/** sent: every target got the signal. no_target: nothing to signal. failed: some target did not get it. */
export type DeliveryStatus = 'sent' | 'no_target' | 'failed';

export interface DeliveryReport {
  readonly status: DeliveryStatus;
  /** Targets that got the signal, at most {@link MAX_HELD}, handles open: pass them as `held` next time, or close them. */
  readonly delivered: readonly HeldTarget[];
  /**
   * Why a target was not signalled: 'permission', 'handler_timeout',
   * 'ignored', 'exited', 'shutdown', 'error'.
   */
  readonly failures: readonly string[];
  /** Why /proc could not be listed: targets other than the held ones may have been missed (status 'failed'). */
  readonly scanError?: string;
  /** Every target ({@link targetIdentity}) that has this content now: signalled by this delivery, or already reached. */
  readonly reached: readonly string[];
}

/** A target's identity across reloads: its pid and start time, which a restart or a reused pid changes. */
export function targetIdentity(target: { readonly pid: number; readonly startTime: number }): string {
  return `${target.pid}@${target.startTime}`;
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
  const alreadyReached = options.alreadyReached ?? new Set<string>();
  const failures: string[] = [];
  const reached: string[] = [];
  const skipped: ProcessSummary[] = [];
  const handled = new Set<string>();
  const deliveries: Promise<void>[] = [];
  const slots = new WaitSlots(MAX_WAITING);
  const keep = (held: HeldTarget): void => {
    // Past MAX_HELD a handle is closed as soon as its signal is out.
    if (delivered.length < MAX_HELD) delivered.push(held);
    else held.handle.close();
  };
  const record = (outcome: TargetOutcome): void => {
    if (typeof outcome === 'string') {
      failures.push(outcome);
    } else {
      reached.push(targetIdentity(outcome.summary));
      keep(outcome);
    }
  };
  // A target that takes the signal now is signalled before this returns;
  // one that must be waited for goes on by itself.
  const start = (held: HeldTarget, status: ProcStatus): void => {
    const outcome = deliverToTarget(held, status, options, slots);
    if (outcome instanceof Promise) deliveries.push(outcome.then(record));
    else record(outcome);
  };

  for (const held of options.held ?? []) {
    const status = heldStatus(held, options.processName);
    if (status === undefined) {
      held.handle.close();
      continue;
    }
    const identity = targetIdentity(held.summary);
    handled.add(identity);
    if (alreadyReached.has(identity)) {
      skipped.push(held.summary);
      reached.push(identity);
      keep(held);
    } else {
      start(held, status);
    }
  }

  let processes: ProcessSummary[] = [];
  let workers: readonly ProcessSummary[] = [];
  let scanError: string | undefined;
  try {
    processes = listProcessSummaries();
    const selection = selectTargets(processes, options.processName, options.signalAll, selfPid);
    workers = selection.workers;
    for (const target of selection.targets) {
      const identity = targetIdentity(target);
      if (handled.has(identity)) continue;
      handled.add(identity);
      if (alreadyReached.has(identity)) {
        skipped.push(target);
        reached.push(identity);
        continue;
      }
      const opened = openTarget(target);
      if ('held' in opened) start(opened.held, opened.status);
      else failures.push(openFailure(target, opened.error, options.log));
    }
  } catch (error) {
    // The held targets may have the signal already: a failed delivery that
    // says who was reached, not a throw, so that the retry signals only the
    // targets that missed it (EMFILE, an unreadable /proc).
    scanError = errorMessage(error);
    options.log.error('cannot look for targets in /proc', { reason: scanError });
  }
  // After the signals: the first line logged brings the reloader's "change detected" with it.
  if (skipped.length > 0) {
    options.log.info('not signalled again: already reloaded with this content', { pids: skipped.map((target) => target.pid) });
  }
  if (workers.length > 0) {
    options.log.debug('workers skipped', { pids: workers.map((info) => info.pid) });
  }
  await Promise.all(deliveries);
  if (scanError !== undefined) return { status: 'failed', delivered, failures, reached, scanError };
  if (handled.size === 0) {
    options.log.warn('target not found', { reason: noTargetMessage(options.processName, processes, selfPid) });
    return { status: 'no_target', delivered: [], failures: [], reached: [] };
  }
  return { status: failures.length === 0 ? 'sent' : 'failed', delivered, failures, reached };
}
