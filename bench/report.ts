// The tables a run prints, built from its results.
import { BARE_NODE, START_SAMPLE_MS } from './footprint';
import type { ImageResult } from './image';
import type { Results } from './results';
import { BASELINE_UPDATES, SOAK_SETTLE_MS } from './soak';
import type { Cell, Table } from './table';
import { formatMB, formatMiB, formatNumber } from './table';

interface Options {
  readonly updates: number;
  readonly idleSeconds: number;
  readonly files: number;
}

const ms = (value: number): string => formatNumber(value, 3);

export function buildTables(results: Results, options: Options): Table[] {
  const tables: Table[] = [];
  const errors = (rows: ReadonlyArray<{ name: string; error?: string }>): string[] =>
    rows.filter((row) => row.error !== undefined).map((row) => `- ${row.name} failed: ${row.error ?? ''}`);

  if (results.latency.length > 0) {
    const floor = results.latency.find((row) => row.name.startsWith('C floor'))?.p50Ms ?? Number.NaN;
    tables.push({
      title: 'Update-to-signal latency (kubelet ..data swap)',
      columns: ['reloader', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'first ms', 'p50 vs floor', 'lost', 'extra'],
      rows: results.latency.map((row) => [
        row.name, ms(row.p50Ms), ms(row.p90Ms), ms(row.p99Ms), ms(row.maxMs), ms(row.firstMs),
        `${formatNumber(row.p50Ms / floor)}x`, row.lost, row.extra,
      ]),
      notes: [
        `${options.updates} updates each after 5 warm-up updates (lost/extra count all of them; "first" is the very first update).`,
        'From CLOCK_MONOTONIC just before rename(..data_tmp, ..data) to CLOCK_MONOTONIC in the target\'s SIGHUP handler.',
        ...errors(results.latency),
      ],
    });
  }

  if (results.idle.length > 0) {
    const bare = results.idle.find((row) => row.name === 'bare node')?.rssKb ?? Number.NaN;
    tables.push({
      title: `Idle footprint (${options.idleSeconds} s window)`,
      columns: ['process', 'RSS MiB', 'RSS vs bare node', 'threads', 'CPU ticks', 'wakeups', 'settling: ticks', 'settling: wakeups'],
      rows: results.idle.map((row) => [
        row.name, formatMiB(row.rssKb), `${formatNumber(row.rssKb / bare)}x`, row.threads, row.cpuTicks, row.wakeups,
        row.settlingTicks, row.settlingWakeups,
      ]),
      notes: [
        'RSS = VmRSS at the end of the window; CPU ticks = utime+stime gained in the window (1 tick = 10 ms);',
        'wakeups = context switches of all threads in the window. Nothing touches the watched directories meanwhile.',
        'settling = the 15 s between ready and the window, when V8 runs its one-off memory reducer (see bench/idle.ts).',
        ...errors(results.idle),
      ],
    });
  }

  if (results.startup.length > 0 || results.libraryBurst !== undefined) {
    const library = results.libraryBurst;
    tables.push({
      title: 'Start-up on a tree of 10,000 directories',
      columns: ['watcher', 'ready ms', 'RSS MiB'],
      rows: [
        ...results.startup.map((row) => [row.name, formatNumber(row.readyMs, 0), formatMiB(row.rssKb)]),
        ...(library === undefined ? [] : [[`lib/inotify.ts walk + ${library.watches} watches (in-process)`, formatNumber(library.watchMs, 0), undefined]]),
      ],
      notes: ['ready = from spawn to the "ready" line, Node start-up included; RSS 300 ms after ready.', ...errors(results.startup)],
    });
  }

  const library = results.libraryBurst;
  const sidecar = results.sidecarBurst;
  if (library !== undefined || sidecar !== undefined) {
    const events = options.files * 2;
    tables.push({
      title: `Burst of ${events.toLocaleString('en-US')} file events (${options.files.toLocaleString('en-US')} files created across the tree)`,
      columns: ['consumer', 'burst ms', 'delivered', 'overflows', 'done ms', 'reloads'],
      rows: [
        ...(library === undefined ? [] : [[
          'lib/inotify.ts (every event counted)', formatNumber(library.burstMs, 0),
          library.delivered, library.overflows, formatNumber(library.drainedMs, 0), undefined,
        ]]),
        ...(sidecar === undefined ? [] : [[
          'config-reloader (this sidecar)', formatNumber(sidecar.burstMs, 0), undefined,
          sidecar.overflowLog === undefined ? 'none logged' : 'logged', formatNumber(sidecar.reloadAfterEndMs, 0),
          `${sidecar.reloads} (${sidecar.reloadsDuringBurst} during)`,
        ]]),
      ],
      notes: [
        'done ms: library = burst start to last event delivered; sidecar = burst end to the reload signal (debounce included).',
        `The kernel queue holds fs.inotify.max_queued_events (16384 here) events; beyond that one IN_Q_OVERFLOW replaces the rest.`,
        ...(sidecar?.overflowLog === undefined ? [] : [`Sidecar log: ${sidecar.overflowLog}`]),
      ],
    });
  }

  for (const regime of ['live', 'queued'] as const) {
    const rows = results.throughput.filter((row) => row.regime === regime);
    if (rows.length === 0) continue;
    const fsWatch = rows.find((row) => row.consumer === 'fs.watch');
    const rate = fsWatch?.eventsPerSecond ?? Number.NaN;
    const cpu = fsWatch?.cpuUsPerEvent ?? Number.NaN;
    const live = regime === 'live';
    tables.push({
      title: live
        ? 'Library throughput, live: another process writes while the listener reads'
        : 'Library throughput, queued: another process writes while the event loop is busy, then the backlog drains',
      columns: [
        'consumer', 'events/s', 'vs fs.watch', 'CPU us/event', 'CPU vs fs.watch', 'wakeups/event', 'writer events/s', 'all delivered',
      ],
      rows: rows.map((row) => [
        row.consumer, formatNumber(row.eventsPerSecond, 0), `${formatNumber(row.eventsPerSecond / rate)}x`,
        formatNumber(row.cpuUsPerEvent, 3), `${formatNumber(row.cpuUsPerEvent / cpu)}x`, formatNumber(row.wakeupsPerEvent),
        formatNumber(row.writerEventsPerSecond, 0), row.complete ? 'yes' : 'NO',
      ]),
      notes: [
        `Median of ${rows[0]?.rounds ?? 0} rounds of ${rows[0]?.events ?? 0} IN_CREATE events, the files made by bench/c/burst.c in its own process.`,
        live
          ? 'events/s: from the writer\'s first file to the last event delivered, so at most the writer\'s rate. CPU: this process\'s user + system time over that window (lower is better).'
          : 'events/s: from the writer\'s exit, every event queued, to the last event delivered. CPU: this process\'s user + system time over that window (lower is better).',
        'wakeups/event: times the main thread was scheduled in over that window (/proc/thread-self/schedstat), per event.',
        'inotify-event: one listener call per event; inotify-batch: one per wakeup\'s batch; inotify-iterator: for await over events().',
      ],
    });
  }
  const footprint = results.footprint;
  if (footprint !== undefined) {
    const bare = footprint.start.find((row) => row.name === BARE_NODE);
    tables.push({
      title: `Footprint at start (${START_SAMPLE_MS / 1000} s after exec, medians of ${footprint.rounds} starts)`,
      columns: ['process', 'RSS MiB', 'vs bare node', 'RssAnon MiB', 'RssFile MiB', 'threads', 'exec to ready ms', 'exec to first reload ms'],
      rows: footprint.start.map((row) => [
        row.name, formatMiB(row.rssKb), `${formatNumber(row.rssKb / (bare?.rssKb ?? Number.NaN))}x`, formatMiB(row.anonKb), formatMiB(row.fileKb),
        row.threads, formatNumber(row.readyMs, 0), formatNumber(row.firstReloadMs, 0),
      ]),
      notes: [
        'One process at a time, rounds interleaved. RssAnon = heaps, malloc, stacks; RssFile = pages of node, libraries and the addon.',
        'ready: bare node prints it after loading one module; the sidecar once watching, fingerprinted and its target looked up.',
        'first reload: a kubelet update published the moment "ready" is seen, to the target\'s SIGHUP handler.',
        ...errors(footprint.start),
      ],
    });
    const small = footprint.start.find((row) => row.name !== BARE_NODE && !row.name.includes('METRICS'));
    tables.push({
      title: 'Large trees (plain directories, fingerprinted and watched)',
      columns: ['tree', 'ready ms', 'peak RSS MiB (VmHWM)', 'settled RSS MiB', 'bytes per file or watch'],
      rows: footprint.trees.map((row) => [
        row.name, formatNumber(row.readyMs, 0), formatMiB(row.peakKb), formatMiB(row.settledKb),
        formatNumber(((row.settledKb - (small?.rssKb ?? Number.NaN)) * 1024) / Math.max(row.files, row.directories), 0),
      ]),
      notes: [
        'settled = VmRSS 5 s after ready. bytes per file or watch = (settled RSS - the sidecar\'s RSS on a small volume, above) / files or directories.',
        ...errors(footprint.trees),
      ],
    });
  }

  const soak = results.soak;
  if (soak !== undefined) {
    const point = (label: string, p: { updates: number; rssKb: number; descriptors: number }): Cell[] => [label, p.updates, formatMiB(p.rssKb), p.descriptors];
    tables.push({
      title: `Soak: ${soak.updates.toLocaleString('en-US')} kubelet updates, one at a time`,
      columns: ['point', 'updates', 'RSS MiB', 'descriptors'],
      rows: [point('start (ready)', soak.start), point(`after ${BASELINE_UPDATES.toLocaleString('en-US')}`, soak.baseline), point('peak RSS', soak.peak), point(`end, after ${SOAK_SETTLE_MS / 1000} s quiet`, soak.end)],
      notes: [
        `${soak.lost} lost, ${soak.extra} extra, ${formatNumber(soak.durationMs / 1000, 0)} s. Each update waits for its signal (1 s, then lost); no pause between them except 200 ms before each sample.`,
        ...(soak.error === undefined ? [] : [`- failed: ${soak.error}`]),
      ],
    });
  }
  if (results.image !== undefined) tables.push(imageTable(results.image));
  return tables;
}

