// `config-reloader run`: the sidecar's life from start to shutdown.
//
// Order matters:
// 1. SIGTERM/SIGINT handlers first, so a stop during start-up still ends cleanly.
// 2. The HTTP endpoint, when enabled, before anything is logged as started:
//    an address it cannot use is a configuration problem, reported in one
//    line like any other, with nothing started.
// 3. The reloader: watches, then the starting fingerprint. When that fails
//    (no inotify instance to be had, the configuration unreadable for now),
//    it is tried again with a backoff, never given up: a sidecar that
//    exited would be restarted by the kubelet into the same fault, over and
//    over (CrashLoopBackOff), while one that waits is healthy (/healthz),
//    not ready (/readyz), and says why in the log.
// On SIGTERM/SIGINT: stop the watches, cancel a retry, let a signal in
// flight finish (a wait for the target's handler is cancelled, a command is
// killed, a request dropped), close the endpoint, exit 0.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { errorCode, NATIVE_ADDON_MISSING } from '../..';
import { errorMessage } from '../errors';
import { actionsOf, type Config, redactUrl } from '../config';
import { reloadSignalWarning } from '../diagnosis';
import type { HttpEndpoint } from '../http-server';
import type { Logger } from '../log';
import { nullObserver, type ReloadObserver } from '../observer';
import { Reloader } from '../reloader';

export interface RunOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly version: string;
  /** Where one-line start-up failures go (stderr). */
  readonly fail: (line: string) => void;
  /** Key of the fingerprints shown (fingerprint-key.ts). */
  readonly fingerprintKey?: Buffer;
}

/** Exit code 2: the value of a setting cannot be used (see main.ts). */
const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;
/** Backoff of the tries to start watching. */
const START_RETRY_FIRST_MS = 1000;
const START_RETRY_MAX_MS = 30_000;

export async function runSidecar(options: RunOptions): Promise<number> {
  const { config, log, version } = options;
  const shutdown = new AbortController();
  let shutdownSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdownSignal !== undefined) {
      log.warn('second signal during shutdown: exiting now', { signal });
      process.exit(EXIT_FAILURE);
    }
    shutdownSignal = signal;
    shutdown.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let reloader: Reloader | undefined;
  let endpoint: HttpEndpoint | undefined;
  let observer: ReloadObserver = nullObserver;
  if (config.metricsAddr !== undefined) {
    // Loaded only here, so that without METRICS_ADDR prom-client never is
    // (require rather than import(): see main.ts).
    const { createMetrics } = require('../metrics') as typeof import('../metrics');
    const { startHttpEndpoint, ListenError } = require('../http-server') as typeof import('../http-server');
    const metrics = createMetrics(version, actionsOf(config));
    observer = metrics.observer;
    try {
      endpoint = await startHttpEndpoint(config.metricsAddr, {
        isReady: () => reloader?.ready ?? false,
        renderMetrics: () => metrics.render(),
        metricsContentType: metrics.contentType,
      });
    } catch (error) {
      if (!(error instanceof ListenError)) throw error;
      options.fail(error.message);
      return error.badValue ? EXIT_CONFIG : EXIT_FAILURE;
    }
  }

  // Of the command only the program: its arguments may hold a credential,
  // as the URL's user, password and query may (redactUrl).
  const signalAction = config.processName === undefined ? {} : {
    process_name: config.processName,
    signal: config.signal.name,
    signal_all: config.signalAll,
    handler_wait_ms: config.handlerWaitMs,
  };
  log.info('starting', {
    version,
    config_dirs: config.configDirs,
    actions: actionsOf(config),
    reload_command: config.reloadCommand?.[0],
    ...signalAction,
    reload_url: config.reloadUrl === undefined ? undefined : redactUrl(config.reloadUrl.url.href),
    reload_method: config.reloadUrl?.method,
    reload_timeout_ms: config.reloadTimeoutMs,
    reload_retries: config.reloadRetries,
    debounce_ms: config.debounceMs,
    settle_ms: config.settleMs,
    handler_check: config.handlerCheck,
    log_format: config.logFormat,
    log_level: config.logLevel,
    metrics_addr: endpoint?.address ?? 'off',
  });
  if (endpoint !== undefined) log.info('serving /healthz, /readyz and /metrics', { addr: endpoint.address });
  if (config.processName !== undefined) {
    const signalWarning = reloadSignalWarning(config.signal);
    if (signalWarning !== undefined) log.warn('reload signal stops most apps', { signal: config.signal.name, reason: signalWarning });
  }

  reloader = new Reloader({ config, log, observer, ...(options.fingerprintKey === undefined ? {} : { fingerprintKey: options.fingerprintKey }) });
  let code = 0;
  for (let delay = START_RETRY_FIRST_MS; !shutdown.signal.aborted; delay = Math.min(START_RETRY_MAX_MS, delay * 2)) {
    try {
      await reloader.start();
      break;
    } catch (error) {
      if (errorCode(error) === NATIVE_ADDON_MISSING) {
        // A broken installation, not a fault of the moment: waiting cannot mend it.
        log.error('cannot watch the configuration', { reason: errorMessage(error) });
        code = EXIT_FAILURE;
        break;
      }
      // Inotify has already put the limit and its fix into the message (inotify-errors.ts).
      log.error('cannot watch the configuration', { reason: errorMessage(error), retry_in_ms: delay });
    }
    await sleep(delay, undefined, { signal: shutdown.signal }).catch(() => undefined);
  }

  if (code === 0 && !shutdown.signal.aborted) await once(shutdown.signal, 'abort');
  if (shutdownSignal !== undefined) log.info('shutting down', { signal: shutdownSignal });
  await reloader.stop();
  await endpoint?.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (code === 0) log.info('stopped');
  return code;
}
