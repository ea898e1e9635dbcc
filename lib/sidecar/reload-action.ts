// What every reload action (command, signal, URL) offers the reload loop
// (actions.ts makes the ones a configuration asks for).
import type { Fingerprint } from '..';
import type { ActionName } from './config';
import type { Logger } from './log';

/** One run of an action for one content. */
export interface ActionRun {
  readonly fingerprint: Fingerprint;
  /**
   * Files added, modified or removed since the content the app last
   * reloaded with, absolute paths, sorted. A function: working them out
   * costs time that the signal, on its fast path, does not spend.
   */
  changedFiles(): readonly string[];
  readonly log: Logger;
  /** Aborted at shutdown: a wait is cut short, a command killed, a request dropped. */
  readonly abort: AbortSignal;
  /** When the change was detected (monotonicMs()), for the latency in the log. */
  readonly detectedAt: number;
}

/**
 * success: the app has been told. failure: it has not, and a retry may help
 * (`reason` says why in one line, with no secret in it). no_target: the
 * signal action found no process. shutdown: abandoned because the sidecar is
 * stopping, which is neither.
 */
export type ActionResult = 'success' | 'failure' | 'no_target' | 'shutdown';

export interface ActionOutcome {
  readonly result: ActionResult;
  readonly reason?: string;
  /** A failure that still reached part of the app (some targets got the signal): the app no longer holds only the content before. */
  readonly partial?: boolean;
}

export interface ReloadAction {
  readonly name: ActionName;
  /** At start-up, once the watches are in place: look for what a reload will need, and warn early when it is missing. */
  start(log: Logger): void;
  /** Runs once; logs its own outcome, and never throws for a failure it can name. */
  run(run: ActionRun): Promise<ActionOutcome>;
  /** Lets go of what it holds. */
  close(): void;
}
