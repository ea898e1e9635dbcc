// Whom to signal. Pure functions over a snapshot of /proc, so every rule here
// is tested with tables as well as with real processes.
import { basename } from 'node:path';

import { type ProcessSummary } from '..';
import { shownText } from './log';


/**
 * The names a process answers to: its `comm`, the basename of its executable
 * (when readable), and the basename of argv[0]. Programs that rewrite their
 * title (nginx: "nginx: master process ...", postgres: "postgres: checkpointer")
 * also answer to the first word of that title.
 */
export function processNames(info: ProcessSummary): Set<string> {
  const names = new Set<string>([info.comm]);
  if (info.exeName !== undefined) names.add(info.exeName);
  if (info.argv0Name !== undefined) names.add(info.argv0Name);
  const argv0 = info.argv[0] ?? '';
  const firstWord = argv0.split(' ')[0];
  if (firstWord !== undefined && firstWord !== argv0) names.add(basename(firstWord.replace(/:$/, '')));
  return names;
}

/**
 * True when the process answers to `name`. A name longer than `comm` can hold
 * matches through the executable or argv[0]; a bare `comm` prefix is not
 * enough, as it would also match other long names that share 15 characters.
 */
export function matchesName(info: ProcessSummary, name: string): boolean {
  return processNames(info).has(name);
}

/** The names the config-reloader command runs under: its bin, the bundle, or a binary built from it. */
const OWN_NAMES: ReadonlySet<string> = new Set(['config-reloader', 'config-reloader.js']);

// Node options that take their value as the next argument, so that value is
// not the script: `node -r ./trace.js /app/dist/bin/config-reloader.js`.
const NODE_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set([
  '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--title', '--env-file',
]);

/**
 * True for a config-reloader process: this sidecar, a second sidecar in the
 * Pod, or `config-reloader check` run with kubectl exec. It runs as `node
 * .../config-reloader.js` (the image's entrypoint, dist/bin), `node
 * .../config-reloader` (npm's bin link, through its #! line) or a binary of
 * that name, so it is known by the basename of the script node runs (the
 * first argument that is not a node option or its value), of argv[0] or of
 * the executable. Such a process is never a target: with PROCESS_NAME=node
 * it would otherwise match through /usr/bin/node, and having no handler for
 * the reload signal it would fail every reload after HANDLER_WAIT (or, with
 * HANDLER_CHECK=false, be killed by it).
 */
export function isConfigReloader(info: ProcessSummary): boolean {
  if ((info.exeName !== undefined && OWN_NAMES.has(info.exeName)) || (info.argv0Name !== undefined && OWN_NAMES.has(info.argv0Name))) return true;
  for (let i = 1; i < info.argv.length; i++) {
    const arg = info.argv[i] ?? '';
    if (NODE_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return OWN_NAMES.has(basename(arg));
  }
  return false;
}

export interface TargetSelection<P extends ProcessSummary = ProcessSummary> {
  readonly targets: readonly P[];
  /** Matches skipped because an ancestor matches too (workers, backends). */
  readonly workers: readonly P[];
}

/**
 * The processes a reload signals among those named `name`, leaving out the
 * sidecar itself (selfPid) and every other config-reloader process.
 * All matches when `all`, else only the topmost: a match with a matching
 * ancestor is a worker of that ancestor (nginx workers, gunicorn workers,
 * postgres backends) and reloads when its master tells it to.
 */
export function selectTargets<P extends ProcessSummary>(
  processes: readonly P[],
  name: string,
  all: boolean,
  selfPid: number,
): TargetSelection<P> {
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const matches = processes.filter((info) => info.pid !== selfPid && !info.kernelThread && matchesName(info, name) && !isConfigReloader(info));
  const matching = new Set(matches.map((info) => info.pid));
  if (all) return { targets: matches, workers: [] };
  const targets: P[] = [];
  const workers: P[] = [];
  for (const info of matches) {
    (hasMatchingAncestor(info, byPid, matching) ? workers : targets).push(info);
  }
  return { targets, workers };
}

function hasMatchingAncestor(info: ProcessSummary, byPid: ReadonlyMap<number, ProcessSummary>, matching: ReadonlySet<number>): boolean {
  const seen = new Set<number>();
  for (let parent = byPid.get(info.ppid); parent !== undefined && !seen.has(parent.pid); parent = byPid.get(parent.ppid)) {
    if (matching.has(parent.pid)) return true;
    seen.add(parent.pid);
  }
  return false;
}

/**
 * True when every process in view is the sidecar itself, one of its
 * ancestors or one of its descendants: the PID namespace is the sidecar's
 * own, which in Kubernetes means `shareProcessNamespace` is off.
 */
export function seesOnlyItself(processes: readonly ProcessSummary[], selfPid: number): boolean {
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const ancestors = new Set<number>();
  for (let info = byPid.get(selfPid); info !== undefined && !ancestors.has(info.pid); info = byPid.get(info.ppid)) {
    ancestors.add(info.pid);
  }
  return processes.every((info) => info.kernelThread || ancestors.has(info.pid) || isDescendantOf(info, selfPid, byPid));
}

function isDescendantOf(info: ProcessSummary, ancestor: number, byPid: ReadonlyMap<number, ProcessSummary>): boolean {
  const seen = new Set<number>();
  for (let current: ProcessSummary | undefined = info; current !== undefined && !seen.has(current.pid); current = byPid.get(current.ppid)) {
    if (current.pid === ancestor) return true;
    seen.add(current.pid);
  }
  return false;
}

/** "12 nginx, 40 sh, ..." for messages, at most `limit` entries. */
export function describeProcesses(processes: readonly ProcessSummary[], limit = 20): string {
  // Kernel threads are never targets; listing them would bury the names that matter.
  const candidates = processes.filter((info) => !info.kernelThread);
  const listed = candidates.slice(0, limit).map((info) => `${info.pid} ${shownText(info.exeName ?? info.comm)}`);
  if (candidates.length > limit) listed.push(`and ${candidates.length - limit} more`);
  return listed.join(', ');
}