function imageTable(image: ImageResult): Table {
  const measured = image.measurement;
  const failure = image.error === undefined ? [] : [`- failed: ${image.error}`];
  if (measured === undefined) return { title: 'Image (uncompressed)', columns: ['part', 'MB', 'share of total', 'files'], rows: [['not measured', undefined, undefined, undefined]], notes: failure };
  const total = measured.sizeBytes;
  const row = (part: string, bytes: number, files: number | undefined): Cell[] => [part, formatMB(bytes), `${formatNumber((bytes / total) * 100, 1)}%`, files];
  const { parts, app } = measured;
  return {
    title: `Image (uncompressed): ${measured.image}`,
    columns: ['part', 'MB', 'share of total', 'files'],
    rows: [
      row('node binary (/usr/local/bin/node)', parts.node.bytes, parts.node.files),
      row('shared libraries (/lib*, /usr/lib*)', parts.libraries.bytes, parts.libraries.files),
      row('our files (/app)', parts.app.bytes, parts.app.files),
      row('- of which the bundles (dist/bin)', app.bundles.bytes, app.bundles.files),
      row('- of which the compiled library (dist/lib)', app.compiled.bytes, app.compiled.files),
      row('- of which the addon (build/)', app.addon.bytes, app.addon.files),
      row('- of which node_modules', app.node_modules.bytes, app.node_modules.files),
      row('- of which package.json and the rest', app.other.bytes, app.other.files),
      row(`the rest (${measured.restDirs.join(', ') || 'none'})`, parts.rest.bytes, parts.rest.files),
      row('tar headers and padding (total minus files)', total - measured.files.bytes, undefined),
      row('total (podman image inspect .Size)', total, measured.files.files),
    ],
    notes: [
      'Regular files\' sizes from `podman export` of a created (never started) container, `tar -tv`; the total is the uncompressed layers.',
      `Built from the Dockerfile with the local Node stand-in by scripts/container/image-parts.sh: ${formatNumber(image.durationMs / 1000, 0)} s, set-up and build included.`,
      ...failure,
    ],
  };
}
