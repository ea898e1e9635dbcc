// `npm run bench`: every measurement in one run, against baselines started
// in the same run, so the ratios hold on a shared, noisy machine even when
// the absolute numbers drift. Prints Markdown tables and the goals, and keeps
// a copy in .tmp/bench/ (results.md, results.json).
//
// Options: --updates N (latency updates per reloader, default 200)
//          --idle-seconds S (default 30)  --files N (burst files, default 50000)
//          --soak-updates N (default 10000)  --footprint-rounds N (default 3)
//          --only latency,idle,scale,throughput,footprint,soak,image
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Child } from './child';
import { compilePrograms, type CPrograms } from './compile';
import { measureFootprint } from './footprint';
import { checkGoals, type Goal } from './goals';
import { measureIdle, type IdleResult, type IdleSubject } from './idle';
import { measureImage } from './image';
import { type LatencyRun, measureLatency } from './latency';
import { machineNote, readInotifyLimits } from './machine';
import * as reloaders from './reloaders';
import type { Reloader } from './reloaders';
import type { Results } from './results';
import { measureLibraryBurst, measureSidecarBurst, measureStartup } from './scale';
import { SignalTarget } from './signal-target';
import { measureSoak } from './soak';
import { buildTables } from './report';
import { renderTable } from './table';
import { measureThroughput } from './throughput';
import { buildTree } from './tree';
import { createVolume } from './volume';

type Section = 'latency' | 'idle' | 'scale' | 'throughput' | 'footprint' | 'soak' | 'image';

interface Options {
  readonly updates: number;
  readonly idleSeconds: number;
  readonly files: number;
  readonly soakUpdates: number;
  readonly footprintRounds: number;
  readonly sections: ReadonlySet<Section>;
}

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i] ?? '';
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined) {
      throw new Error(`bench: expected --updates N, --idle-seconds S, --files N, --soak-updates N, --footprint-rounds N or --only LIST; got ${key}`);
    }
    values.set(key.slice(2), value);
    i++;
  }
  const number = (key: string, fallback: number): number => {
    const text = values.get(key);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`bench: --${key} must be a positive integer, got ${text}`);
    return value;
  };
  const all: Section[] = ['latency', 'idle', 'scale', 'throughput', 'footprint', 'soak', 'image'];
  const only = values.get('only')?.split(',') ?? all;
  for (const section of only) {
    if (!all.includes(section as Section)) throw new Error(`bench: --only takes ${all.join(',')}; got ${section}`);
  }
  return {
    updates: number('updates', 200),
    idleSeconds: number('idle-seconds', 30),
    files: number('files', 50000),
    soakUpdates: number('soak-updates', 10000),
    footprintRounds: number('footprint-rounds', 3),
    sections: new Set(only as Section[]),
  };
}

/**
 * Every reloader gets the same pacing: 55-75 ms between one update's signal
 * and the next update. That clears chokidar's 50 ms throttle on `change`
 * events (a kubelet never updates faster); one extra chokidar row shows what
 * the throttle does to updates closer together than that.
 */
function latencyRuns(updates: number, built: boolean): LatencyRun[] {
  const paced = { updates, gapMs: [55, 75] as const, lostAfterMs: 1000 };
  return [
    { reloader: reloaders.cFloor, ...paced },
    { reloader: reloaders.inotifywaitPkill, ...paced },
    { reloader: reloaders.fsWatch, ...paced },
    { reloader: reloaders.chokidar, ...paced },
    {
      reloader: reloaders.chokidar, label: 'Node chokidar, updates 15-25 ms apart',
      updates: 40, gapMs: [15, 25], lostAfterMs: 200,
    },
    ...(built
      ? [
          { reloader: reloaders.sidecar, ...paced },
          { reloader: reloaders.sidecar, label: 'config-reloader, in a Pod-sized PID namespace', inPod: true, ...paced },
        ]
      : []),
  ];
}

/**
 * A round is over in tens of milliseconds, and with the writer in another
 * process the scheduler's choices move single rounds a lot: more rounds keep
 * the median steady.
 */
const THROUGHPUT_ROUNDS = 25;

/** Long enough for V8's one-off memory reducer (see idle.ts) to have run. */
const SETTLE_MS = 15000;

const TMPFS_MAGIC = 0x01021994;

