// What the reload loop reports as it works. The metrics endpoint implements
// it; without one, nothing is recorded and nothing is loaded.
export type ReloadResult = 'success' | 'failure' | 'no_target';

export interface ReloadObserver {
  watchEvents(count: number): void;
  watches(count: number): void;
  changeDetected(): void;
  skippedUnchanged(): void;
  targetNotFound(): void;
  reload(result: ReloadResult): void;
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
  reload() {}, fingerprint() {}, ready() {}, watchProblems() {}, unreadable() {}, readRetry() {},
};
