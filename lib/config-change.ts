// What ConfigWatcher reports about a check: a real change, or content it
// had already reported.
import type { monotonicMs } from './monotonic-clock';
import { diffFingerprints, type FileChanges, type Fingerprint } from './fingerprint';

/** Reasons listed per check; a burst brings one trigger per event, and the rest are counted. */
export const LISTED_REASONS = 3;

/** Why a check ran: the first few distinct triggers, and how many others came besides. */
export interface CheckReasons {
  readonly reasons: readonly string[];
  readonly moreReasons: number;
  /** When the first trigger of this check arrived: {@link monotonicMs} (CLOCK_MONOTONIC, ms). */
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

/**
 * A ConfigChange whose file lists are worked out when first read, and then
 * kept. A listener that reloads the app reads them after the reload, if at
 * all. They are own enumerable properties, so a spread or JSON.stringify
 * of the change still holds them.
 */
export function lazyConfigChange(reasons: CheckReasons, fingerprint: Fingerprint, previous: Fingerprint): ConfigChange {
  let lists: FileChanges | undefined;
  const diff = (): FileChanges => (lists ??= diffFingerprints(previous, fingerprint));
  return {
    ...reasons,
    fingerprint,
    previous,
    get added() {
      return diff().added;
    },
    get removed() {
      return diff().removed;
    },
    get modified() {
      return diff().modified;
    },
  };
}
