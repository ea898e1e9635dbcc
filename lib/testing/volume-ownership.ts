// A replay of the kubelet's SetVolumeOwnership (pkg/volume/volume_linux.go),
// which runs when a Pod sets securityContext.fsGroup. It walks the WHOLE
// volume, old timestamped directories, `..data` and the visible links
// included, and for every entry changes the group and adds group permission
// bits, even where nothing would change. Each chown and chmod is a
// notify_change(), so a watcher of the volume root receives IN_ATTRIB for the
// root itself (no name) and for every entry in it, and a watcher of any
// directory inside sees the same for its children: a burst of metadata
// events with no content change, which a reloader must not take for an update.
import type { Stats } from 'node:fs';
import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { replayAsync, replaySync, take, type Replay } from './steps';

// Group read (+write when the volume is writable); directories also get
// setgid, so new files inherit the group, and group/other execute.
const READ_ONLY_MASK = 0o440;
const READ_WRITE_MASK = 0o660;
const DIR_EXTRA = 0o2000 | 0o110;

/**
 * The walk, step by step: Go's filepath.Walk order (lexical pre-order, no
 * symlink followed). For each entry lchown(-1, gid); then, unless it is a
 * symlink (chmod would follow it and widen the target), chmod to its mode
 * plus the mask. The directory listings and lstat calls that steer the walk
 * are not steps: they change nothing a watcher sees.
 */
export function* volumeOwnershipReplay(root: string, gid: number, readOnly: boolean): Replay<void> {
  const mask = readOnly ? READ_ONLY_MASK : READ_WRITE_MASK;
  function* visit(path: string, stats: Stats): Replay<void> {
    const rel = relative(root, path);
    yield* take({ phase: 'fs-group', op: 'lchown', path: rel, gid, mutates: true }, () => lchownSync(path, -1, gid));
    if (stats.isSymbolicLink()) return;
    const mode = (stats.mode & 0o7777) | mask | (stats.isDirectory() ? DIR_EXTRA : 0);
    yield* take({ phase: 'fs-group', op: 'chmod', path: rel, mode, mutates: true }, () => chmodSync(path, mode));
    if (!stats.isDirectory()) return;
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      yield* visit(child, lstatSync(child));
    }
  }
  yield* visit(root, lstatSync(root));
}

/**
 * Runs the kubelet's fsGroup walk over the volume at `root`: every entry gets
 * group `gid` and group read (`readOnly`, the default, as ConfigMap, Secret,
 * projected and downward API volumes are mounted) or read-write permission.
 * Content is untouched. Lets the event loop turn between system calls.
 */
export function setVolumeOwnership(root: string, gid: number, readOnly = true): Promise<void> {
  return replayAsync(volumeOwnershipReplay(root, gid, readOnly), () => undefined);
}

/** {@link setVolumeOwnership}, without giving up the thread. */
export function setVolumeOwnershipSync(root: string, gid: number, readOnly = true): void {
  replaySync(volumeOwnershipReplay(root, gid, readOnly), () => undefined);
}
