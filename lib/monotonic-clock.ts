// The clock of every duration and deadline in the library and the sidecar,
// and of CheckReasons.detectedAt. It is CLOCK_MONOTONIC through libuv, the
// clock performance.now() also reads, without the global `performance`:
// its first use loads perf_hooks and its internal modules, which then stay
// resident in a process that runs in every Pod.

/** Milliseconds on CLOCK_MONOTONIC (from an arbitrary origin, fractional). */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
