// One line per event that matters, as text for people or JSON for log
// pipelines. Fields are structured in both, so a text line can be grepped
// for `pid=12` and a JSON line queried for `.pid`.
import type { LogFormat, LogLevel } from './config';

/** Structured values of one line, e.g. `{ dir: '/etc/app' }`. */
export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? stdoutWriter();
  const now = options.now ?? (() => new Date());
  const threshold = RANK[options.level];
  const emit = (level: LogLevel, message: string, fields: Fields = {}): void => {
    if (RANK[level] < threshold) return;
    const time = isoTime(now());
    write(options.format === 'json' ? jsonLine(time, level, message, fields) : textLine(time, level, message, fields));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/**
 * Writes to stdout, and stops writing once stdout is gone (EPIPE: the log
 * reader went away). Losing the log must not take the reloads down with it,
 * and an unhandled stream error would end the process with a stack trace.
 */
function stdoutWriter(): (line: string) => void {
  let broken = false;
  process.stdout.on('error', () => {
    broken = true;
  });
  return (line) => {
    if (!broken) process.stdout.write(line);
  };
}

/** A list for a log line: the first `limit` items, then a count of the rest, so a line stays readable after a burst. */
export function listedAtMost(items: readonly string[], limit: number): readonly string[] {
  return items.length <= limit ? items : [...items.slice(0, limit), `... and ${items.length - limit} more`];
}

/** A logger that calls `before` once, ahead of the first line logged through it at any level. */
export function precededBy(log: Logger, before: () => void): Logger {
  let pending = true;
  const level = (name: keyof Logger): Logger[keyof Logger] => (message, fields) => {
    if (pending) {
      pending = false;
      before();
    }
    log[name](message, fields);
  };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

/**
 * What `date.toISOString()` returns, for years 0 to 9999. Calling
 * toISOString (or toUTCString) once makes V8 page in ICU data from the node
 * binary that then stays resident, TZ=UTC or not: a large share of what the
 * idle sidecar would hold over a bare Node process. The UTC getters touch
 * none of it.
 */
export function isoTime(date: Date): string {
  const two = (value: number): string => String(value).padStart(2, '0');
  return (
    `${String(date.getUTCFullYear()).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}` +
    `T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}` +
    `.${String(date.getUTCMilliseconds()).padStart(3, '0')}Z`
  );
}

function jsonLine(time: string, level: LogLevel, message: string, fields: Fields): string {
  return `${JSON.stringify({ time, level, msg: message, ...fields }, jsonValue)}\n`;
}

function textLine(time: string, level: LogLevel, message: string, fields: Fields): string {
  const parts = [time, level.toUpperCase().padEnd(5), message];
  for (const [key, value] of Object.entries(fields)) {
    // An empty list says nothing a reader needs (added=[] removed=[]); JSON keeps it for queries.
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    parts.push(`${key}=${textValue(value)}`);
  }
  return `${parts.join(' ')}\n`;
}

/**
 * A string as a text line shows it: bare when it is plain (letters, digits
 * and `_./:@+,-`), else JSON-quoted, so that a process name holding spaces,
 * quotes, a newline or a terminal escape can neither break the line nor
 * pass for other text. `check` and the diagnoses show names the same way.
 */
export function shownText(value: string): string {
  return /^[\w./:@+,-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return shownText(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value, jsonValue) ?? String(value);
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A logger that drops everything, for library use and tests that do not look. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
