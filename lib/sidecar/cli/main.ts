#!/usr/bin/env node
// The `config-reloader` command. Bad configuration is reported in one line
// on stderr with exit code 2 before anything starts; faults at run time are
// logged with their diagnosis, never as a stack trace.
//
// Exit codes: 0 success (and a clean shutdown), 1 runtime failure (or
// `check` found a reload would not work), 2 invalid configuration.
import './apply-v8-flags';
import { buildConfig, checkDirectories, checkReloadFiles, type Config, parseInvocation } from '../config';
import { loadFingerprintKey } from '../fingerprint-key';
import { createLogger } from '../log';
import { ConfigError, errorMessage } from '../errors';
import { helpText } from './help';
import { packageVersion } from './version';

const EXIT_CONFIG = 2;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: Config;
  let fingerprintKey: Buffer;
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
    checkReloadFiles(config);
    fingerprintKey = loadFingerprintKey(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(error.message);
      return EXIT_CONFIG;
    }
    throw error;
  }

  // Each command loads only what it uses: `check` never touches inotify or
  // the native addon, `run` loads the metrics stack only when it is enabled.
  // require, not import(): in CommonJS, import() starts Node's ESM loader,
  // whose asynchronous file reads start the libuv threadpool's threads for
  // the life of the process, and hold memory until the first full GC.
  if (command === 'check') {
    const { runCheck } = require('./check') as typeof import('./check');
    return runCheck(config, process.stdout, fingerprintKey);
  }
  const { runSidecar } = require('./run') as typeof import('./run');
  const log = createLogger({ format: config.logFormat, level: config.logLevel });
  return runSidecar({ config, log, version: packageVersion(), fail, fingerprintKey });
}

function fail(line: string): void {
  process.stderr.write(`config-reloader: ${line}\n`);
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    fail(`unexpected failure: ${errorMessage(error)}`);
    process.exitCode = 1;
  },
);
