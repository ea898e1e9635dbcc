// What a process's file descriptors point to, read from /proc/<pid>/fd: a
// pidfd reads as `anon_inode:[pidfd]`, a held status file as
// `/proc/<pid>/status`. For tests that prove nothing leaks and that the
// sidecar holds exactly what it should.
import { readdirSync, readlinkSync } from 'node:fs';

import { hasCode } from '../../lib/errors';

/**
 * The targets of `pid`'s descriptors, sorted. A descriptor closed while the
 * list is read (the one readdir itself used) is left out.
 */
export function openDescriptors(pid: number | 'self' = 'self'): string[] {
  const dir = `/proc/${pid}/fd`;
  const targets: string[] = [];
  for (const fd of readdirSync(dir)) {
    try {
      targets.push(readlinkSync(`${dir}/${fd}`));
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
  }
  return targets.sort();
}

/** The descriptors in `after` that are not in `before`, as a multiset difference. */
export function addedDescriptors(before: readonly string[], after: readonly string[]): string[] {
  const left = [...before];
  return after.filter((target) => {
    const index = left.indexOf(target);
    if (index < 0) return true;
    left.splice(index, 1);
    return false;
  });
}

/** What `pid` holds on other processes, sorted: its pidfds and /proc/<pid>/status files (ProcessHandles). */
export function processHandleDescriptors(pid: number): string[] {
  return openDescriptors(pid).filter((target) => target === 'anon_inode:[pidfd]' || /^\/proc\/\d+\/status$/.test(target));
}
