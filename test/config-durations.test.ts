// Durations as operators write them in DEBOUNCE and HANDLER_WAIT: what each
// reads as, and what is refused with a message saying what is accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseDuration } from '../lib/sidecar/config';
import { ConfigError } from '../lib/sidecar/errors';

const HANDLER_WAIT = 'HANDLER_WAIT (--handler-wait)';
const read = (value: string): number => parseDuration(HANDLER_WAIT, value, 0, 600_000);

test('reads durations with a unit, fractions included, and bare whole milliseconds', () => {
  const table: ReadonlyArray<readonly [string, number]> = [
    ['250ms', 250], ['2s', 2000], ['1.5s', 1500], ['1.1s', 1100], ['0.4s', 400], ['1m', 60_000], ['0.5m', 30_000],
    ['10m', 600_000], ['0', 0], ['0ms', 0], ['400', 400], [' 30s\n', 30_000], ['0.25s', 250], ['2.0ms', 2],
  ];
  for (const [value, ms] of table) assert.equal(read(value), ms, JSON.stringify(value));
});

test('refuses a bare fraction instead of rounding it to whole milliseconds (0.4 would have been no wait at all)', () => {
  assert.throws(() => read('0.4'), (error: unknown) =>
    error instanceof ConfigError &&
    error.message.startsWith(`${HANDLER_WAIT}: invalid value "0.4"; a number without a unit is milliseconds, and must be whole; give a unit (0.4s)`) &&
    error.message.includes('accepted: a duration from 0ms to 10m in whole milliseconds, like 250ms, 1.5s or 1m'));
});

test('refuses what does not come to whole milliseconds, what is out of range, and what is not a duration', () => {
  const table: ReadonlyArray<readonly [string, RegExp]> = [
    ['2.5ms', /not a whole number of milliseconds/],
    ['0.0001s', /not a whole number of milliseconds/],
    ['1.5', /must be whole; give a unit \(1\.5s\)/],
    ['11m', /from 0ms to 10m/],
    ['-1', /accepted/],
    ['1h', /accepted/],
    ['30 s', /accepted/],
    ['.5s', /accepted/],
    ['1e3', /accepted/],
    ['', /accepted/],
  ];
  for (const [value, message] of table) {
    assert.throws(() => read(value), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(value));
  }
});
