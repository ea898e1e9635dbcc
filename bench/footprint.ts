// Footprint: what the sidecar costs a Pod, against a bare `node` started in
// the same run.
//
// - Start: resident memory 3 s after exec (split into RssAnon, the heaps,
//   and RssFile, pages of the node binary and libraries), threads, exec to
//   "ready", and exec to the first reload (an update published the moment
//   "ready" is seen, stamped at the target). Subjects start one at a time,
//   so none competes with another for the CPU, in interleaved rounds, and
//   each figure is the median over the rounds.
// - Large trees: 100,000 small files in one directory (fingerprinted) and
//   10,000 empty directories (watched): time to ready, peak RSS (VmHWM) and
//   RSS once settled. Against the small volume, they give the bytes per file
//   and per watch that the resource request is computed from.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Child } from './child';
import type { CPrograms } from './compile';
import { GenerationVolume } from './volume';
import { readMemory, type MemorySample } from './proc-stats';
import * as reloaders from './reloaders';
import { SignalTarget } from './signal-target';
import { median, nsToMs, sleep } from './stats';

/** When the start figures are read, from exec. */
export const START_SAMPLE_MS = 3000;
/** After ready, before a large tree's settled RSS is read. */
const SETTLE_MS = 5000;

export interface StartRow {
  readonly name: string;
  /** Medians over the rounds; memory in kB, read START_SAMPLE_MS after exec. */
  readonly rssKb: number;
  readonly anonKb: number;
  readonly fileKb: number;
  readonly threads: number;
  readonly readyMs: number;
  /** Exec to the target's signal for an update published at ready (the sidecar's rows only). */
  readonly firstReloadMs: number;
  readonly error?: string;
}

export interface TreeRow {
  readonly name: string;
  readonly files: number;
  readonly directories: number;
  readonly readyMs: number;
  readonly peakKb: number;
  readonly settledKb: number;
  readonly error?: string;
}

export interface FootprintResult {
  readonly rounds: number;
  readonly start: StartRow[];
  readonly trees: TreeRow[];
}

export const BARE_NODE = 'bare node';
export const SIDECAR_VOLUME = 'config-reloader, kubelet volume';
export const SIDECAR_METRICS = 'config-reloader, kubelet volume, METRICS_ADDR set';
export const SIDECAR_NO_OPTIONS = 'config-reloader, kubelet volume, no node options (npm bin)';
export const LARGE_FILES = 100000;
export const LARGE_DIRECTORIES = 10000;

interface StartSample {
  readonly memory: MemorySample;
  readonly readyMs: number;
  readonly firstReloadMs: number;
}

export async function measureFootprint(programs: CPrograms, tmpRoot: string, rounds: number, progress: (message: string) => void): Promise<FootprintResult> {
  const program = join(tmpRoot, `fp-${process.pid}`.slice(0, 15));
  copyFileSync(programs.signalTarget, program);
  const target = await SignalTarget.start(program);
  const targetName = program.split('/').pop() ?? '';
  const volume = mkdtempSync(join(tmpRoot, 'footprint-volume-'));
  const writer = new GenerationVolume(volume);
  const sidecarEnv = { CONFIG_DIR: volume, PROCESS_NAME: targetName, RELOAD_SIGNAL: 'SIGHUP' };
  const subjects: Array<[string, () => Promise<StartSample>]> = [
    [BARE_NODE, () => startBare()],
    [SIDECAR_VOLUME, () => startSidecar(sidecarEnv, writer, target)],
    [SIDECAR_METRICS, () => startSidecar({ ...sidecarEnv, METRICS_ADDR: `127.0.0.1:${freePortGuess()}` }, writer, target)],
    [SIDECAR_NO_OPTIONS, () => startSidecar(sidecarEnv, writer, target, [process.execPath, reloaders.sidecarMain])],
  ];
  const samples = new Map<string, StartSample[]>(subjects.map(([name]) => [name, []]));
  const errors = new Map<string, string>();
  try {
    for (let round = 0; round < rounds; round++) {
      progress(`footprint: start-up round ${round + 1} of ${rounds}`);
      for (const [name, start] of subjects) {
        try {
          samples.get(name)?.push(await start());
        } catch (error) {
          errors.set(name, error instanceof Error ? error.message : String(error));
        }
      }
    }
    const trees: TreeRow[] = [];
    progress(`footprint: ${LARGE_FILES.toLocaleString('en-US')} files in one directory`);
    trees.push(await measureTree(tmpRoot, `${LARGE_FILES.toLocaleString('en-US')} files in one directory`, LARGE_FILES, 0, targetName));
    progress(`footprint: ${LARGE_DIRECTORIES.toLocaleString('en-US')} empty directories`);
    trees.push(await measureTree(tmpRoot, `${LARGE_DIRECTORIES.toLocaleString('en-US')} empty directories`, 0, LARGE_DIRECTORIES, targetName));
    return { rounds, start: subjects.map(([name]) => summarizeStart(name, samples.get(name) ?? [], errors.get(name))), trees };
  } finally {
    await target.stop();
    rmSync(volume, { recursive: true, force: true });
  }
}

