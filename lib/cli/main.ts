#!/usr/bin/env node
// The `config-reloader` command. Bad configuration is reported in one line
// with exit code 2 before anything starts; faults at run time are logged with
// their diagnosis, never as a stack trace.
import { ConfigError, isSystemError } from '../errors';
import { buildConfig, checkDirectories, type Config, parseInvocation } from '../sidecar/config';
import { createLogger, type Logger } from '../sidecar/log';
import { Reloader } from '../sidecar/reloader';
import { helpText } from './help';
import { packageVersion } from './version';

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: Config;
  let command;
  try {
    const invocation = parseInvocation(argv, env);
    command = invocation.command;
    if (command === 'help') {
      process.stdout.write(helpText(packageVersion()));
      return 0;
    }
    if (command === 'version') {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    config = buildConfig(invocation.values);
    checkDirectories(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`config-reloader: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const log = createLogger({ format: config.logFormat, level: config.logLevel });
  if (command === 'check') {
    const { runCheck } = await import('./check.js');
    return runCheck(config, process.stdout);
  }
  return run(config, log);
}

async function run(config: Config, log: Logger): Promise<number> {
  log.info('starting', {
    version: packageVersion(),
    config_dirs: config.configDirs,
    process_name: config.processName,
    signal: config.signal.name,
    debounce_ms: config.debounceMs,
    signal_all: config.signalAll,
    handler_wait_ms: config.handlerWaitMs,
    metrics_addr: config.metricsAddr === undefined ? 'off' : `${config.metricsAddr.host ?? ''}:${config.metricsAddr.port}`,
  });

  const reloader = new Reloader({ config, log });
  try {
    reloader.start();
  } catch (error) {
    log.error('cannot watch the configuration', { reason: describe(error) });
    await reloader.stop();
    return 1;
  }

  return new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      log.info('shutting down', { signal });
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      void reloader.stop().then(() => resolve(0));
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
}

function describe(error: unknown): string {
  if (isSystemError(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`config-reloader: unexpected failure: ${describe(error)}\n`);
    process.exitCode = 1;
  },
);
