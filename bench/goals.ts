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
/** Rows run for comparison only (the same sidecar with one setting changed), held to no goal. */
export const DEFAULT_SLICE_ROW = "config-reloader, TIME_SLICE=0 (kernel's default slice)";
export const EVENT_LOOP_ROW = 'config-reloader, COMMIT_SIGNAL=false (the event loop sends)';
const COMPARISON_ROWS: ReadonlySet<string> = new Set([DEFAULT_SLICE_ROW, EVENT_LOOP_ROW]);

export function checkGoals(results: Results): Goal[] {
  const goals: Goal[] = [];
  const floor = results.latency.find((row) => row.name.startsWith('C floor'));
  const rows = results.latency.filter((row) => row.name.startsWith('config-reloader') && !COMPARISON_ROWS.has(row.name));
  if (rows.length === 0) rows.push({ name: SIDECAR, updates: 0, firstMs: NaN, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN, lost: 0, extra: 0 });
  for (const sidecar of rows) {
    const where = sidecar.name === SIDECAR ? '' : ` (${sidecar.name.replace(/^config-reloader, /, '')})`;
    const ratio = floor === undefined ? Number.NaN : sidecar.p50Ms / floor.p50Ms;
    goals.push({
      description: `latency p50 within 1.5x of the C floor${where}`,
      met: measured(ratio, ratio <= 1.5),
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
