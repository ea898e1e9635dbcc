// The reload path's reads as they were before the shared-buffer reads and the
// status-free target scan (lib/proc.ts and lib/sidecar/fingerprint.ts before
// commit d84bd27), kept so bench/hot-path.ts can measure both in the same run
// on the same processes and files. Same parsers, same results; only the way
// the files are read differs.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

import { hasCode } from '../lib/errors';
import type { ProcessInfo } from '../lib/proc';
import { parseCmdline, parseStat, parseStatus, PF_KTHREAD } from '../lib/proc-parse';
import { DATA_LINK, isInternalName, isKubeletVolume } from '../lib/kubelet-volume';

const DELETED_SUFFIX = ' (deleted)';

function readExeBefore(dir: string): string | undefined {
  try {
    const target = readlinkSync(join(dir, 'exe'));
    return target.endsWith(DELETED_SUFFIX) ? target.slice(0, -DELETED_SUFFIX.length) : target;
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH', 'EACCES', 'EPERM')) return undefined;
    throw error;
  }
}

/** readProcess before: stat, status and cmdline through readFileSync, exe for every process. */
export function readProcessBefore(pid: number, procRoot = '/proc'): ProcessInfo | undefined {
  const dir = join(procRoot, String(pid));
  let statText: string;
  let statusText: string;
  let cmdline: Buffer;
  try {
    statText = readFileSync(join(dir, 'stat'), 'utf8');
    statusText = readFileSync(join(dir, 'status'), 'utf8');
    cmdline = readFileSync(join(dir, 'cmdline'));
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
  const exe = readExeBefore(dir);
  const stat = parseStat(statText);
  const status = parseStatus(statusText);
  const argv = parseCmdline(cmdline);
  const argv0 = argv[0];
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    comm: stat.comm,
    argv,
    argv0Name: argv0 === undefined || argv0 === '' ? undefined : basename(argv0),
    exe,
    exeName: exe === undefined ? undefined : basename(exe),
    uid: status.uid.real,
    effectiveUid: status.uid.effective,
    startTime: stat.startTime,
    state: stat.state,
    kernelThread: (stat.flags & PF_KTHREAD) !== 0,
    signals: {
      caught: status.signals.caught,
      ignored: status.signals.ignored,
      blocked: status.signals.blocked,
      pending: status.signals.pending | status.signals.sharedPending,
    },
  };
}

/** listProcesses before: the scan every reload made to find its targets. */
export function listProcessesBefore(procRoot = '/proc'): ProcessInfo[] {
  const pids = readdirSync(procRoot)
    .filter((name) => /^[1-9]\d*$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const processes: ProcessInfo[] = [];
  for (const pid of pids) {
    let info: ProcessInfo | undefined;
    try {
      info = readProcessBefore(pid, procRoot);
    } catch (error) {
      if (hasCode(error, 'EACCES', 'EPERM')) continue;
      throw error;
    }
    if (info !== undefined) processes.push(info);
  }
  return processes;
}

/** fingerprint(dirs).digest before: every file through readFileSync. */
export function fingerprintBefore(dirs: readonly string[]): string {
  const files = new Map<string, string>();
  const visited = new Set<string>();
  for (const dir of dirs) walkBefore(dir, dir, files, visited);
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${files.get(path) ?? ''}\n`);
  return hash.digest('hex');
}

function walkBefore(visiblePath: string, realPath: string, files: Map<string, string>, visited: Set<string>): void {
  const source = isKubeletVolume(realPath) ? join(realPath, DATA_LINK) : realPath;
  let identity: string;
  try {
    const stat = statSync(source);
    identity = `${stat.dev}:${stat.ino}`;
  } catch {
    return;
  }
  if (visited.has(identity)) return;
  visited.add(identity);
  let names: string[];
  try {
    names = readdirSync(source);
  } catch {
    return;
  }
  for (const name of names) {
    if (isInternalName(name)) continue;
    const entryVisible = join(visiblePath, name);
    const entryReal = join(source, name);
    let stat;
    try {
      stat = statSync(entryReal);
    } catch (error) {
      files.set(entryVisible, `error:${errorCode(error)}`);
      continue;
    }
    if (stat.isDirectory()) {
      walkBefore(entryVisible, entryReal, files, visited);
    } else if (stat.isFile()) {
      try {
        files.set(entryVisible, createHash('sha256').update(readFileSync(entryReal)).digest('hex'));
      } catch (error) {
        files.set(entryVisible, `error:${errorCode(error)}`);
      }
    }
  }
}

function errorCode(error: unknown): string {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return code ?? 'unknown';
}

