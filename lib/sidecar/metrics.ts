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
//
// Four series also carry the names of prometheus-config-reloader (the
// Prometheus Operator's sidecar, `reloader_` without a prefix), with its
// meaning: the alerts people already run on them (kube-prometheus's
// ConfigReloaderSidecarErrors on reloader_last_reload_successful) then work
// unchanged. docs/operability.md maps configmap-reload's names as well.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

import { ACTION_ORDER, type ActionName } from './config';
import type { ReloadObserver, ReloadResult } from './observer';

const RESULTS: readonly ReloadResult[] = ['success', 'failure', 'no_target'];

export interface Metrics {
  readonly observer: ReloadObserver;
  /** The exposition text for a scrape. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** `actions`: those configured, whose series exist from the first scrape. */
export function createMetrics(version: string, actions: readonly ActionName[] = ACTION_ORDER): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, open fds, event-loop lag) cost nothing until scraped.
  collectDefaultMetrics({ register: registry });

  const registers = [registry];
  const reloads = new Counter({
    name: 'config_reloader_reloads_total',
    help: 'Reload attempts after a real change (each retry is one), by result: success (every action succeeded), failure (an action failed), no_target (the signal action found no process).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of RESULTS) reloads.labels(result).inc(0); // every series exists from the first scrape, so rate() works
  const actionRuns = new Counter({
    name: 'config_reloader_action_runs_total',
    help: 'Runs of each reload action (command, signal, url), by result: success or failure.',
    labelNames: ['action', 'result'] as const,
    registers,
  });
  for (const action of actions) for (const result of ['success', 'failure']) actionRuns.labels(action, result).inc(0);
  const lastSuccess = new Gauge({
    name: 'config_reloader_last_successful_reload_timestamp_seconds',
    help: 'Unix time of the last reload attempt in which every action succeeded; 0 before the first.',
    registers,
  });
  const lastSuccessful = new Gauge({
    name: 'config_reloader_last_reload_successful',
    help: '1 when the last reload attempt succeeded (and before the first), 0 when it failed.',
    registers,
  });
  lastSuccessful.set(1);
  // prometheus-config-reloader's names and meanings (see the file comment).
  const compatReloads = new Counter({ name: 'reloader_reloads_total', help: 'Total number of reload requests.', registers });
  const compatFailed = new Counter({ name: 'reloader_reloads_failed_total', help: 'Total number of reload requests that failed.', registers });
  const compatSuccessful = new Gauge({ name: 'reloader_last_reload_successful', help: 'Whether the last reload attempt was successful', registers });
  compatSuccessful.set(1);
  const compatSuccessTime = new Gauge({ name: 'reloader_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful reload', registers });
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
      compatReloads.inc();
      const succeeded = result === 'success';
      lastSuccessful.set(succeeded ? 1 : 0);
      compatSuccessful.set(succeeded ? 1 : 0);
      if (succeeded) {
        const now = Date.now() / 1000;
        lastSuccess.set(now);
        compatSuccessTime.set(now);
      } else {
        compatFailed.inc();
      }
    },
    action: (action, result) => actionRuns.labels(action, result).inc(),
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
