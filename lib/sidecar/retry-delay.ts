// How long a failed reload waits before it is tried again: 1 s, doubling,
// at most 30 s. Short at first because the usual failure is an app that is
// still starting (its port refuses connections for a second or two); capped
// because an app that rejects its configuration will go on rejecting it
// until the next update, and each attempt is logged. No jitter: every
// sidecar reloads its own Pod's app, so retries of many Pods do not pile up
// on one server.
export const FIRST_RETRY_DELAY_MS = 1000;
export const MAX_RETRY_DELAY_MS = 30_000;

/** The wait before retry `retry` (1 for the first retry, after the first attempt failed). */
export function retryDelayMs(retry: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, retry - 1));
}