const REPO_ROOT = join(__dirname, '..', '..');
const OUT_DIR = join(REPO_ROOT, '.tmp', 'bench');

/**
 * Directories go on tmpfs when there is one: Secret volumes are tmpfs, and on
 * a virtual disk file creation is slow and noisy enough (here ~100 us per
 * file on ext4 against ~8 us on tmpfs) to measure the disk, not the watcher.
 */
function scratchDir(): string {
  try {
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // No usable /dev/shm: fall back to the temporary directory.
  }
  return tmpdir();
}

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/**
 * The writer stamps with process.hrtime.bigint(), the target with
 * clock_gettime(CLOCK_MONOTONIC). Latencies are differences across the two,
 * so the bench refuses to run if they are not the same clock.
 */
async function checkClock(programs: CPrograms): Promise<void> {
  const before = process.hrtime.bigint();
  const target = await SignalTarget.start(programs.signalTarget);
  const after = process.hrtime.bigint();
  await target.stop();
  if (target.readyStamp < before || target.readyStamp > after) {
    throw new Error(
      `process.hrtime.bigint() is not CLOCK_MONOTONIC here: the target read ${target.readyStamp}, ` +
        `outside [${before}, ${after}]; latencies would be meaningless`,
    );
  }
}

async function startIdleSubjects(programs: CPrograms, tmpRoot: string, built: boolean): Promise<{ subjects: IdleSubject[]; cleanup: () => Promise<void> }> {
  // A target of its own under another name: the latency runs going on at the
  // same time must each find exactly one process named programs.targetName.
  const idleTargetProgram = join(tmpRoot, `idle-${process.pid}`.slice(0, 15));
  copyFileSync(programs.signalTarget, idleTargetProgram);
  const target = await SignalTarget.start(idleTargetProgram);
  const volume = mkdtempSync(join(tmpRoot, 'idle-volume-'));
  createVolume(volume);
  const plain = mkdtempSync(join(tmpRoot, 'idle-plain-'));
  mkdirSync(join(plain, 'conf.d'));
  writeFileSync(join(plain, 'app.conf'), 'value=1\n');
  writeFileSync(join(plain, 'conf.d', 'extra.conf'), 'value=2\n');
  const context = { targetPid: target.pid, targetName: idleTargetProgram.split('/').pop() ?? '', programs };
  const starts: Array<[string, () => Promise<Child>]> = [
    ['bare node', () => started(new Child('bare-node', process.execPath, [join(__dirname, 'baselines', 'bare-node.js')]))],
    ['Node fs.watch', () => reloaders.fsWatch.start({ ...context, dir: volume })],
    ['Node chokidar', () => reloaders.chokidar.start({ ...context, dir: volume })],
  ];
  if (built) {
    starts.push(['config-reloader, kubelet volume', () => reloaders.sidecar.start({ ...context, dir: volume })]);
    starts.push(['config-reloader, plain dir', () => reloaders.sidecar.start({ ...context, dir: plain })]);
  }
  const subjects: IdleSubject[] = [];
  for (const [name, start] of starts) {
    progress(`idle: starting ${name}`);
    subjects.push({ name, child: await start() });
  }
  return {
    subjects,
    cleanup: async () => {
      for (const subject of subjects) await subject.child.stop();
      await target.stop();
      rmSync(volume, { recursive: true, force: true });
      rmSync(plain, { recursive: true, force: true });
    },
  };
}

async function started(child: Child): Promise<Child> {
  await child.waitForLine(/^ready$/, 10000);
  return child;
}