function summarizeStart(name: string, samples: readonly StartSample[], error: string | undefined): StartRow {
  const of = (pick: (sample: StartSample) => number): number => median(samples.map(pick));
  return {
    name,
    rssKb: of((s) => s.memory.rssKb),
    anonKb: of((s) => s.memory.anonKb),
    fileKb: of((s) => s.memory.fileKb),
    threads: of((s) => s.memory.threads),
    readyMs: of((s) => s.readyMs),
    firstReloadMs: of((s) => s.firstReloadMs),
    ...(error === undefined ? {} : { error }),
  };
}

async function startBare(): Promise<StartSample> {
  const spawned = process.hrtime.bigint();
  const child = new Child('bare-node', process.execPath, [join(__dirname, 'baselines', 'bare-node.js')]);
  try {
    await child.waitForLine(/^ready$/, 10000);
    const readyMs = nsToMs(process.hrtime.bigint() - spawned);
    return { memory: await sampleAt(child, spawned), readyMs, firstReloadMs: Number.NaN };
  } finally {
    await child.stop();
  }
}

async function startSidecar(
  env: Readonly<Record<string, string>>, writer: GenerationVolume, target: SignalTarget, [command, ...args] = reloaders.sidecarCommand(),
): Promise<StartSample> {
  const before = target.stamps.length;
  const spawned = process.hrtime.bigint();
  const child = new Child('config-reloader', command, args, { env: { ...process.env, ...env } });
  try {
    await child.waitForLine(reloaders.SIDECAR_READY, 15000);
    const readyMs = nsToMs(process.hrtime.bigint() - spawned);
    writer.update();
    const arrived = await target.waitForCount(before + 1, 5000);
    const signal = target.stamps[before];
    const firstReloadMs = arrived && signal !== undefined ? nsToMs(signal - spawned) : Number.NaN;
    return { memory: await sampleAt(child, spawned), readyMs, firstReloadMs };
  } finally {
    await child.stop();
  }
}

async function sampleAt(child: Child, spawned: bigint): Promise<MemorySample> {
  const elapsedMs = nsToMs(process.hrtime.bigint() - spawned);
  await sleep(Math.max(0, START_SAMPLE_MS - elapsedMs));
  if (!child.running) throw new Error(`${child.label} exited:\n${child.tail()}`);
  return readMemory(child.pid);
}

async function measureTree(tmpRoot: string, name: string, files: number, directories: number, targetName: string): Promise<TreeRow> {
  const root = mkdtempSync(join(tmpRoot, 'footprint-tree-'));
  try {
    for (let i = 0; i < files; i++) writeFileSync(join(root, `file-${i}.conf`), `key=${i}\n`);
    for (let i = 0; i < directories; i++) mkdirSync(join(root, `dir-${i}`));
    const spawned = process.hrtime.bigint();
    const [command, ...args] = reloaders.sidecarCommand();
    const child = new Child('config-reloader', command, args, {
      env: { ...process.env, CONFIG_DIR: root, PROCESS_NAME: targetName, RELOAD_SIGNAL: 'SIGHUP' },
    });
    try {
      await child.waitForLine(reloaders.SIDECAR_READY, 120000);
      const readyMs = nsToMs(process.hrtime.bigint() - spawned);
      await sleep(SETTLE_MS);
      const memory = readMemory(child.pid);
      return { name, files, directories, readyMs, peakKb: memory.peakKb, settledKb: memory.rssKb };
    } finally {
      await child.stop();
    }
  } catch (error) {
    return {
      name, files, directories, readyMs: Number.NaN, peakKb: Number.NaN, settledKb: Number.NaN,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A port from the unprivileged range: the sidecar refuses port 0, and a clash fails the row, not the run. */
function freePortGuess(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}
