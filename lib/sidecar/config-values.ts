// Pure parsers for setting values. Each returns the parsed value or throws a
// ConfigError naming the setting, the value and what is accepted.
import { ConfigError } from '../errors';

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
