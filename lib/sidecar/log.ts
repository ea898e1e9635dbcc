// One line per event that matters, as text for people or JSON for log
// pipelines. Fields are structured in both, so a text line can be grepped
// for `pid=12` and a JSON line queried for `.pid`.
import type { LogFormat, LogLevel } from './config';

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
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const threshold = RANK[options.level];
  const emit = (level: LogLevel, message: string, fields: Fields = {}): void => {
    if (RANK[level] < threshold) return;
    const time = now().toISOString();
    write(options.format === 'json' ? jsonLine(time, level, message, fields) : textLine(time, level, message, fields));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
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

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+,-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value, jsonValue) ?? String(value);
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A logger that drops everything, for library use and tests that do not look. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
