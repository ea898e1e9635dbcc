// The sidecar's configuration, in one place: every setting (its environment
// variable, flag, default and meaning; --help and the README are made from
// this table), the pure parsers of their values, and the validated Config
// built from the environment and the command line. Flags win over
// environment variables. Every bad value is a ConfigError naming the
// setting, the value and what is accepted; checking that the directories
// exist and that the reload files can be used is the I/O, kept in their own
// functions.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { errorCode, InvalidSignalError, isSystemError, parseSignal, type Signal } from '..';
import { readCaFile } from './ca-file';
import { ConfigError, errorMessage } from './errors';
import { HeadersFileError, readHeaders } from './headers-file';

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
  | 'configDirs' | 'processName' | 'signal' | 'debounce' | 'settle' | 'signalAll' | 'handlerWait'
  | 'reloadCommand' | 'reloadUrl' | 'reloadMethod' | 'reloadHeadersFile' | 'reloadCaFile' | 'reloadInsecureSkipVerify'
  | 'reloadTimeout' | 'reloadRetries'
  | 'logFormat' | 'logLevel' | 'metricsAddr' | 'fingerprintKeyFile' | 'handlerCheck';

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'configDirs', env: 'CONFIG_DIR', flag: 'config-dir', type: 'string', multiple: true, valueName: 'DIR[,DIR...]',
    defaultValue: undefined,
    meaning: 'Directories to watch. Comma-separated; the flag may be repeated. Kubelet volumes (ConfigMap, Secret, projected) and plain directories alike.',
  },
  {
    key: 'processName', env: 'PROCESS_NAME', flag: 'process-name', type: 'string', valueName: 'NAME',
    defaultValue: undefined,
    meaning: 'The signal action: name of the process to signal, matched against its comm, the basename of its executable, or the basename of argv[0]. Long names work. Needs shareProcessNamespace. Required unless RELOAD_COMMAND or RELOAD_URL is set.',
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
    key: 'settle', env: 'SETTLE', flag: 'settle', type: 'string', defaultValue: '500ms', valueName: 'DURATION',
    meaning: "With several directories: how long a kubelet volume's update waits for the other volumes' updates of the same Pod sync, so that one reload sees them all (0 to 10s; 0 turns it off). The wait ends as soon as every volume has been updated. With one directory nothing waits.",
  },
  {
    key: 'signalAll', env: 'SIGNAL_ALL', flag: 'signal-all', type: 'boolean', defaultValue: 'false',
    meaning: 'Signal every matching process, workers included, instead of only the topmost (a match whose parent does not match). The variable takes true or false (also 1/0, yes/no, on/off); the flag alone turns it on.',
  },
  {
    key: 'handlerWait', env: 'HANDLER_WAIT', flag: 'handler-wait', type: 'string', defaultValue: '30s', valueName: 'DURATION',
    meaning: "How long to wait for a target that cannot take the signal safely yet (no handler, and the signal neither blocked nor awaited: its default action would kill it) before giving up on that reload (0 to 10m).",
  },
  {
    key: 'handlerCheck', env: 'HANDLER_CHECK', flag: 'handler-check', type: 'string', defaultValue: 'true', valueName: 'BOOL',
    meaning: "Signal a target only once /proc shows it takes the signal without dying: a handler, or the signal blocked and read with sigwait (tini) or a signalfd. false sends at once even when that cannot be seen (another uid without CAP_SYS_PTRACE cannot see a sigwait); a target that ignores the signal still fails.",
  },
  {
    key: 'reloadCommand', env: 'RELOAD_COMMAND', flag: 'reload-command', type: 'string', defaultValue: undefined, valueName: 'COMMAND',
    meaning: 'The command action: a program and its arguments, run without a shell, as a JSON array of strings (["nginx","-s","reload"]) or as words separated by spaces (nginx -s reload; no quotes or shell operators: for a shell, write ["sh","-c","..."]). A bare name is looked up on PATH. Exit status 0 is success. It gets CONFIG_RELOADER_CHANGED_FILES (the changed files, one absolute path a line) and CONFIG_RELOADER_FINGERPRINT in its environment; the last 20 lines of its output are logged.',
  },
  {
    key: 'reloadUrl', env: 'RELOAD_URL', flag: 'reload-url', type: 'string', defaultValue: undefined, valueName: 'URL',
    meaning: 'The URL action: an http:// or https:// endpoint to call, like http://127.0.0.1:9090/-/reload. A 2xx answer is success. User and password in the URL are sent as basic auth and never logged.',
  },
  {
    key: 'reloadMethod', env: 'RELOAD_METHOD', flag: 'reload-method', type: 'string', defaultValue: 'POST', valueName: 'METHOD',
    meaning: 'HTTP method of the URL action: POST, PUT, PATCH, GET or DELETE.',
  },
  {
    key: 'reloadHeadersFile', env: 'RELOAD_HEADERS_FILE', flag: 'reload-headers-file', type: 'string', defaultValue: undefined, valueName: 'FILE',
    meaning: 'Request headers for the URL action, one "Name: value" a line (blank lines and lines starting with # are skipped), read again for every request so that a rotated token is used. Mount it from a Secret: values are never logged.',
  },
  {
    key: 'reloadCaFile', env: 'RELOAD_CA_FILE', flag: 'reload-ca-file', type: 'string', defaultValue: undefined, valueName: 'FILE',
    meaning: "PEM file of the CA certificates that an https:// RELOAD_URL's certificate must chain to, instead of the system's.",
  },
  {
    key: 'reloadInsecureSkipVerify', env: 'RELOAD_INSECURE_SKIP_VERIFY', flag: 'reload-insecure-skip-verify', type: 'boolean', defaultValue: 'false',
    meaning: "Accept any certificate from an https:// RELOAD_URL, unverified. Only for tests: anyone on the path can pose as the app. The variable takes true or false; the flag alone turns it on.",
  },
  {
    key: 'reloadTimeout', env: 'RELOAD_TIMEOUT', flag: 'reload-timeout', type: 'string', defaultValue: '10s', valueName: 'DURATION',
    meaning: 'How long the command may run, and how long the URL has to answer, before the attempt fails (100ms to 10m). A command that overruns is killed with its whole process group.',
  },
  {
    key: 'reloadRetries', env: 'RELOAD_RETRIES', flag: 'reload-retries', type: 'string', defaultValue: '10', valueName: 'COUNT',
    meaning: 'How many times a failed reload is tried again (0 to 100), after 1s, 2s, 4s and so on, doubling up to 30s between attempts. A retry starts at the action that failed; a newer change cancels it and is reloaded instead.',
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

const DURATION = /^(\d{1,9})(?:\.(\d{1,6}))?(ms|s|m)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/**
 * "250ms", "2s", "1.5s", "1m", or a bare whole number of milliseconds. A
 * fraction needs a unit, and the duration must come to whole milliseconds:
 * rounding instead would read HANDLER_WAIT=0.4 as 0 ms, no wait at all, when
 * 0.4s was surely meant.
 */
export function parseDuration(setting: string, value: string, min: number, max: number): number {
  const accepted = `accepted: a duration from ${formatDuration(min)} to ${formatDuration(max)} in whole milliseconds, like 250ms, 1.5s or 1m; a bare number is whole milliseconds`;
  const match = DURATION.exec(value.trim());
  if (match === null) throw new ConfigError(setting, value, accepted);
  const [, whole = '', fraction = '', unit] = match;
  if (unit === undefined && fraction !== '') {
    throw new ConfigError(setting, value, `a number without a unit is milliseconds, and must be whole; give a unit (${whole}.${fraction}s) or whole milliseconds; ${accepted}`);
  }
  // In integers, so that 1.1s is exactly 1100 ms (1.1 * 1000 is not, in floating point).
  const scaled = Number(`${whole}${fraction}`) * UNIT_MS[unit === undefined ? 'ms' : (unit as keyof typeof UNIT_MS)];
  const divisor = 10 ** fraction.length;
  if (scaled % divisor !== 0) throw new ConfigError(setting, value, `that is not a whole number of milliseconds; ${accepted}`);
  const ms = scaled / divisor;
  if (ms < min || ms > max) throw new ConfigError(setting, value, accepted);
  return ms;
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

/** A whole number from `min` to `max`. */
export function parseCount(setting: string, value: string, min: number, max: number): number {
  const trimmed = value.trim();
  const count = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || count < min || count > max) {
    throw new ConfigError(setting, value, `accepted: a whole number from ${min} to ${max}`);
  }
  return count;
}

/** Characters that do something only in a shell: refused in the words form, where no shell runs. */
const SHELL_SYNTAX = /["'`$|&;<>(){}\\*?~]/;

/**
 * RELOAD_COMMAND: a JSON array of strings when the value starts with `[`,
 * else words separated by white space. No shell runs either way; a value
 * that relies on one (quotes, pipes, variables) is refused with the JSON
 * form to use instead.
 */
export function parseCommand(setting: string, value: string): readonly string[] {
  const trimmed = value.trim();
  const accepted = 'accepted: a JSON array of strings like ["nginx","-s","reload"], or words separated by spaces like nginx -s reload';
  let argv: string[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(setting, value, `not valid JSON; ${accepted}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
      throw new ConfigError(setting, value, `the JSON must be an array of strings; ${accepted}`);
    }
    argv = parsed;
  } else {
    argv = trimmed === '' ? [] : trimmed.split(/\s+/);
    if (argv.some((word) => SHELL_SYNTAX.test(word))) {
      throw new ConfigError(setting, value, `no shell runs the command, so quotes, pipes, variables and redirections would be passed on as they are; ${accepted}; for a shell, write ["sh","-c","..."]`);
    }
  }
  const [program] = argv;
  if (program === undefined || program.trim() === '') throw new ConfigError(setting, value, `the program is missing; ${accepted}`);
  return argv;
}

export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export function parseMethod(setting: string, value: string): HttpMethod {
  const normalized = value.trim().toUpperCase();
  const found = HTTP_METHODS.find((method) => method === normalized);
  if (found === undefined) throw new ConfigError(setting, value, `accepted: ${HTTP_METHODS.join(', ')}`);
  return found;
}

/**
 * The URL with its user and password replaced, and the values of its query
 * replaced: either may carry a credential, and a URL is logged. Also for a
 * value that does not parse, which goes into an error message.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return redactText(text);
  }
  // Other schemes may not parse an authority at all (htp:/user:pw@host).
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return redactText(text);
  if (url.username !== '') url.username = '***';
  if (url.password !== '') url.password = '***';
  for (const key of new Set(url.searchParams.keys())) url.searchParams.set(key, '***');
  return url.href;
}

/** redactUrl for text that is not an http(s) URL: whatever precedes an @ after the scheme, and query values. */
function redactText(text: string): string {
  return text.replace(/^([^:/?#]*:\/*)[^/?#]*@/, '$1***@').replace(/([?&][^=&#]*=)[^&#]*/g, '$1***');
}

/** An http:// or https:// URL with a host. */
export function parseUrl(setting: string, value: string): URL {
  const accepted = 'accepted: an http:// or https:// URL, like http://127.0.0.1:9090/-/reload';
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(setting, redactUrl(value), accepted);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ConfigError(setting, redactUrl(value), accepted);
  }
  return url;
}

// --- The Config ---

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The reload actions, in the order they run for each change:
 * - command first, because it is what prepares or checks what the app will
 *   load (renders a template, runs `nginx -t`): when it fails, the app is
 *   not told to load something the command refused or did not finish;
 * - signal next, because it reaches the app in this Pod at once;
 * - url last, because it may reach beyond the Pod (a webhook), and should
 *   then report a reload that has already happened.
 */
export const ACTION_ORDER = ['command', 'signal', 'url'] as const;
export type ActionName = (typeof ACTION_ORDER)[number];

export interface UrlAction {
  readonly url: URL;
  readonly method: HttpMethod;
  readonly headersFile: string | undefined;
  readonly caFile: string | undefined;
  readonly insecureSkipVerify: boolean;
}

export interface Config {
  readonly configDirs: readonly string[];
  /** The signal action, when set. */
  readonly processName: string | undefined;
  readonly signal: Signal;
  readonly debounceMs: number;
  readonly settleMs: number;
  readonly signalAll: boolean;
  readonly handlerWaitMs: number;
  /** The command action's argv, when set. */
  /** Wait until /proc shows the target takes the signal safely (see HANDLER_CHECK); false sends at once. */
  readonly handlerCheck: boolean;
  readonly reloadCommand: readonly string[] | undefined;
  /** The URL action, when set. */
  readonly reloadUrl: UrlAction | undefined;
  readonly reloadTimeoutMs: number;
  readonly reloadRetries: number;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  readonly metricsAddr: ListenAddress | undefined;
  /** FINGERPRINT_KEY_FILE; undefined: a random key per process. */
  readonly fingerprintKeyFile?: string | undefined;
}

/** The configured actions, in {@link ACTION_ORDER}. */
export function actionsOf(config: Pick<Config, 'processName' | 'reloadCommand' | 'reloadUrl'>): readonly ActionName[] {
  const configured: Readonly<Record<ActionName, boolean>> = {
    command: config.reloadCommand !== undefined,
    signal: config.processName !== undefined,
    url: config.reloadUrl !== undefined,
  };
  return ACTION_ORDER.filter((action) => configured[action]);
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

  const commandText = single('reloadCommand');
  const reloadCommand = commandText === undefined ? undefined : parseCommand(settingName('reloadCommand'), commandText);
  const urlText = single('reloadUrl');
  const reloadUrl = urlText === undefined ? undefined : {
    url: parseUrl(settingName('reloadUrl'), urlText),
    method: parseMethod(settingName('reloadMethod'), withDefault('reloadMethod')),
    headersFile: optionalPath(single('reloadHeadersFile')),
    caFile: optionalPath(single('reloadCaFile')),
    insecureSkipVerify: parseBoolean(settingName('reloadInsecureSkipVerify'), withDefault('reloadInsecureSkipVerify')),
  };

  const processText = single('processName');
  if (processText === undefined && reloadCommand === undefined && reloadUrl === undefined) {
    throw new ConfigError(
      settingName('processName'), undefined,
      `accepted: at least one reload action: ${settingName('processName')} (a process to signal), ` +
        `${settingName('reloadCommand')} (a command to run) or ${settingName('reloadUrl')} (an endpoint to call)`,
    );
  }
  const processName = processText?.trim();
  if (processName === '') {
    throw new ConfigError(settingName('processName'), processText, 'accepted: a process name such as nginx or postgres');
  }
  if (processName?.includes('/') === true) {
    throw new ConfigError(settingName('processName'), processName, 'accepted: a bare process name without slashes (matched against comm, the executable and argv[0] basenames)');
  }

  const signal = parseReloadSignal(settingName('signal'), withDefault('signal'));

  const metricsText = single('metricsAddr');
  return {
    configDirs: [...new Set(configDirs)],
    processName,
    signal,
    debounceMs: parseDuration(settingName('debounce'), withDefault('debounce'), 0, 60_000),
    settleMs: parseDuration(settingName('settle'), withDefault('settle'), 0, 10_000),
    signalAll: parseBoolean(settingName('signalAll'), withDefault('signalAll')),
    handlerWaitMs: parseDuration(settingName('handlerWait'), withDefault('handlerWait'), 0, 600_000),
    handlerCheck: parseBoolean(settingName('handlerCheck'), withDefault('handlerCheck')),
    reloadCommand,
    reloadUrl,
    reloadTimeoutMs: parseDuration(settingName('reloadTimeout'), withDefault('reloadTimeout'), 100, 600_000),
    reloadRetries: parseCount(settingName('reloadRetries'), withDefault('reloadRetries'), 0, 100),
    logFormat: parseChoice(settingName('logFormat'), withDefault('logFormat'), ['text', 'json'] as const),
    logLevel: parseChoice(settingName('logLevel'), withDefault('logLevel'), ['debug', 'info', 'warn', 'error'] as const),
    metricsAddr: metricsText === undefined || metricsText.trim() === '' ? undefined : parseListenAddress(settingName('metricsAddr'), metricsText),
    fingerprintKeyFile: optionalPath(single('fingerprintKeyFile')),
  };
}

/** A file setting: unset or blank is none, as for METRICS_ADDR. */
function optionalPath(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : resolve(value.trim());
}

function specOf(key: SettingKey): SettingSpec {
  const spec = SETTINGS.find((candidate) => candidate.key === key);
  if (spec === undefined) throw new Error(`settings.ts: SETTINGS has no entry for ${key}`);
  return spec;
}

/** How messages name a setting: its variable and its flag, e.g. "CONFIG_DIR (--config-dir)". */
export function settingName(key: SettingKey): string {
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

/**
 * The URL action's files must be usable at start-up: a headers file that
 * parses, a CA file with certificates. Both are read again for every
 * request (a Secret may rotate them); this only catches a mistake early.
 */
export function checkReloadFiles(config: Config): void {
  const action = config.reloadUrl;
  if (action === undefined) return;
  if (action.headersFile !== undefined) {
    try {
      readHeaders(action.headersFile);
    } catch (error) {
      if (!(error instanceof HeadersFileError)) throw error;
      throw new ConfigError(settingName('reloadHeadersFile'), action.headersFile, `${error.line === undefined ? '' : `line ${error.line}: `}${error.why}; accepted: a readable file of Name: value lines`);
    }
  }
  if (action.caFile !== undefined) {
    try {
      readCaFile(action.caFile);
    } catch (error) {
      throw new ConfigError(settingName('reloadCaFile'), action.caFile, `${errorMessage(error).slice(action.caFile.length + 2)}; accepted: a readable PEM file of CA certificates`);
    }
  }
}
