// A content fingerprint of what the app reads: every regular file reachable
// from the configured directories through user-visible names. A reload is
// sent only when it differs from the last one delivered, so bookkeeping
// events, chmod walks and rewrites of identical bytes never reach the app.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { errorCode } from '../errors';
import { readFileShared } from '../read-file-shared';
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
      stat = statSync(entryReal); // follows symlinks: the app reads through them
    } catch (error) {
      files.set(entryVisible, `error:${errorCode(error) ?? 'unknown'}`);
      continue;
    }
    if (stat.isDirectory()) {
      walk(entryVisible, entryReal, files, visited);
    } else if (stat.isFile()) {
      files.set(entryVisible, hashFile(entryReal, stat.size));
    }
    // FIFOs, sockets and devices are not configuration, and reading one could block.
  }
}

// Files up to this size are read into the buffer shared with the process
// lookup, which keeps that much between reads; larger ones get a buffer of
// their own, sized once from stat instead of by doubling.
const SHARED_READ_MAX = 64 * 1024;

function hashFile(path: string, size: number): string {
  try {
    const content = size <= SHARED_READ_MAX ? readFileShared(path) : readFileSync(path);
    return createHash('sha256').update(content).digest('hex');
  } catch (error) {
    return `error:${errorCode(error) ?? 'unknown'}`;
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
