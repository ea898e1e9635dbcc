// One line per event, as text for people or JSON for log pipelines, with the
// same fields in both and the level threshold applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { LogFormat, LogLevel } from '../lib/sidecar/config';
import { createLogger, isoTime } from '../lib/sidecar/log';

const NOW = new Date('2026-01-02T03:04:05.678Z');

function capture(format: LogFormat, level: LogLevel = 'info'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ format, level, now: () => NOW, write: (line) => lines.push(line) }) };
}

test('text lines carry the time, the level, the message and key=value fields, quoting only when needed', () => {
  const { lines, log } = capture('text');
  log.info('reload sent', { pid: 12, signal: 'SIGHUP', latency_ms: 1.5, reason: 'two words', path: '/etc/app/a.conf' });
  assert.deepEqual(lines, ['2026-01-02T03:04:05.678Z INFO  reload sent pid=12 signal=SIGHUP latency_ms=1.5 reason="two words" path=/etc/app/a.conf\n']);
});

test('text lines leave out undefined fields and empty lists; JSON keeps the lists', () => {
  const text = capture('text');
  text.log.info('change detected', { added: [], removed: [], modified: ['/etc/app/a.conf'], latency_ms: undefined });
  assert.deepEqual(text.lines, ['2026-01-02T03:04:05.678Z INFO  change detected modified=["/etc/app/a.conf"]\n']);
  const json = capture('json');
  json.log.info('change detected', { added: [], modified: ['/etc/app/a.conf'] });
  assert.deepEqual(JSON.parse(json.lines[0] ?? ''), { time: NOW.toISOString(), level: 'info', msg: 'change detected', added: [], modified: ['/etc/app/a.conf'] });
});

test('JSON lines are one object per line, with bigints as strings', () => {
  const { lines, log } = capture('json');
  log.warn('target not found', { reason: 'no process named "x"\nsecond line', start: 123n });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]?.endsWith('}\n') && !lines[0].slice(0, -1).includes('\n'));
  assert.deepEqual(JSON.parse(lines[0] ?? ''), { time: NOW.toISOString(), level: 'warn', msg: 'target not found', reason: 'no process named "x"\nsecond line', start: '123' });
});

test('messages below LOG_LEVEL are dropped', () => {
  const { lines, log } = capture('text', 'warn');
  log.debug('trigger');
  log.info('ready');
  log.warn('target not found');
  log.error('reload not sent');
  assert.deepEqual(lines.map((line) => line.slice(NOW.toISOString().length + 1).trim()), ['WARN  target not found', 'ERROR reload not sent']);
});

test('log times are exactly what toISOString gives, across month, year and leap-day edges', () => {
  const dates = [
    '1970-01-01T00:00:00.000Z',
    '0001-02-03T04:05:06.007Z',
    '1999-12-31T23:59:59.999Z',
    '2000-02-29T12:00:00.500Z',
    '2024-02-29T23:59:59.990Z',
    '2026-01-02T03:04:05.678Z',
    '2100-03-01T00:00:00.001Z',
    '9999-12-31T23:59:59.999Z',
  ].map((text) => new Date(text));
  for (let ms = 0; ms < 4e12; ms += 86_399_937) dates.push(new Date(ms));
  for (const date of dates) assert.equal(isoTime(date), date.toISOString());
});