async function runScale(programs: CPrograms, tmpRoot: string, files: number, built: boolean, results: Results): Promise<void> {
  progress('scale: building a tree of 10,000 directories');
  const tree = buildTree(tmpRoot);
  const target = await SignalTarget.start(programs.signalTarget);
  try {
    const candidates: Reloader[] = [reloaders.fsWatch, reloaders.chokidar];
    for (const reloader of candidates) {
      progress(`scale: start-up of ${reloader.name}`);
      const { result, child } = await measureStartup(reloader, tree, programs, target);
      results.startup.push(result);
      await child?.stop();
    }
    if (built) {
      progress('scale: start-up of the sidecar, then a burst of file events');
      const { result, child } = await measureStartup(reloaders.sidecar, tree, programs, target);
      results.startup.push(result);
      if (child !== undefined) {
        try {
          results.sidecarBurst = await measureSidecarBurst(child, target, programs, tree, files);
        } finally {
          await child.stop();
        }
      }
    }
  } finally {
    await target.stop();
    rmSync(tree.root, { recursive: true, force: true });
  }
  progress('scale: the library alone under the same burst');
  const libraryTree = buildTree(tmpRoot);
  try {
    results.libraryBurst = await measureLibraryBurst(programs, libraryTree, files);
  } finally {
    rmSync(libraryTree.root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const runStarted = Date.now();
  const limits = readInotifyLimits();
  const scratch = scratchDir();
  const tmpRoot = mkdtempSync(join(scratch, 'config-reloader-bench-'));
  const built = reloaders.sidecarBuilt();
  const results: Results = {
    latency: [], idle: [], startup: [], libraryBurst: undefined, sidecarBurst: undefined, throughput: [], footprint: undefined, soak: undefined, sidecarBuilt: built,
  };
  if (!built) progress(`${reloaders.sidecarMain} does not exist yet: the sidecar's rows are skipped`);
  try {
    const programs = compilePrograms(tmpRoot);
    await checkClock(programs);

    let idle: Promise<IdleResult[]> | undefined;
    let idleCleanup: (() => Promise<void>) | undefined;
    if (options.sections.has('idle')) {
      progress(`idle: starting subjects; ${SETTLE_MS / 1000} s to settle, then a ${options.idleSeconds} s window (the latency runs go on meanwhile)`);
      const { subjects, cleanup } = await startIdleSubjects(programs, tmpRoot, built);
      idleCleanup = cleanup;
      idle = measureIdle(subjects, options.idleSeconds * 1000, SETTLE_MS);
    }
    try {
      if (options.sections.has('latency')) {
        results.latency = await measureLatency(latencyRuns(options.updates, built), {
          programs, tmpRoot, warmup: 5, block: 10, progress,
        });
      }
      if (idle !== undefined) results.idle = await idle;
    } finally {
      await idleCleanup?.();
    }
    if (options.sections.has('scale')) await runScale(programs, tmpRoot, options.files, built, results);
    if (options.sections.has('throughput')) {
      // Every event must fit in the kernel queue, or the round measures an overflow.
      const events = Math.min(15000, Math.floor(readInotifyLimits().maxQueuedEvents * 0.9));
      if (events < 1000) {
        progress(`throughput: skipped, fs.inotify.max_queued_events is ${readInotifyLimits().maxQueuedEvents}`);
      } else {
        progress('throughput: library vs fs.watch, files made by another process');
        results.throughput = await measureThroughput(programs.burst, tmpRoot, events, THROUGHPUT_ROUNDS);
      }
    }
    // Alone on the machine's share of CPU: start-up times and peaks are not to be skewed by another section.
    if (options.sections.has('footprint') && built) {
      results.footprint = await measureFootprint(programs, tmpRoot, options.footprintRounds, progress);
    }
    if (options.sections.has('soak') && built) {
      progress(`soak: ${options.soakUpdates} kubelet updates, one at a time`);
      results.soak = await measureSoak(programs, tmpRoot, options.soakUpdates, progress);
    }
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  // Last: the image build would take CPU from every measurement above.
  if (options.sections.has('image')) {
    progress('image: building the Dockerfile and listing its files (minutes the first time on a machine)');
    results.image = await measureImage(REPO_ROOT, OUT_DIR, progress);
  }

  const tables = buildTables(results, options);
  const goals = checkGoals(results);
  const report = [
    `Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
    `Date: ${new Date(runStarted).toString()}`,
    `Machine: ${machineNote(limits)}; scratch directories in ${scratch}${scratch === '/dev/shm' ? ' (tmpfs)' : ''}`,
    `Duration: ${Math.round((Date.now() - runStarted) / 1000)} s`,
    '',
    ...tables.map(renderTable).flatMap((table) => [table, '']),
    renderGoals(goals),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'results.md'), `${report}\n`);
  writeFileSync(join(OUT_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
}

function renderGoals(goals: readonly Goal[]): string {
  const lines = ['### Goals', ''];
  for (const goal of goals) lines.push(`- ${goal.met === undefined ? 'NOT MEASURED' : goal.met ? 'met' : 'MISSED'}: ${goal.description} (${goal.observed})`);
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
