// Prometheus metrics for the reload loop, in a registry of their own so that
// nothing else in the process (or a library user's default registry) mixes in.
//
// This module imports prom-client, so run.ts requires it only when
// METRICS_ADDR is set: without the endpoint, neither prom-client nor its
// dependencies are in memory.
//
// Naming follows the Prometheus conventions: a `config_reloader_` prefix,
// `_total` on counters, base units in the name (`_seconds`), and an `_info`
// gauge fixed at 1 that carries the current fingerprint as a label.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

import type { ReloadObserver, ReloadResult } from './observer';

const RESULTS: readonly ReloadResult[] = ['success', 'failure', 'no_target'];

export interface Metrics {
  readonly observer: ReloadObserver;
  /** The exposition text for a scrape. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(version: string): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, open fds, event-loop lag) cost nothing until scraped.
  collectDefaultMetrics({ register: registry });

  const registers = [registry];
  const reloads = new Counter({
    name: 'config_reloader_reloads_total',
    help: 'Reloads attempted after a real change, by result: success (every target signalled), failure (some target not signalled), no_target (no process to signal).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of RESULTS) reloads.labels(result).inc(0); // every series exists from the first scrape, so rate() works
  const lastSuccess = new Gauge({
    name: 'config_reloader_last_successful_reload_timestamp_seconds',
    help: 'Unix time of the last reload delivered to every target; 0 before the first.',
    registers,
  });
  const changes = new Counter({
    name: 'config_reloader_changes_detected_total',
    help: 'Checks that found the configuration content changed.',
    registers,
  });
  const skipped = new Counter({
    name: 'config_reloader_skipped_unchanged_total',
    help: 'Checks triggered by file events that found the content unchanged, so no signal was sent.',
    registers,
  });
  const notFound = new Counter({
    name: 'config_reloader_target_not_found_total',
    help: 'Reloads that found no process to signal.',
    registers,
  });
  const events = new Counter({
    name: 'config_reloader_watch_events_total',
    help: 'inotify events read from the kernel.',
    registers,
  });
  const watches = new Gauge({
    name: 'config_reloader_watches',
    help: 'inotify watches currently held.',
    registers,
  });
  const configInfo = new Gauge({
    name: 'config_reloader_config_info',
    help: 'The content fingerprint (HMAC-SHA256, keyed: see FINGERPRINT_KEY_FILE) of the configuration the app last reloaded with, as a label; always 1.',
    labelNames: ['fingerprint'] as const,
    registers,
  });
  const ready = new Gauge({
    name: 'config_reloader_ready',
    help: '1 once every configured directory is watched, 0 before and during shutdown.',
    registers,
  });
  const watchProblems = new Gauge({
    name: 'config_reloader_watch_problems',
    help: 'Directories that cannot be watched now (permissions, the inotify watch limit, a path too long); changes in them are not seen until watching succeeds.',
    registers,
  });
  const unreadable = new Gauge({
    name: 'config_reloader_unreadable_files',
    help: 'Files and directories of the configuration that exist and that the sidecar may not read: their content is not compared.',
    registers,
  });
  const readRetries = new Counter({
    name: 'config_reloader_read_retries_total',
    help: 'Checks that could not read the configuration (EMFILE, EIO, ...) and were retried.',
    registers,
  });
  new Gauge({
    name: 'config_reloader_build_info',
    help: 'The version of config-reloader; always 1.',
    labelNames: ['version'] as const,
    registers,
  }).labels(version).set(1);

  const observer: ReloadObserver = {
    watchEvents: (count) => events.inc(count),
    watches: (count) => watches.set(count),
    changeDetected: () => changes.inc(),
    skippedUnchanged: () => skipped.inc(),
    targetNotFound: () => notFound.inc(),
    reload: (result) => {
      reloads.labels(result).inc();
      if (result === 'success') lastSuccess.set(Date.now() / 1000);
    },
    fingerprint: (digest) => {
      configInfo.reset();
      configInfo.labels(digest).set(1);
    },
    ready: (isReady) => ready.set(isReady ? 1 : 0),
    watchProblems: (count) => watchProblems.set(count),
    unreadable: (count) => unreadable.set(count),
    readRetry: () => readRetries.inc(),
  };
  return { observer, render: () => registry.metrics(), contentType: registry.contentType };
}
