// A replay of the kubelet's SetVolumeOwnership (pkg/volume/volume_linux.go),
// run when a pod sets securityContext.fsGroup. It walks the WHOLE volume,
// old timestamped directories, `..data` and the visible links included, and
// for every entry changes the group and adds group permission bits, even
// where nothing would change. Each chown and chmod is a notify_change(), so
// a watcher of the volume root receives IN_ATTRIB for the root itself (no
// name), for every entry in it, and a watcher of any directory inside sees
// the same for its children: a burst of metadata events with no content change.
import type { Stats } from 'node:fs';
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

// Group read (+write when the volume is writable); directories also get
// setgid, so new files inherit the group, and group/other execute.
const READ_ONLY_MASK = 0o440;
const READ_WRITE_MASK = 0o660;
const DIR_EXTRA = 0o2000 | 0o110;

export interface OwnershipChange {
  readonly op: 'lchown' | 'chmod';
  /** Relative to the volume root ('' is the root). */
  readonly path: string;
  readonly gid?: number;
  readonly mode?: number;
}

/** Runs one change; lets the caller log it or pause before it. */
export type OwnershipRunner = (change: OwnershipChange, action: () => Promise<void>) => Promise<void>;

const runDirectly: OwnershipRunner = (_change, action) => action();

/**
 * Walks `root` in lexical pre-order without following symlinks (Go's
 * filepath.Walk). For each entry: lchown(-1, gid); then, unless it is a
 * symlink (chmod would follow it and widen the target), chmod to its mode
 * plus the mask.
 */
export async function setVolumeOwnership(
  root: string,
  gid: number,
  readOnly: boolean,
  run: OwnershipRunner = runDirectly,
): Promise<void> {
  const mask = readOnly ? READ_ONLY_MASK : READ_WRITE_MASK;
  const visit = async (path: string, stats: Stats): Promise<void> => {
    const rel = relative(root, path);
    await run({ op: 'lchown', path: rel, gid }, () => lchown(path, -1, gid));
    if (stats.isSymbolicLink()) return;
    const mode = (stats.mode & 0o7777) | mask | (stats.isDirectory() ? DIR_EXTRA : 0);
    await run({ op: 'chmod', path: rel, mode }, () => chmod(path, mode));
    if (!stats.isDirectory()) return;
    for (const name of (await readdir(path)).sort()) {
      const child = join(path, name);
      await visit(child, await lstat(child));
    }
  };
  await visit(root, await lstat(root));
}
