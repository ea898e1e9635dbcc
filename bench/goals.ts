// The goals from the benchmark issue, checked against one run's results.
import type { Results } from './results';
import { formatNumber } from './table';

export interface Goal {
  readonly description: string;
  /** undefined when the run did not measure it (section skipped, sidecar not built). */
  readonly met: boolean | undefined;
  readonly observed: string;
}

const SIDECAR = 'config-reloader (this sidecar)';
/** The update-to-signal median may be this many times the C floor's of the same run. */
const FLOOR_RATIO = 5;
/** The Node reloaders the sidecar must be ahead of: its median no slower, and nothing lost or extra where they lose or add. */
const PEERS = ['Node fs.watch', 'Node chokidar'];

export function checkGoals(results: Results): Goal[] {
  const goals: Goal[] = [];
  const floor = results.latency.find((row) => row.name.startsWith('C floor'));
  const rows = results.latency.filter((row) => row.name.startsWith('config-reloader'));
  if (rows.length === 0) rows.push({ name: SIDECAR, updates: 0, firstMs: NaN, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN, lost: 0, extra: 0 });
  for (const sidecar of rows) {
    const where = sidecar.name === SIDECAR ? '' : ` (${sidecar.name.replace(/^config-reloader, /, '')})`;
    const ratio = floor === undefined ? Number.NaN : sidecar.p50Ms / floor.p50Ms;
    goals.push({
      description: `latency p50 within ${FLOOR_RATIO}x of the C floor${where}`,
      met: measured(ratio, ratio <= FLOOR_RATIO),
      observed: `${formatNumber(ratio)}x (${formatNumber(sidecar.p50Ms, 3)} ms vs ${formatNumber(floor?.p50Ms ?? Number.NaN, 3)} ms)`,
    });
    goals.push({
      description: `latency p99 under 5 ms${where}`,
      met: measured(sidecar.p99Ms, sidecar.p99Ms < 5),
      observed: `${formatNumber(sidecar.p99Ms, 3)} ms`,
    });
    goals.push({
      description: `no update lost, no extra signal${where}`,
      met: sidecar.updates === 0 ? undefined : sidecar.lost === 0 && sidecar.extra === 0 && sidecar.error === undefined,
      observed: `${sidecar.lost} lost, ${sidecar.extra} extra${sidecar.error === undefined ? '' : `, error: ${sidecar.error}`}`,
    });
  }

  const sidecar = results.latency.find((row) => row.name === SIDECAR);
  for (const name of PEERS) {
    const peer = results.latency.find((row) => row.name === name);
    if (peer === undefined || sidecar === undefined) continue;
    const faultsAhead = sidecar.lost + sidecar.extra <= peer.lost + peer.extra;
    goals.push({
      description: `ahead of ${name}: p50 no slower, no more lost or extra signals`,
      met: measured(sidecar.p50Ms, sidecar.p50Ms <= peer.p50Ms && faultsAhead),
      observed: `p50 ${formatNumber(sidecar.p50Ms, 3)} vs ${formatNumber(peer.p50Ms, 3)} ms; lost+extra ${sidecar.lost + sidecar.extra} vs ${peer.lost + peer.extra}`,
    });
  }

  const bare = results.idle.find((row) => row.name === 'bare node');
  for (const row of results.idle.filter((r) => r.name.startsWith('config-reloader'))) {
    const rssRatio = bare === undefined ? Number.NaN : row.rssKb / bare.rssKb;
    goals.push({
      description: `idle RSS within 1.10x of bare Node (${row.name})`,
      met: measured(rssRatio, rssRatio <= 1.1),
      observed: `${formatNumber(rssRatio)}x (${formatNumber(row.rssKb / 1024, 1)} MiB vs ${formatNumber((bare?.rssKb ?? Number.NaN) / 1024, 1)} MiB)`,
    });
    goals.push({
      description: `zero CPU while idle (${row.name})`,
      met: measured(row.cpuTicks, row.cpuTicks === 0),
      observed: `${row.cpuTicks} ticks, ${row.wakeups} wakeups (bare node: ${bare?.wakeups ?? '-'})`,
    });
  }

  const startup = results.startup.find((row) => row.name === SIDECAR);
  const readyMs = startup?.readyMs ?? Number.NaN;
  goals.push({ description: 'ready on 10,000 directories in under 1 s', met: measured(readyMs, readyMs < 1000), observed: `${formatNumber(readyMs, 0)} ms` });
  const burst = results.sidecarBurst;
  goals.push({
    description: 'exactly one reload after a burst of 100,000 file events',
    met: burst === undefined ? undefined : burst.reloads === 1 && burst.reloadsDuringBurst === 0,
    observed: burst === undefined ? 'not run' : `${burst.reloads} reload(s), ${burst.reloadsDuringBurst} during the burst`,
  });
  return goals;
}

function measured(value: number, met: boolean): boolean | undefined {
  return Number.isNaN(value) ? undefined : met;
}
