// What the reload loop reports as it works. The metrics endpoint implements
// it; without one, nothing is recorded and nothing is loaded.
import type { ActionName } from './config';

/** The result of one reload attempt: every action succeeded, one failed, or the signal action found no process. */
export type ReloadResult = 'success' | 'failure' | 'no_target';

export interface ReloadObserver {
  watchEvents(count: number): void;
  watches(count: number): void;
  changeDetected(): void;
  skippedUnchanged(): void;
  targetNotFound(): void;
  /** One reload attempt (a retry is another) ended. */
  reload(result: ReloadResult): void;
  /** One run of one action ended. */
  action(action: ActionName, result: 'success' | 'failure'): void;
  fingerprint(digest: string): void;
  ready(ready: boolean): void;
  /** Directories that cannot be watched now. */
  watchProblems(count: number): void;
  /** Files and directories of the configuration that exist and cannot be read. */
  unreadable(count: number): void;
  /** A check could not read the configuration and will run again. */
  readRetry(): void;
}

export const nullObserver: ReloadObserver = {
  watchEvents() {}, watches() {}, changeDetected() {}, skippedUnchanged() {}, targetNotFound() {},
  reload() {}, action() {}, fingerprint() {}, ready() {}, watchProblems() {}, unreadable() {}, readRetry() {},
};
