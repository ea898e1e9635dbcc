// The signal action: PROCESS_NAME, signalled through delivery.ts. It keeps
// the targets the last reload reached (held-targets.ts) from one run to the
// next, so the next reload tries them first.
import type { Signal } from '..';
import { deliverReload } from './delivery';
import { errorMessage } from './errors';
import type { HeldTarget } from './held-targets';
import type { Logger } from './log';
import type { ActionOutcome, ActionRun, ReloadAction } from './reload-action';
import { lookUpTargets } from './startup-lookup';

export interface SignalSettings {
  readonly processName: string;
  readonly signal: Signal;
  readonly signalAll: boolean;
  readonly handlerWaitMs: number;
  readonly handlerCheck: boolean;
}

export class SignalAction implements ReloadAction {
  readonly name = 'signal';
  /** Targets the last reload reached, or start-up found, handles open: tried first next time. */
  #held: readonly HeldTarget[] = [];
  /**
   * After a run that reached some targets and not others: the content, and
   * who has it (targetIdentity). A retry, or a later check of the same
   * content, signals only the targets that missed it.
   */
  #partial: { readonly digest: string; readonly reached: ReadonlySet<string> } | undefined;

  constructor(private readonly settings: SignalSettings) {}

  start(log: Logger): void {
    try {
      this.#held = lookUpTargets({ processName: this.settings.processName, signalAll: this.settings.signalAll, log });
    } catch (error) {
      // The first reload looks again; watching goes on regardless.
      log.warn('target lookup failed', { reason: errorMessage(error) });
    }
  }

  async run(run: ActionRun): Promise<ActionOutcome> {
    // The delivery takes the held handles over, and closes what it does not return.
    const held = this.#held;
    this.#held = [];
    const digest = run.fingerprint.digest;
    const partial = this.#partial?.digest === digest ? this.#partial : undefined;
    const report = await deliverReload({
      ...this.settings,
      log: run.log,
      abort: run.abort,
      held,
      detectedAt: run.detectedAt,
      ...(partial === undefined ? {} : { alreadyReached: partial.reached }),
    });
    this.#held = report.delivered;
    this.#partial = report.status === 'failed' && report.reached.length + (partial?.reached.size ?? 0) > 0
      ? { digest, reached: new Set([...(partial?.reached ?? []), ...report.reached]) }
      : undefined;
    if (report.status === 'sent') return { result: 'success' };
    if (report.status === 'no_target') return { result: 'no_target', reason: `no process named ${this.settings.processName}` };
    if (report.failures.includes('shutdown')) return { result: 'shutdown' };
    const count = report.failures.length;
    const reasons = count === 0 ? [] : [`${this.settings.signal.name} not delivered to ${count} target${count === 1 ? '' : 's'} (${[...new Set(report.failures)].join(', ')})`];
    if (report.scanError !== undefined) reasons.push(`cannot look for targets in /proc: ${report.scanError}`);
    return { result: 'failure', reason: reasons.join('; '), partial: report.reached.length > 0 };
  }

  close(): void {
    for (const held of this.#held) held.handle.close();
    this.#held = [];
  }
}
