// The reloaders under comparison, each started the same way: a volume
// directory, the target's pid and process name; each says when it is ready.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Child } from './child';
import type { CPrograms } from './compile';
import { imageNodeOptions } from './image-entrypoint';

export interface ReloaderContext {
  readonly dir: string;
  readonly targetPid: number;
  readonly targetName: string;
  readonly programs: CPrograms;
  /** Extra environment for the sidecar (DEBOUNCE_MS and the like). */
  readonly env?: NodeJS.ProcessEnv;
  /** Options for the sidecar's node (the profiler's --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** A command the sidecar runs through (nsenter into a Pod's PID namespace). */
  readonly prefix?: readonly string[];
  /** A plain directory tree rather than a kubelet volume (Node baselines watch recursively). */
  readonly tree?: boolean;
}

export interface Reloader {
  readonly name: string;
  start(context: ReloaderContext): Promise<Child>;
}

const distRoot = join(__dirname, '..');
/**
 * The sidecar's entry point as it ships: the bundle (scripts/bundle.ts).
 * BENCH_SIDECAR points the bench at another build of it (a patched copy of
 * dist/, or dist/lib/sidecar/cli/main.js for the unbundled modules), to measure a fix
 * before making it.
 */
export const sidecarMain = process.env.BENCH_SIDECAR ?? join(distRoot, 'bin', 'config-reloader.js');
/** node, as the image's entrypoint starts it, then `nodeArgs`, then the sidecar. */
export function sidecarCommand(nodeArgs: readonly string[] = []): [string, ...string[]] {
  return [process.execPath, ...imageNodeOptions(), ...nodeArgs, sidecarMain];
}
const baselines = join(__dirname, 'baselines');
const baselineScripts = join(distRoot, '..', 'bench', 'baselines');

/** What the sidecar logs once its watches are in place. */
export const SIDECAR_READY = /^\S+ INFO +ready\b|"msg":"ready"/;

async function started(child: Child, ready: RegExp, timeoutMs = 15000): Promise<Child> {
  try {
    await child.waitForLine(ready, timeoutMs);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return child;
}

function treeFlag(tree: boolean | undefined): string[] {
  return tree === true ? ['--tree'] : [];
}

export const cFloor: Reloader = {
  name: 'C floor (inotify read + kill)',
  start: ({ dir, targetPid, programs }) =>
    started(new Child('floor-reloader', programs.floorReloader, [dir, String(targetPid)]), /^ready$/),
};

export const inotifywaitPkill: Reloader = {
  name: 'inotifywait + pkill',
  start: ({ dir, targetName }) =>
    started(
      new Child('inotifywait-pkill', 'bash', [join(baselineScripts, 'inotifywait-pkill.sh'), dir, targetName]),
      /Watches established/,
    ),
};

export const fsWatch: Reloader = {
  name: 'Node fs.watch',
  start: ({ dir, targetPid, tree }) =>
    started(
      new Child('fs-watch', process.execPath, [join(baselines, 'fs-watch-reloader.js'), dir, String(targetPid), ...treeFlag(tree)]),
      /^ready$/,
      60000,
    ),
};

export const chokidar: Reloader = {
  name: 'Node chokidar',
  start: ({ dir, targetPid, tree }) =>
    started(
      new Child('chokidar', process.execPath, [join(baselines, 'chokidar-reloader.js'), dir, String(targetPid), ...treeFlag(tree)]),
      /^ready$/,
      60000,
    ),
};

export const sidecar: Reloader = {
  name: 'config-reloader (this sidecar)',
  start: ({ dir, targetName, env, nodeArgs = [], prefix = [] }) => {
    const [command = process.execPath, ...args] = [...prefix, ...sidecarCommand(nodeArgs)];
    return started(
      new Child('config-reloader', command, args, {
        env: { ...process.env, CONFIG_DIR: dir, PROCESS_NAME: targetName, RELOAD_SIGNAL: 'SIGHUP', ...env },
      }),
      SIDECAR_READY,
    );
  },
};

export function sidecarBuilt(): boolean {
  return existsSync(sidecarMain);
}
