// Turns environment variables and command-line flags into a validated Config.
// Flags win over environment variables. Parsing is pure; checking that the
// directories exist is the one piece of I/O, kept in its own function.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { ConfigError, errorCode, errorMessage, isSystemError } from '../errors';
import { InvalidSignalError, parseSignal, type Signal } from '../signals';
import {
  type ListenAddress, parseBoolean, parseChoice, parseDuration, parseList, parseListenAddress,
} from './config-values';
import { SETTINGS, type SettingKey, type SettingSpec } from './settings';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  readonly configDirs: readonly string[];
  readonly processName: string;
  readonly signal: Signal;
  readonly debounceMs: number;
  readonly signalAll: boolean;
  readonly handlerWaitMs: number;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  readonly metricsAddr: ListenAddress | undefined;
}

export type Command = 'run' | 'check' | 'help' | 'version';

export interface Invocation {
  readonly command: Command;
  /** Raw values by setting, after flags have overridden the environment. */
  readonly values: ReadonlyMap<SettingKey, readonly string[]>;
}

/** Parses argv (without node and script). Unknown flags and stray arguments are ConfigErrors. */
export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of SETTINGS) options[spec.flag] = { type: spec.type, multiple: spec.multiple ?? false };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw flagError(error);
  }

  const values = new Map<SettingKey, string[]>();
  for (const spec of SETTINGS) {
    const flagValue = parsed.values[spec.flag];
    if (flagValue !== undefined) {
      const list = Array.isArray(flagValue) ? flagValue : [flagValue];
      values.set(spec.key, list.map(String));
    } else if (env[spec.env] !== undefined) {
      values.set(spec.key, [env[spec.env] ?? '']);
    }
  }

  const [first, ...rest] = parsed.positionals;
  if (rest.length > 0 || (first !== undefined && first !== 'run' && first !== 'check')) {
    throw new ConfigError('command', parsed.positionals.join(' '), 'accepted: run (the default) or check; see --help');
  }
  const command: Command =
    parsed.values['help'] === true ? 'help' : parsed.values['version'] === true ? 'version' : (first ?? 'run');
  return { command, values };
}

/** Validates every value; the first bad one throws a ConfigError. */
export function buildConfig(values: ReadonlyMap<SettingKey, readonly string[]>): Config {
  const single = (key: SettingKey): string | undefined => values.get(key)?.at(-1) ?? specOf(key).defaultValue;
  // The defaults live in SETTINGS alone, where --help reads them too.
  const withDefault = (key: SettingKey): string => {
    const value = single(key);
    if (value === undefined) throw new Error(`settings.ts: ${key} needs a defaultValue, or buildConfig must handle it being unset`);
    return value;
  };

  const dirs = values.get('configDirs');
  if (dirs === undefined) {
    throw new ConfigError(settingName('configDirs'), undefined, 'accepted: one or more directories, comma-separated, e.g. /etc/nginx/conf.d');
  }
  const configDirs = parseList(settingName('configDirs'), dirs, 'directory paths').map((dir) => resolve(dir));

  const processName = (single('processName') ?? '').trim();
  if (processName === '') {
    throw new ConfigError(settingName('processName'), single('processName'), 'accepted: a process name such as nginx or postgres');
  }
  if (processName.includes('/')) {
    throw new ConfigError(settingName('processName'), processName, 'accepted: a bare process name without slashes (matched against comm, the executable and argv[0] basenames)');
  }

  const signal = parseReloadSignal(settingName('signal'), withDefault('signal'));

  const metricsText = single('metricsAddr');
  return {
    configDirs: [...new Set(configDirs)],
    processName,
    signal,
    debounceMs: parseDuration(settingName('debounce'), withDefault('debounce'), 0, 60_000),
    signalAll: parseBoolean(settingName('signalAll'), withDefault('signalAll')),
    handlerWaitMs: parseDuration(settingName('handlerWait'), withDefault('handlerWait'), 0, 600_000),
    logFormat: parseChoice(settingName('logFormat'), withDefault('logFormat'), ['text', 'json'] as const),
    logLevel: parseChoice(settingName('logLevel'), withDefault('logLevel'), ['debug', 'info', 'warn', 'error'] as const),
    metricsAddr: metricsText === undefined || metricsText.trim() === '' ? undefined : parseListenAddress(settingName('metricsAddr'), metricsText),
  };
}

function specOf(key: SettingKey): SettingSpec {
  const spec = SETTINGS.find((candidate) => candidate.key === key);
  if (spec === undefined) throw new Error(`settings.ts: SETTINGS has no entry for ${key}`);
  return spec;
}

/** How messages name a setting: its variable and its flag, e.g. "CONFIG_DIR (--config-dir)". */
function settingName(key: SettingKey): string {
  const spec = specOf(key);
  return `${spec.env} (--${spec.flag})`;
}

/** Every configured directory must exist and be a directory at start-up. */
export function checkDirectories(config: Config): void {
  const setting = settingName('configDirs');
  for (const dir of config.configDirs) {
    try {
      if (!statSync(dir).isDirectory()) {
        throw new ConfigError(setting, dir, 'accepted: existing directories; this path is not a directory');
      }
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const reason = isSystemError(error) ? error.code : String(error);
      throw new ConfigError(setting, dir, `accepted: existing directories; this one cannot be used (${reason === 'ENOENT' ? 'it does not exist' : reason})`);
    }
  }
}

/** A signal the app can catch: SIGKILL and SIGSTOP would kill or freeze it instead of reloading it. */
function parseReloadSignal(setting: string, text: string): Signal {
  let signal: Signal;
  try {
    signal = parseSignal(text);
  } catch (error) {
    if (!(error instanceof InvalidSignalError)) throw error;
    // InvalidSignalError says why ("no such signal", "reserved by glibc") and what is accepted.
    const accepted = error.message.slice(error.message.lastIndexOf('accepted:'));
    throw new ConfigError(setting, text, `${error.reason}; ${accepted}`);
  }
  if (signal.name === 'SIGKILL' || signal.name === 'SIGSTOP') {
    throw new ConfigError(setting, text, `${signal.name} cannot be caught, so the app could never reload on it; accepted: a signal the app handles, like SIGHUP or SIGUSR1`);
  }
  return signal;
}

/** Turns a node:util parseArgs error into one line naming the flag and what is accepted. */
function flagError(error: unknown): ConfigError {
  const message = errorMessage(error);
  const code = errorCode(error);
  const flag = /'(-[^', ]+)/.exec(message)?.[1] ?? message.split('\n')[0] ?? '';
  const flags = `accepted flags: ${['help', 'version', ...SETTINGS.map((spec) => spec.flag)].map((name) => `--${name}`).join(', ')}`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new ConfigError('command line', flag, `unknown flag; ${flags}`);
  if (message.includes('argument missing')) {
    return new ConfigError('command line', flag, `no value follows it; accepted: ${flag} VALUE or ${flag}=VALUE`);
  }
  if (message.includes('is ambiguous')) {
    return new ConfigError('command line', flag, `another flag follows it instead of a value; accepted: ${flag} VALUE, or ${flag}=-VALUE for a value starting with a dash`);
  }
  if (message.includes('does not take an argument')) {
    const long = /--[\w-]+/.exec(flag)?.[0] ?? flag;
    return new ConfigError('command line', flag, `${long} is a switch and takes no value; accepted: ${long} alone (its environment variable accepts true or false)`);
  }
  return new ConfigError('command line', flag, `${message.split('\n')[0] ?? message}; see --help`);
}
