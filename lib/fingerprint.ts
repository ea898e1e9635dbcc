// A content fingerprint of what the app reads: every regular file reachable
// from the configured directories through user-visible names. A reload is
// sent only when it differs from the last one delivered, so bookkeeping
// events, chmod walks and rewrites of identical bytes never reach the app.
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { forEachEntry } from './dir-entries';
import { errorCode } from './errors';
import { DATA_LINK, isInternalName, isKubeletVolume } from './kubelet-volume';

export interface Fingerprint {
  /** sha256 over every file's path and content hash, hex. */
  readonly digest: string;
  /** User-visible path -> sha256 of its content (or `error:<code>` when unreadable). */
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Reads and hashes the tree synchronously: configuration is small, and a
 * synchronous walk is both the fastest and the simplest way to take one
 * consistent look right after the kubelet's commit.
 *
 * For a kubelet volume the walk reads through `..data`, whose top-level names
 * are exactly the user-visible ones once the kubelet finishes its update. The
 * fingerprint taken at the commit point therefore already includes a key whose
 * link the kubelet creates a moment later.
 */
export function fingerprint(dirs: readonly string[]): Fingerprint {
  const files = new Map<string, string>();
  const visited = new Set<string>();
  for (const dir of dirs) walk(dir, dir, files, visited);
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${files.get(path) ?? ''}\n`);
  return { digest: hash.digest('hex'), files };
}

function walk(visiblePath: string, realPath: string, files: Map<string, string>, visited: Set<string>): void {
  const source = isKubeletVolume(realPath) ? join(realPath, DATA_LINK) : realPath;
  let identity: string;
  try {
    const stat = statSync(source);
    identity = `${stat.dev}:${stat.ino}`;
  } catch {
    return; // vanished between the event and the walk; the next event catches up
  }
  if (visited.has(identity)) return; // a symlink loop or a second path to the same tree
  visited.add(identity);

  // Subdirectories are walked once this listing is closed: one directory
  // descriptor open at a time, however deep the tree.
  const subdirectories: Array<[visible: string, real: string]> = [];
  try {
    forEachEntry(source, (entry) => {
      const name = entry.name;
      if (isInternalName(name)) return;
      const entryVisible = join(visiblePath, name);
      const entryReal = join(source, name);
      // The entry's type from readdir saves a stat per file, which counts on
      // the reload path: a kubelet payload holds only regular files and
      // directories. Symbolic links (followed, as the app follows them) and
      // filesystems that do not report types take a stat.
      if (entry.isFile()) {
        files.set(entryVisible, hashFile(entryReal));
        return;
      }
      let stat;
      try {
        stat = entry.isDirectory() ? undefined : statSync(entryReal);
      } catch (error) {
        files.set(entryVisible, `error:${errorCode(error) ?? 'unknown'}`);
        return;
      }
      if (stat === undefined || stat.isDirectory()) {
        subdirectories.push([entryVisible, entryReal]);
      } else if (stat.isFile()) {
        files.set(entryVisible, hashFile(entryReal));
      }
      // FIFOs, sockets and devices are not configuration, and reading one could block.
    });
  } catch {
    return;
  }
  for (const [entryVisible, entryReal] of subdirectories) walk(entryVisible, entryReal, files, visited);
}

// Files are hashed in chunks through one buffer, so a large Secret costs
// no allocation of its size.
const chunk = Buffer.allocUnsafeSlow(16 * 1024);

function hashFile(path: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: should the file have been replaced by a FIFO since it was
    // listed, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return `error:${errorCode(error) ?? 'unknown'}`;
  }
  try {
    const hash = createHash('sha256');
    for (;;) {
      const length = readSync(fd, chunk, 0, chunk.length, null);
      if (length === 0) return hash.digest('hex');
      hash.update(chunk.subarray(0, length));
    }
  } catch (error) {
    return `error:${errorCode(error) ?? 'unknown'}`;
  } finally {
    closeSync(fd);
  }
}

export interface FileChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

export function diffFingerprints(before: Fingerprint, after: Fingerprint): FileChanges {
  const added: string[] = [];
  const modified: string[] = [];
  for (const [path, hash] of after.files) {
    const old = before.files.get(path);
    if (old === undefined) added.push(path);
    else if (old !== hash) modified.push(path);
  }
  const removed = [...before.files.keys()].filter((path) => !after.files.has(path));
  return { added: added.sort(), removed: removed.sort(), modified: modified.sort() };
}
