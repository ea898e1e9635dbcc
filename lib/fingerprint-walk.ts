// The walk behind a fingerprint: what the app reads, through user-visible
// names, with bounds that hold whatever the configuration directory holds.
//
// - A kubelet volume is read through the payload directory `..data` names,
//   resolved once per walk (fingerprint.ts checks that it did not move).
// - Symbolic links are followed, as the app follows them, except into /proc,
//   /sys and /dev (endless or blocking files) and to a directory above the
//   link (a cycle that would walk the whole filesystem from `/`). Every
//   directory reached through a link is reported, so it can be watched too.
// - Caps on files, hashed bytes and depth keep one walk finite. A file past
//   the byte budget is fingerprinted by identity (inode, size, mtime), never
//   skipped: a change to it is still a change.
// - A file or directory that exists and cannot be read (EACCES, EPERM) is
//   fingerprinted by identity too, and named, so a caller can say so; the
//   kubelet writes new inodes at every commit, so its updates still change
//   the fingerprint.
// - ENOENT and ENOTDIR mean the entry went away during the walk: it is left
//   out, and the event that removed it asks for the next check. ELOOP and
//   ENAMETOOLONG do not go away by waiting: recorded as `error:<code>`.
//   Anything else (EMFILE, ENFILE, EIO, EAGAIN, ENOMEM, ...) says nothing
//   about the content: the walk stops with a FingerprintReadError rather
//   than return less than there is.
//
// The walk is a generator that yields when it has run for a slice of time,
// so an asynchronous caller can let the event loop breathe between slices.
import { type Dirent, type BigIntStats, closeSync, constants, fstatSync, openSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

import { forEachEntry } from './dir-entries';
import { errorCode } from './errors';
import { DATA_LINK, isInternalName, isKubeletVolume } from './kubelet-volume';
import { monotonicMs } from './monotonic-clock';

/** A path the walk did not take, or took only in part, and why. */
export interface FingerprintSkip {
  readonly path: string;
  readonly reason: string;
}

export interface FingerprintLimits {
  /** Files fingerprinted at most; the walk stops past it (default 10,000). */
  readonly maxFiles: number;
  /** Bytes of content hashed at most; later files count by identity (default 100 MiB). */
  readonly maxBytes: number;
  /** Directory levels below a configured directory (default 32). */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: FingerprintLimits = { maxFiles: 10_000, maxBytes: 100 * 1024 * 1024, maxDepth: 32 };

/** A read failed for a reason that says nothing about the content: try again later. */
export class FingerprintReadError extends Error {
  readonly code: string;
  readonly syscall: string;
  readonly path: string;
  constructor(cause: unknown, syscall: string, path: string) {
    const code = errorCode(cause) ?? 'UNKNOWN';
    super(`${code}: cannot ${syscall} '${path}' (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'FingerprintReadError';
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

/** Hashes content; keyed or not, decided by the caller. */
export type HasherFactory = () => { update(data: Buffer): void; digest(encoding: 'hex'): string };

export interface WalkResult {
  readonly files: Map<string, string>;
  readonly unreadable: string[];
  readonly skipped: FingerprintSkip[];
  readonly linkedDirs: Set<string>;
  /** `..data` targets as read at the start, by volume: fingerprint.ts checks them again at the end. */
  readonly commits: Map<string, string>;
}

/** Event-loop time one slice may take before the walk yields. */
const SLICE_MS = 8;
const SYSTEM_DIRS = ['/proc', '/sys', '/dev'];
const VANISHED = ['ENOENT', 'ENOTDIR'];
const UNREADABLE = ['EACCES', 'EPERM'];
const LASTING = ['ELOOP', 'ENAMETOOLONG'];

// One buffer for every read: a large Secret costs no allocation of its size.
const chunk = Buffer.allocUnsafeSlow(64 * 1024);

export class Walk {
  readonly result: WalkResult = { files: new Map(), unreadable: [], skipped: [], linkedDirs: new Set(), commits: new Map() };
  readonly #visited = new Set<string>();
  #bytes = 0;
  #byIdentityNoted = false;
  #stopped = false;
  #sliceStart = monotonicMs();

  constructor(private readonly limits: FingerprintLimits, private readonly hasher: HasherFactory) {}

  /** Walks every configured directory; yields when a slice of time is used up. */
  *run(dirs: readonly string[]): Generator<void, WalkResult> {
    for (const dir of dirs) {
      if (this.#stopped) break;
      yield* this.#directory(dir, dir, 0, false, undefined);
    }
    return this.result;
  }

  #due(): boolean {
    if (monotonicMs() - this.#sliceStart < SLICE_MS) return false;
    this.#sliceStart = monotonicMs();
    return true;
  }

  /**
   * @param commit the `..data` target of the kubelet volume this is inside, if any
   * @param viaLink reached through a symbolic link: reported for watching
   */
  *#directory(visible: string, real: string, depth: number, viaLink: boolean, commit: string | undefined): Generator<void> {
    let source = real;
    // A configured directory is usually a volume: one readlink tells. Below
    // it, where a volume is rare, an lstat that does not throw keeps a large
    // tree's walk fast.
    let target: string | undefined;
    if (depth === 0) {
      target = dataLinkOf(real);
    } else if (isKubeletVolume(real)) {
      target = readLink(join(real, DATA_LINK));
      if (target === undefined) return; // gone since the lstat: the event that removed it asks for a check
    }
    if (target !== undefined) {
      source = resolve(real, target);
      commit = target;
      this.result.commits.set(real, target);
    }
    let stat: BigIntStats;
    try {
      stat = statSync(source, { bigint: true });
    } catch (error) {
      this.#failed(error, 'stat', visible, undefined, commit);
      return;
    }
    const identity = `${stat.dev}:${stat.ino}`;
    if (this.#visited.has(identity)) return; // a second path to the same tree
    this.#visited.add(identity);
    if (viaLink) this.result.linkedDirs.add(realPath(source));

    const entries: Dirent[] = [];
    try {
      forEachEntry(source, (entry) => entries.push(entry), stat.size);
    } catch (error) {
      this.#failed(error, 'readdir', visible, stat, commit);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (this.#stopped) return;
      const name = entry.name;
      if (isInternalName(name)) continue;
      const entryVisible = join(visible, name);
      const entryReal = join(source, name);
      // The type from readdir saves a stat per file, which counts on the
      // reload path: a kubelet payload holds only regular files and
      // directories. Links (followed, as the app follows them) and
      // filesystems that report no types take a stat.
      if (entry.isFile()) {
        yield* this.#file(entryVisible, entryReal, undefined, commit);
        continue;
      }
      if (entry.isDirectory()) {
        yield* this.#subdirectory(entryVisible, entryReal, depth + 1, viaLink, commit);
        continue;
      }
      let target: BigIntStats;
      try {
        target = statSync(entryReal, { bigint: true });
      } catch (error) {
        this.#failed(error, 'stat', entryVisible, undefined, commit);
        continue;
      }
      const isLink = entry.isSymbolicLink();
      const resolved = isLink ? realPath(entryReal) : entryReal;
      if (isLink && isSystemPath(resolved)) {
        this.result.skipped.push({ path: entryVisible, reason: `not followed: it leads into ${resolved}, a system filesystem` });
        continue;
      }
      if (target.isDirectory()) {
        if (isLink && isWithin(realPath(source), resolved)) {
          this.result.skipped.push({ path: entryVisible, reason: `not followed: it leads to ${resolved}, a directory above it (a cycle)` });
          continue;
        }
        yield* this.#subdirectory(entryVisible, entryReal, depth + 1, viaLink || isLink, commit);
      } else if (target.isFile()) {
        if (isLink) this.result.linkedDirs.add(dirname(resolved));
        yield* this.#file(entryVisible, entryReal, target, commit);
      }
      // FIFOs, sockets and devices are not configuration, and reading one could block.
    }
  }

  *#subdirectory(visible: string, real: string, depth: number, viaLink: boolean, commit: string | undefined): Generator<void> {
    if (depth > this.limits.maxDepth) {
      this.result.skipped.push({ path: visible, reason: `not read: deeper than ${this.limits.maxDepth} levels` });
      return;
    }
    yield* this.#directory(visible, real, depth, viaLink, commit);
  }

  *#file(visible: string, real: string, known: BigIntStats | undefined, commit: string | undefined): Generator<void> {
    const files = this.result.files;
    if (files.size >= this.limits.maxFiles) {
      this.#stopped = true;
      this.result.skipped.push({ path: visible, reason: `not read, nor anything after it: more than ${this.limits.maxFiles} files` });
      return;
    }
    let fd: number;
    try {
      // O_NONBLOCK: should the file have been replaced by a FIFO since it was
      // listed, opening it must not wait for a writer.
      fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      this.#failed(error, 'open', visible, undefined, commit, real);
      return;
    }
    try {
      const hash = this.hasher();
      for (let first = true; ; first = false) {
        const length = readSync(fd, chunk, 0, chunk.length, null);
        if (length === 0) break;
        // A file that fits one read and the budget needs no look at its
        // size; a larger one is measured before it is read any further.
        if (first && (length === chunk.length || this.#bytes + length > this.limits.maxBytes)) {
          const stat = known ?? fstatSync(fd, { bigint: true });
          if (this.#bytes + Number(stat.size) > this.limits.maxBytes) {
            this.#countByIdentity(visible, stat);
            return;
          }
        }
        this.#bytes += length;
        hash.update(chunk.subarray(0, length));
        if (this.#due()) yield;
      }
      files.set(visible, hash.digest('hex'));
    } catch (error) {
      this.#failed(error, 'read', visible, undefined, commit, real);
    } finally {
      closeSync(fd);
    }
    if (this.#due()) yield;
  }

  #countByIdentity(visible: string, stat: BigIntStats): void {
    if (!this.#byIdentityNoted) {
      this.#byIdentityNoted = true;
      this.result.skipped.push({
        path: visible,
        reason: `content not hashed, from this file on: past ${this.limits.maxBytes} bytes; such files count by inode, size and mtime`,
      });
    }
    this.result.files.set(visible, `identity:${describeIdentity(stat)}`);
  }

  /** Decides what a failed call means for the fingerprint (see the top of this file). */
  #failed(error: unknown, syscall: string, visible: string, known: BigIntStats | undefined, commit: string | undefined, real = visible): void {
    const code = errorCode(error);
    if (code !== undefined && VANISHED.includes(code)) return;
    if (code !== undefined && LASTING.includes(code)) {
      this.result.files.set(visible, `error:${code}`);
      this.result.skipped.push({ path: visible, reason: `cannot ${syscall} it (${code})` });
      return;
    }
    if (code !== undefined && UNREADABLE.includes(code)) {
      let identity = '';
      try {
        identity = describeIdentity(known ?? statSync(real, { bigint: true }));
      } catch {
        // Not even its inode can be seen: the commit it belongs to is all there is.
      }
      this.result.files.set(visible, `unreadable:${identity}@${commit ?? ''}`);
      this.result.unreadable.push(visible);
      return;
    }
    throw new FingerprintReadError(error, syscall, visible);
  }
}

function describeIdentity(stat: BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && (VANISHED.includes(code) || code === 'EINVAL')) return undefined;
    throw new FingerprintReadError(error, 'readlink', path);
  }
}

/** The `..data` target of a kubelet volume; undefined for a directory that is not one, or cannot be read (its listing says so). */
function dataLinkOf(dir: string): string | undefined {
  const link = join(dir, DATA_LINK);
  try {
    return readlinkSync(link);
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && (VANISHED.includes(code) || UNREADABLE.includes(code) || code === 'EINVAL')) return undefined;
    throw new FingerprintReadError(error, 'readlink', link);
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isSystemPath(path: string): boolean {
  return SYSTEM_DIRS.some((dir) => path === dir || path.startsWith(dir + sep));
}

/** True when `inner` is `outer` or below it: the real path of a link's directory within its target. */
function isWithin(inner: string, outer: string): boolean {
  return inner === outer || outer === sep || inner.startsWith(outer + sep);
}
