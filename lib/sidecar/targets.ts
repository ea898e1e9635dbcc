// Whom to signal. Pure functions over a snapshot of /proc, so every rule here
// is tested with tables as well as with real processes.
import { basename } from 'node:path';

import type { ProcessInfo } from '../proc';

/** Linux keeps only the first 15 bytes of a process name in `comm`. */
export const COMM_LENGTH = 15;

/**
 * The names a process answers to: its `comm`, the basename of its executable
 * (when readable), and the basename of argv[0]. Programs that rewrite their
 * title (nginx: "nginx: master process ...", postgres: "postgres: checkpointer")
 * also answer to the first word of that title.
 */
export function processNames(info: ProcessInfo): Set<string> {
  const names = new Set<string>([info.comm]);
  if (info.exeName !== undefined) names.add(info.exeName);
  const argv0 = info.argv[0];
  if (argv0 !== undefined && argv0 !== '') {
    names.add(basename(argv0));
    const firstWord = argv0.split(' ')[0];
    if (firstWord !== undefined && firstWord !== argv0) names.add(basename(firstWord.replace(/:$/, '')));
  }
  return names;
}

/**
 * True when the process answers to `name`. A name longer than `comm` can hold
 * matches through the executable or argv[0]; a bare `comm` prefix is not
 * enough, as it would also match other long names that share 15 characters.
 */
export function matchesName(info: ProcessInfo, name: string): boolean {
  return processNames(info).has(name);
}

export interface TargetSelection {
  readonly targets: readonly ProcessInfo[];
  /** Matches skipped because an ancestor matches too (workers, backends). */
  readonly workers: readonly ProcessInfo[];
}

/**
 * All matches when `all`, else only the topmost: a match with a matching
 * ancestor is a worker of that ancestor (nginx workers, gunicorn workers,
 * postgres backends) and reloads when its master tells it to.
 */
export function selectTargets(
  processes: readonly ProcessInfo[],
  name: string,
  all: boolean,
  selfPid: number,
): TargetSelection {
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const matches = processes.filter((info) => info.pid !== selfPid && !info.kernelThread && matchesName(info, name));
  const matching = new Set(matches.map((info) => info.pid));
  if (all) return { targets: matches, workers: [] };
  const targets: ProcessInfo[] = [];
  const workers: ProcessInfo[] = [];
  for (const info of matches) {
    (hasMatchingAncestor(info, byPid, matching) ? workers : targets).push(info);
  }
  return { targets, workers };
}

function hasMatchingAncestor(info: ProcessInfo, byPid: ReadonlyMap<number, ProcessInfo>, matching: ReadonlySet<number>): boolean {
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
export function seesOnlyItself(processes: readonly ProcessInfo[], selfPid: number): boolean {
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const ancestors = new Set<number>();
  for (let info = byPid.get(selfPid); info !== undefined && !ancestors.has(info.pid); info = byPid.get(info.ppid)) {
    ancestors.add(info.pid);
  }
  return processes.every((info) => info.kernelThread || ancestors.has(info.pid) || isDescendantOf(info, selfPid, byPid));
}

function isDescendantOf(info: ProcessInfo, ancestor: number, byPid: ReadonlyMap<number, ProcessInfo>): boolean {
  const seen = new Set<number>();
  for (let current: ProcessInfo | undefined = info; current !== undefined && !seen.has(current.pid); current = byPid.get(current.ppid)) {
    if (current.pid === ancestor) return true;
    seen.add(current.pid);
  }
  return false;
}

/** "12 nginx, 40 sh, ..." for messages, at most `limit` entries. */
export function describeProcesses(processes: readonly ProcessInfo[], limit = 20): string {
  const listed = processes.slice(0, limit).map((info) => `${info.pid} ${info.exeName ?? info.comm}`);
  if (processes.length > limit) listed.push(`and ${processes.length - limit} more`);
  return listed.join(', ');
}
