// The bench's bookkeeping: how signals are attributed to updates, and how
// /proc is read for the footprint. A mistake here would make the published
// numbers wrong without any run failing, so it is tested with tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkGoals } from '../bench/goals';
import { type LatencyResult, summarize } from '../bench/latency';
import { parseStatCpuTicks, parseStatus } from '../bench/proc-stats';
import { percentile } from '../bench/stats';

const ms = (value: number): bigint => BigInt(Math.round(value * 1e6));

test('attributes each signal to the latest update before it', () => {
  const updates = [ms(100), ms(200), ms(300)];
  const signals = [ms(101), ms(202), ms(303)];
  const result = summarize('r', updates, signals, 0);
  assert.equal(result.lost, 0);
  assert.equal(result.extra, 0);
  assert.equal(result.firstMs, 1);
  assert.equal(result.p50Ms, 2);
  assert.equal(result.maxMs, 3);
});

test('counts an update without a signal as lost and a second signal as extra', () => {
  const updates = [ms(100), ms(200), ms(300)];
  // Nothing for the update at 200; two for the one at 300; one before any update.
  const signals = [ms(50), ms(101), ms(301), ms(305)];
  const result = summarize('r', updates, signals, 0);
  assert.equal(result.lost, 1);
  assert.equal(result.extra, 2);
});

test('leaves warm-up updates out of the percentiles but not out of lost and extra', () => {
  const updates = [ms(100), ms(200), ms(300)];
  const signals = [ms(150), ms(150.5), ms(301)];
  const result = summarize('r', updates, signals, 1);
  assert.equal(result.firstMs, 50);
  assert.equal(result.maxMs, 1);
  assert.equal(result.extra, 1);
  assert.equal(result.lost, 1);
});

test('nearest-rank percentiles return observed values', () => {
  const sorted = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 100);
  assert.equal(percentile(sorted, 99), 198);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('reads CPU ticks from /proc/<pid>/stat even when the name holds spaces and parentheses', () => {
  const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '17', '4', '0', '0', '20', '0', '1'];
  assert.equal(parseStatCpuTicks(`1234 (a) (b c) ${fields.join(' ')}`), 21);
  assert.throws(() => parseStatCpuTicks('1234 (x) S 1'), /unexpected/);
});

test('reads VmRSS and Threads from /proc/<pid>/status', () => {
  const status = parseStatus('Name:\tnode\nVmRSS:\t   42316 kB\nThreads:\t7\nSigCgt:\t0000000000004a02\n');
  assert.equal(status.get('VmRSS'), 42316);
  assert.equal(status.get('Threads'), 7);
});

test('the latency goals hold every sidecar row to 5x the C floor of the same run', () => {
  const goals = checkGoals({
    latency: [
      latencyRow('C floor (inotify read + kill)', 0.1),
      latencyRow('config-reloader (this sidecar)', 0.45),
      latencyRow('config-reloader, in a Pod-sized PID namespace', 0.55),
    ],
    idle: [], startup: [], libraryBurst: undefined, sidecarBurst: undefined, throughput: [], footprint: undefined, soak: undefined, sidecarBuilt: true,
  });
  const p50 = goals.filter((goal) => goal.description.startsWith('latency p50'));
  assert.deepEqual(p50.map((goal) => [goal.description, goal.met]), [
    ['latency p50 within 5x of the C floor', true],
    ['latency p50 within 5x of the C floor (in a Pod-sized PID namespace)', false],
  ]);
});

test('the sidecar is ahead of a peer only when its median is no slower and it loses and adds no more signals', () => {
  const goals = checkGoals({
    latency: [
      latencyRow('C floor (inotify read + kill)', 0.1),
      latencyRow('config-reloader (this sidecar)', 0.3),
      latencyRow('Node fs.watch', 0.2),
      { ...latencyRow('Node chokidar', 1), extra: 1 },
    ],
    idle: [], startup: [], libraryBurst: undefined, sidecarBurst: undefined, throughput: [], footprint: undefined, soak: undefined, sidecarBuilt: true,
  });
  const ahead = goals.filter((goal) => goal.description.startsWith('ahead of'));
  assert.deepEqual(ahead.map((goal) => [goal.description, goal.met]), [
    ['ahead of Node fs.watch: p50 no slower, no more lost or extra signals', false],
    ['ahead of Node chokidar: p50 no slower, no more lost or extra signals', true],
  ]);
});

function latencyRow(name: string, p50Ms: number): LatencyResult {
  return { name, updates: 10, firstMs: 1, p50Ms, p90Ms: p50Ms, p99Ms: p50Ms, maxMs: p50Ms, lost: 0, extra: 0 };
}
