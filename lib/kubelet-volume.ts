// How the kubelet updates ConfigMap, Secret, projected and downwardAPI volumes
// (its AtomicWriter), and what that means for a watcher:
//
//   1. write the payload into a fresh hidden directory `..<timestamp>`
//   2. symlink `..data_tmp` -> `..<timestamp>`
//   3. rename `..data_tmp` over `..data`        <- the commit point
//   4. create missing user-visible links `name -> ..data/name`, remove dropped ones
//   5. delete the previous `..<timestamp>` directory
//
// Every user-visible name resolves through `..data`, so the rename in step 3
// switches the whole volume at once. A watch on the volume root sees it as
// IN_MOVED_TO `..data` (kubelets before the atomic rename created it, so
// IN_CREATE `..data` counts too). The writes in step 1 happen inside a
// directory nobody watches and are invisible to a non-recursive root watch;
// the other root events are bookkeeping, never a change by themselves.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

import type { InotifyEvent } from './inotify';

/** The symlink every user-visible name resolves through; its target is the current `..<timestamp>` directory. */
export const DATA_LINK = '..data';
/** The symlink the kubelet builds beside `..data` and then renames over it: the commit. */
export const DATA_TMP_LINK = '..data_tmp';

/** Names the kubelet keeps to itself: `..data`, `..data_tmp`, `..<timestamp>` (any naming). */
export function isInternalName(name: string): boolean {
  return name.startsWith('..');
}

/** A directory is managed by the kubelet when `..data` is a symlink in it. */
export function isKubeletVolume(dir: string): boolean {
  try {
    // Most directories walked have no `..data`: not throwing for them keeps a
    // 10,000-directory walk fast.
    return lstatSync(join(dir, DATA_LINK), { throwIfNoEntry: false })?.isSymbolicLink() === true;
  } catch {
    return false; // ENOTDIR, EACCES: not a volume we can use either way
  }
}

/** The event that publishes a new version of the volume. */
export function isCommit(event: InotifyEvent): boolean {
  return event.name === DATA_LINK && (event.kind === 'moved_to' || event.kind === 'create');
}
