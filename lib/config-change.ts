// What ConfigWatcher reports about a check: a real change, or content it
// had already reported.
import type { FileChanges, Fingerprint } from './fingerprint';

/** Reasons listed per check; a burst brings one trigger per event, and the rest are counted. */
export const LISTED_REASONS = 3;

/** Why a check ran: the first few distinct triggers, and how many others came besides. */
export interface CheckReasons {
  readonly reasons: readonly string[];
  readonly moreReasons: number;
  /** performance.now() of the first trigger of this check. */
  readonly detectedAt: number;
}

/** A real change: the content differs from the last one reported (or found at open). */
export interface ConfigChange extends CheckReasons, FileChanges {
  readonly fingerprint: Fingerprint;
  readonly previous: Fingerprint;
}

/** A check that found the content last reported: a resync, a rewrite of the same bytes. */
export interface UnchangedCheck extends CheckReasons {
  readonly fingerprint: Fingerprint;
}
