// A container's memory cgroup, read from the host: the limit the runtime
// really set, the peak the kernel charged, and whether its OOM killer ran.
// podman inspect reports what was asked for; only the cgroup shows what the
// kernel enforces.
//
// Cgroup v1 and v2 name the same facts differently. On v1 the swap limit is
// memory.memsw.limit_in_bytes, RAM and swap together, and exists only with
// swap accounting on; on v2 memory.swap.max is the swap alone, so "no swap
// beyond the limit" reads as the limit on v1 and 0 on v2.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryUsage {
  readonly anonBytes: number;
  /** Page cache: files read or mapped, which the kernel may drop under the limit and read again. */
  readonly fileBytes: number;
  /** File pages read again after the limit made the kernel drop them; undefined where memory.stat has no such line. */
  readonly fileRefaults: number | undefined;
}

export interface MemoryCgroup {
  readonly dir: string;
  readonly version: 1 | 2;
  /** Bytes of memory the group may use; undefined for no limit. */
  limitBytes(): number | undefined;
  /** RAM plus swap the group may use (v1 memsw, v2 memory.max plus memory.swap.max); undefined when unlimited or not accounted. */
  limitWithSwapBytes(): number | undefined;
  /** Most bytes charged at once since the group was made; undefined where the kernel keeps no peak (v2 before Linux 5.19). */
  peakBytes(): number | undefined;
  /** What is charged now, from memory.stat. */
  usage(): MemoryUsage;
  /** Processes of the group the OOM killer killed. */
  oomKills(): number;
}

const UNLIMITED_V1 = 2 ** 62;

function readNumber(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').trim();
  return text === 'max' ? undefined : Number(text);
}

function counter(text: string, key: string): number | undefined {
  const value = new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

/** memory.stat's lines for anonymous memory and page cache, named differently on v1 and v2. */
function usageFrom(stat: string, anon: string, file: string): MemoryUsage {
  return {
    anonBytes: counter(stat, anon) ?? 0,
    fileBytes: counter(stat, file) ?? 0,
    fileRefaults: counter(stat, 'workingset_refault_file'),
  };
}

/**
 * The memory cgroup of a host process, from /proc/<pid>/cgroup: the v1
 * memory hierarchy's line where that controller is on v1, else the v2 line.
 * Undefined when the directory cannot be found, as from inside another
 * cgroup namespace, whose paths are relative to its own root.
 */
export function memoryCgroupOf(pid: number): MemoryCgroup | undefined {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((line) => line.split(':'));
  const v1 = lines.find(([, controllers]) => controllers?.split(',').includes('memory') === true)?.[2];
  if (v1 !== undefined && existsSync(join('/sys/fs/cgroup/memory', v1, 'memory.limit_in_bytes'))) {
    const dir = join('/sys/fs/cgroup/memory', v1);
    const limited = (name: string): number | undefined => {
      const value = readNumber(join(dir, name));
      return value === undefined || value >= UNLIMITED_V1 ? undefined : value;
    };
    return {
      dir, version: 1,
      limitBytes: () => limited('memory.limit_in_bytes'),
      limitWithSwapBytes: () => limited('memory.memsw.limit_in_bytes'),
      peakBytes: () => readNumber(join(dir, 'memory.max_usage_in_bytes')),
      usage: () => usageFrom(readFileSync(join(dir, 'memory.stat'), 'utf8'), 'total_rss', 'total_cache'),
      oomKills: () => counter(readFileSync(join(dir, 'memory.oom_control'), 'utf8'), 'oom_kill') ?? 0,
    };
  }
  const v2 = lines.find(([hierarchy]) => hierarchy === '0')?.[2];
  if (v2 !== undefined && existsSync(join('/sys/fs/cgroup', v2, 'memory.max'))) {
    const dir = join('/sys/fs/cgroup', v2);
    return {
      dir, version: 2,
      limitBytes: () => readNumber(join(dir, 'memory.max')),
      limitWithSwapBytes: () => {
        const memory = readNumber(join(dir, 'memory.max'));
        const swap = readNumber(join(dir, 'memory.swap.max'));
        return memory === undefined || swap === undefined ? undefined : memory + swap;
      },
      peakBytes: () => readNumber(join(dir, 'memory.peak')),
      usage: () => usageFrom(readFileSync(join(dir, 'memory.stat'), 'utf8'), 'anon', 'file'),
      oomKills: () => counter(readFileSync(join(dir, 'memory.events'), 'utf8'), 'oom_kill') ?? 0,
    };
  }
  return undefined;
}
