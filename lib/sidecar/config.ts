// The sidecar's configuration, in one place: every setting (its environment
// variable, flag, default and meaning; --help and the README are made from
// this table), the pure parsers of their values, and the validated Config
// built from the environment and the command line. Flags win over
// environment variables. Every bad value is a ConfigError naming the
// setting, the value and what is accepted; checking that the directories
// exist is the one piece of I/O, kept in its own function.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { errorCode, InvalidSignalError, isSystemError, parseSignal, type Signal } from '..';
import { ConfigError, errorMessage } from './errors';

// --- The settings ---

export interface SettingSpec {
  readonly key: SettingKey;
  readonly env: string;
  readonly flag: string;
  readonly type: 'string' | 'boolean';
  /** What the flag's value looks like in --help, e.g. DURATION. */
  readonly valueName?: string;
  /** Flags that may be given more than once (values are concatenated). */
  readonly multiple?: boolean;
  readonly defaultValue: string | undefined;
  readonly meaning: string;
}

export type SettingKey =
  | 'configDirs' | 'processName' | 'signal' | 'debounce' | 'signalAll'
  | 'handlerWait' | 'logFormat' | 'logLevel' | 'metricsAddr'
  | 'fingerprintKeyFile';

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'configDirs', env: 'CONFIG_DIR', flag: 'config-dir', type: 'string', multiple: true, valueName: 'DIR[,DIR...]',
    defaultValue: undefined,
    meaning: 'Directories to watch. Comma-separated; the flag may be repeated. Kubelet volumes (ConfigMap, Secret, projected) and plain directories alike.',
  },
  {
    key: 'processName', env: 'PROCESS_NAME', flag: 'process-name', type: 'string', valueName: 'NAME',
    defaultValue: undefined,
    meaning: 'Name of the process to signal: its comm, the basename of its executable, or the basename of argv[0]. Long names work.',
  },
  {
    key: 'signal', env: 'RELOAD_SIGNAL', flag: 'signal', type: 'string', defaultValue: 'SIGHUP', valueName: 'SIGNAL',
    meaning: 'Signal to send: a name (SIGHUP, HUP, usr1), a number, or SIGRTMIN+N; one the app can catch (not SIGKILL or SIGSTOP).',
  },
  {
    key: 'debounce', env: 'DEBOUNCE', flag: 'debounce', type: 'string', defaultValue: '250ms', valueName: 'DURATION',
    meaning: 'Quiet time after the last event in a plain directory before reloading (0 to 60s). Kubelet volumes reload at once, without it.',
  },
  {
    key: 'signalAll', env: 'SIGNAL_ALL', flag: 'signal-all', type: 'boolean', defaultValue: 'false',
    meaning: 'Signal every matching process, workers included, instead of only the topmost (a match whose parent does not match). The variable takes true or false (also 1/0, yes/no, on/off); the flag alone turns it on.',
  },
  {
    key: 'handlerWait', env: 'HANDLER_WAIT', flag: 'handler-wait', type: 'string', defaultValue: '30s', valueName: 'DURATION',
    meaning: "How long to wait for a target that has not installed its handler yet (the signal's default action would kill it) before giving up on that reload (0 to 10m).",
  },
  {
    key: 'logFormat', env: 'LOG_FORMAT', flag: 'log-format', type: 'string', defaultValue: 'text', valueName: 'FORMAT',
    meaning: 'Log format: text or json. `check` prints its report in the same format.',
  },
  {
    key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', type: 'string', defaultValue: 'info', valueName: 'LEVEL',
    meaning: 'Least severe level logged: debug, info, warn or error.',
  },
  {
    key: 'metricsAddr', env: 'METRICS_ADDR', flag: 'metrics-addr', type: 'string', defaultValue: undefined, valueName: '[HOST]:PORT',
    meaning: 'Listen address of the HTTP endpoint (/healthz, /readyz, /metrics), like :9533 or 127.0.0.1:9533. Off when unset or empty.',
  },
  {
    key: 'fingerprintKeyFile', env: 'FINGERPRINT_KEY_FILE', flag: 'fingerprint-key-file', type: 'string', defaultValue: undefined, valueName: 'PATH',
    meaning: 'File holding the key of the configuration fingerprints shown in logs, /metrics and `check` (HMAC-SHA256). Unset: a random key per process, so the values cannot be compared across processes. Set it (e.g. from a Secret) to compare them across replicas and with `check`.',
  },
];

// --- Parsing values ---

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** "250ms", "2s", "1.5s", "1m", or a bare number of milliseconds. */
export function parseDuration(setting: string, value: string, min: number, max: number): number {
  const match = DURATION.exec(value.trim());
  const accepted = `accepted: a duration from ${formatDuration(min)} to ${formatDuration(max)}, like 250ms, 2s or 1m (a bare number is milliseconds)`;
  if (match === null) throw new ConfigError(setting, value, accepted);
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms < min || ms > max || !Number.isInteger(Math.round(ms))) {
    throw new ConfigError(setting, value, accepted);
  }
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

export function parseBoolean(setting: string, value: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (TRUE.has(normalized)) return true;
  if (FALSE.has(normalized)) return false;
  throw new ConfigError(setting, value, 'accepted: true or false (also 1/0, yes/no, on/off)');
}

export function parseChoice<T extends string>(setting: string, value: string, choices: readonly T[]): T {
  const normalized = value.trim().toLowerCase();
  const found = choices.find((choice) => choice === normalized);
  if (found === undefined) throw new ConfigError(setting, value, `accepted: ${choices.join(', ')}`);
  return found;
}

/** Splits comma-separated lists, dropping blanks around commas; an all-blank list is an error. */
export function parseList(setting: string, values: readonly string[], what: string): string[] {
  const items = values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) {
    throw new ConfigError(setting, values.join(','), `accepted: one or more ${what}, comma-separated`);
  }
  return items;
}

export interface ListenAddress {
  /** undefined listens on every address, as Node does for an omitted host. */
  readonly host: string | undefined;
  readonly port: number;
}

/** ":9533", "0.0.0.0:9533", "127.0.0.1:9533", "[::1]:9533", "localhost:9533". */
export function parseListenAddress(setting: string, value: string): ListenAddress {
  const accepted = 'accepted: [HOST]:PORT with PORT 1-65535, like :9533, 127.0.0.1:9533 or [::]:9533';
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(value.trim());
  if (match === null) throw new ConfigError(setting, value, accepted);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new ConfigError(setting, value, accepted);
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

// --- The Config ---

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
  /** FINGERPRINT_KEY_FILE; undefined: a random key per process. */
  readonly fingerprintKeyFile?: string | undefined;
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
    fingerprintKeyFile: emptyToUndefined(single('fingerprintKeyFile')),
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : resolve(value.trim());
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
