// A replay of the kubelet's AtomicWriter (kubernetes pkg/volume/util/atomic_writer.go),
// the code that projects ConfigMap, Secret, downward API and projected volumes
// into a pod. Tests drive it against real directories so that inotify sees
// exactly the system calls, in exactly the order, a kubelet would make.
//
// The volume layout it maintains:
//
//   <volume>/..2026_11_25_12_34_56.123456789/   the real files (mode 0755 dir)
//   <volume>/..data -> ..2026_11_25_12_34_56.123456789
//   <volume>/app.conf -> ..data/app.conf        one link per top-level name;
//   <volume>/conf.d -> ..data/conf.d            nested keys share their first segment
//
// An update never touches the files a reader has open: it writes a new
// timestamped directory, points a new symlink `..data_tmp` at it, and
// rename(2)s that over `..data`, so the only change a watcher of the volume
// root sees at the moment of truth is IN_MOVED_FROM `..data_tmp` + IN_MOVED_TO
// `..data` with one cookie. The visible links never change target: they go
// through `..data`, so every file flips at once.
//
// Kubernetes >= 1.30 order (the default here):
//   compare  read ..data, walk the old dir, compare payload bytes with it; if
//            nothing differs and nothing was removed, only make sure the visible
//            links exist: a no-op resync reads and writes nothing else
//   create-dir   mkdir ..<timestamp> 0700 (Go's MkdirTemp), chmod 0755
//   write-files  mkdir -p for nested keys, write each file, chmod it (umask-proof)
//   fs-group     with fsGroup: chown group + chmod g+r over the WHOLE volume,
//                old content included (SetVolumeOwnership): an IN_ATTRIB storm
//   link-tmp     symlink ..data_tmp -> ..<timestamp>
//   swap         rename ..data_tmp over ..data (atomic)
//   visible-links  create missing top-level links (name -> ..data/name)
//   prune        remove top-level names no longer in the payload
//   remove-old   rm -r the previous timestamped directory
//
// `legacyOrder` replays the older writer: visible links are created before
// the swap (a new key's link dangles until the rename), a no-op returns before
// looking at links, and the fsGroup walk is run by the volume plugin after
// Write returns, on every sync, changed or not.
import { randomInt } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rename, rm, rmdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

import { hasCode } from '../../lib/errors';
import { setVolumeOwnership } from './volume-ownership';

/** The symlink readers go through; its target is the current timestamped directory. */
export const DATA_DIR = '..data';
/** The symlink built beside `..data`, then renamed over it. */
export const DATA_TMP = '..data_tmp';

const MAX_FILE_NAME = 255;
const MAX_PATH = 4096;
// Go's MkdirTemp gives up after this many name collisions.
const MAX_NAME_ATTEMPTS = 10000;

/** One file of a payload. */
export interface FileProjection {
  readonly data: string | Buffer;
  /** Permission bits, applied by chmod after the write so the umask cannot narrow them. */
  readonly mode: number;
  /** Owner for this file (projected service account tokens): chown(fsUser, fsGroup ?? -1) after the chmod. */
  readonly fsUser?: number;
  readonly fsGroup?: number;
}

/** Relative path (nested allowed: 'conf.d/site.conf') -> file. Paths may not start with '..'. */
export type Payload = Readonly<Record<string, FileProjection>>;

/** Which part of the algorithm a step belongs to, in the order of the default (>= 1.30) writer. */
export type WriterPhase =
  | 'compare' | 'create-dir' | 'write-files' | 'fs-group' | 'link-tmp'
  | 'swap' | 'visible-links' | 'prune' | 'remove-old';

export type WriterOp =
  | 'readlink' | 'lstat' | 'readFile' | 'readdir'
  | 'mkdir' | 'chmod' | 'chown' | 'lchown' | 'writeFile' | 'symlink' | 'rename' | 'remove' | 'removeAll';

/** One system-call-level step the writer took, in order. */
export interface WriterStep {
  readonly phase: WriterPhase;
  readonly op: WriterOp;
  /** Relative to the volume root ('' is the root itself). */
  readonly path: string;
  /** symlink: the link's target; rename: the destination. */
  readonly target?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** False for the reads the writer makes to decide what to do. */
  readonly mutates: boolean;
}

export interface AtomicWriterOptions {
  /** The pod's securityContext.fsGroup: run SetVolumeOwnership's walk over the volume. */
  readonly fsGroup?: number;
  /**
   * Whether the volume is mounted read-only, which decides the walk's chmod
   * mask: r--r----- (0440) when read-only, as ConfigMap, Secret, projected and
   * downward API volumes are; rw-rw---- (0660) otherwise. Default true.
   */
  readonly readOnly?: boolean;
  /** Replay the older writer; see the file header. */
  readonly legacyOrder?: boolean;
  /**
   * Names a new timestamped directory. Called again on a name collision (as
   * MkdirTemp retries), so it must not return the same name forever.
   * Default: {@link kubeletTimestampDirName}.
   */
  readonly timestampDirName?: (now: Date) => string;
  /** The clock the default name reads. */
  readonly now?: () => Date;
  /**
   * Called, and awaited, before each step runs: lets a test look at the
   * volume (or at a watcher) between any two system calls.
   */
  readonly beforeStep?: (step: WriterStep) => void | Promise<void>;
}

export interface WriteResult {
  /** False for a no-op: the payload matched what `..data` already held. */
  readonly changed: boolean;
  /** The timestamped directory `..data` pointed at before, if any. */
  readonly previousDir: string | undefined;
  /** The timestamped directory `..data` points at now. */
  readonly dataDir: string | undefined;
  /** Top-level visible links this write created. */
  readonly linked: readonly string[];
  /** Paths of the old content no longer in the payload (top-level ones were removed). */
  readonly removed: readonly string[];
  readonly steps: readonly WriterStep[];
}

/**
 * The kubelet's name for a new data directory: '..' + UTC time as
 * 2006_01_02_15_04_05 + '.' + a random decimal (Go's MkdirTemp suffix).
 */
export function kubeletTimestampDirName(now: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const stamp =
    `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_` +
    `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `..${stamp}.${randomInt(0, 2 ** 32 - 1)}`;
}

/** True for a timestamped data directory name (not `..data`, not `..data_tmp`). */
export function isTimestampDirName(name: string): boolean {
  return name.startsWith('..') && name !== DATA_DIR && name !== DATA_TMP && name.length > 2;
}

/**
 * Checks and normalizes payload paths with the kubelet's rules; throws an
 * error naming the path and the rule it broke.
 */
export function validatePayload(payload: Payload): Map<string, FileProjection> {
  const clean = new Map<string, FileProjection>();
  for (const [path, projection] of Object.entries(payload)) {
    const problem = pathProblem(path);
    if (problem !== undefined) {
      throw new Error(`AtomicWriter payload path ${JSON.stringify(path)} is invalid: ${problem}`);
    }
    if (!Number.isInteger(projection.mode) || projection.mode < 0 || projection.mode > 0o7777) {
      throw new Error(
        `AtomicWriter payload path ${JSON.stringify(path)}: mode ${String(projection.mode)} is invalid; ` +
          'expected permission bits between 0 and 0o7777, e.g. 0o644',
      );
    }
    clean.set(posix.normalize(path).replace(/\/+$/, ''), projection);
  }
  return clean;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'it must not be empty';
  if (path.startsWith('/')) return 'it must be relative';
  if (path.length > MAX_PATH) return `it must be at most ${MAX_PATH} characters`;
  const segments = path.split('/');
  if (segments.includes('..')) return "it must not contain '..' as an element";
  if (segments.some((segment) => segment.length > MAX_FILE_NAME)) {
    return `each element must be at most ${MAX_FILE_NAME} characters`;
  }
  const first = segments[0] ?? '';
  if (first.startsWith('..') && first.length > 2) return "it must not start with '..' (reserved for the writer)";
  return undefined;
}

/**
 * Projects payloads into `targetDir` as the kubelet does. Like the kubelet's,
 * it is not safe for concurrent use; overlapping writes are refused.
 */
export class AtomicWriter {
  readonly #options: AtomicWriterOptions;
  readonly #log: WriterStep[] = [];
  #lastPayload: Payload | undefined;
  #busy = false;

  constructor(readonly targetDir: string, options: AtomicWriterOptions = {}) {
    this.#options = options;
  }

  /** Every step of every write so far. */
  get steps(): readonly WriterStep[] {
    return this.#log;
  }

  /** The payload of the last successful write, which {@link resync} re-applies. */
  get payload(): Payload | undefined {
    return this.#lastPayload;
  }

  /** The directory `..data` points at, or undefined before the first write. */
  async currentDataDir(): Promise<string | undefined> {
    return readlinkOrUndefined(join(this.targetDir, DATA_DIR));
  }

  async write(payload: Payload): Promise<WriteResult> {
    if (this.#busy) {
      throw new Error(
        'AtomicWriter.write called while another write is in progress: await the first ' +
          '(the kubelet serializes writes to a volume)',
      );
    }
    this.#busy = true;
    try {
      const result = await this.#write(validatePayload(payload));
      this.#lastPayload = payload;
      return result;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The kubelet's periodic resync: writes the current payload again. With
   * nothing changed on the API server this reads and changes nothing.
   */
  async resync(): Promise<WriteResult> {
    if (this.#lastPayload === undefined) {
      throw new Error('AtomicWriter.resync called before any write: there is no payload to re-apply');
    }
    return this.write(this.#lastPayload);
  }

  async #write(payload: Map<string, FileProjection>): Promise<WriteResult> {
    await this.#requireTarget();
    const steps: WriterStep[] = [];
    const legacy = this.#options.legacyOrder === true;

    const previousDir = await this.#run(steps, { phase: 'compare', op: 'readlink', path: DATA_DIR, mutates: false }, () =>
      readlinkOrUndefined(join(this.targetDir, DATA_DIR)),
    );
    let removed: string[] = [];
    let changed = true;
    if (previousDir !== undefined) {
      removed = await this.#pathsToRemove(steps, payload, previousDir);
      const differs = await this.#payloadDiffers(steps, payload, previousDir);
      changed = differs || removed.length > 0;
    }

    let dataDir = previousDir;
    let linked: string[] = [];
    if (legacy) {
      if (changed) {
        dataDir = await this.#createDataDir(steps);
        await this.#writeFiles(steps, payload, dataDir);
        linked = await this.#createVisibleLinks(steps, payload);
        await this.#swap(steps, dataDir);
        await this.#prune(steps, removed);
        if (previousDir !== undefined) await this.#removeOld(steps, previousDir);
      }
      // The volume plugin ran SetVolumeOwnership after Write, on every sync.
      await this.#fsGroupWalk(steps);
    } else {
      if (changed) {
        dataDir = await this.#createDataDir(steps);
        await this.#writeFiles(steps, payload, dataDir);
        await this.#fsGroupWalk(steps);
        await this.#swap(steps, dataDir);
      }
      // Even a no-op makes sure the visible links exist (kubernetes issue 121472).
      linked = await this.#createVisibleLinks(steps, payload);
      await this.#prune(steps, removed);
      if (changed && previousDir !== undefined) await this.#removeOld(steps, previousDir);
    }
    return { changed, previousDir, dataDir, linked, removed, steps };
  }

  async #requireTarget(): Promise<void> {
    let stats: Stats;
    try {
      stats = await stat(this.targetDir);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) {
        throw new Error(`AtomicWriter target directory ${this.targetDir} does not exist; create the volume directory first`);
      }
      throw error;
    }
    if (!stats.isDirectory()) throw new Error(`AtomicWriter target ${this.targetDir} is not a directory`);
  }

  /** Old paths (files and directories) that no payload path or ancestor of one covers. */
  async #pathsToRemove(steps: WriterStep[], payload: Map<string, FileProjection>, oldDir: string): Promise<string[]> {
    const present: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      const path = posix.join(oldDir, relative);
      let names: string[];
      try {
        names = await this.#run(steps, { phase: 'compare', op: 'readdir', path, mutates: false }, () =>
          readdir(join(this.targetDir, path)),
        );
      } catch (error) {
        // Not a directory (a file) or gone: nothing below it.
        if (hasCode(error, 'ENOTDIR', 'ENOENT')) return;
        throw error;
      }
      for (const name of names.sort()) {
        const child = relative === '' ? name : `${relative}/${name}`;
        present.push(child);
        await walk(child);
      }
    };
    await walk('');
    const keep = new Set<string>();
    for (const path of payload.keys()) {
      for (let sub = path; sub !== '.' && sub !== ''; sub = posix.dirname(sub)) keep.add(sub);
    }
    return present.filter((path) => !keep.has(path));
  }

  async #payloadDiffers(steps: WriterStep[], payload: Map<string, FileProjection>, oldDir: string): Promise<boolean> {
    for (const [path, projection] of payload) {
      const oldPath = posix.join(oldDir, path);
      const exists = await this.#run(steps, { phase: 'compare', op: 'lstat', path: oldPath, mutates: false }, async () => {
        try {
          await lstat(join(this.targetDir, oldPath));
          return true;
        } catch (error) {
          if (hasCode(error, 'ENOENT')) return false;
          throw error;
        }
      });
      if (!exists) return true;
      const onDisk = await this.#run(steps, { phase: 'compare', op: 'readFile', path: oldPath, mutates: false }, () =>
        readFile(join(this.targetDir, oldPath)),
      );
      if (!onDisk.equals(toBuffer(projection.data))) return true;
    }
    return false;
  }

  async #createDataDir(steps: WriterStep[]): Promise<string> {
    const nameFor = this.#options.timestampDirName ?? kubeletTimestampDirName;
    const now = this.#options.now ?? ((): Date => new Date());
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      const name = nameFor(now());
      if (!isTimestampDirName(name) || name.includes('/')) {
        throw new Error(
          `timestampDirName returned ${JSON.stringify(name)}; expected a single name starting with '..', ` +
            `other than ${DATA_DIR} and ${DATA_TMP}`,
        );
      }
      try {
        await this.#run(steps, { phase: 'create-dir', op: 'mkdir', path: name, mode: 0o700, mutates: true }, () =>
          mkdir(join(this.targetDir, name), 0o700),
        );
      } catch (error) {
        if (hasCode(error, 'EEXIST')) continue;
        throw error;
      }
      // 0755 so group and other can traverse, whatever the umask.
      await this.#run(steps, { phase: 'create-dir', op: 'chmod', path: name, mode: 0o755, mutates: true }, () =>
        chmod(join(this.targetDir, name), 0o755),
      );
      return name;
    }
    throw new Error(`timestampDirName produced ${MAX_NAME_ATTEMPTS} names that all exist in ${this.targetDir}`);
  }

  async #writeFiles(steps: WriterStep[], payload: Map<string, FileProjection>, dataDir: string): Promise<void> {
    for (const [path, projection] of payload) {
      const relative = posix.join(dataDir, path);
      const full = join(this.targetDir, relative);
      const parent = posix.dirname(relative);
      if (parent !== dataDir) await this.#mkdirAll(steps, parent);
      await this.#run(steps, { phase: 'write-files', op: 'writeFile', path: relative, mode: projection.mode, mutates: true }, () =>
        writeFile(full, projection.data, { mode: projection.mode }),
      );
      // writeFile's mode passes through the umask; the kubelet wants it exact.
      await this.#run(steps, { phase: 'write-files', op: 'chmod', path: relative, mode: projection.mode, mutates: true }, () =>
        chmod(full, projection.mode),
      );
      if (projection.fsUser !== undefined) {
        const uid = projection.fsUser;
        const gid = projection.fsGroup ?? -1;
        await this.#run(steps, { phase: 'write-files', op: 'chown', path: relative, uid, gid, mutates: true }, () =>
          chown(full, uid, gid),
        );
      }
    }
  }

  /** MkdirAll(dir, 0777): creates each missing ancestor, outermost first. */
  async #mkdirAll(steps: WriterStep[], relative: string): Promise<void> {
    const exists = await this.#run(steps, { phase: 'write-files', op: 'lstat', path: relative, mutates: false }, async () => {
      try {
        return (await lstat(join(this.targetDir, relative))).isDirectory();
      } catch (error) {
        if (hasCode(error, 'ENOENT')) return false;
        throw error;
      }
    });
    if (exists) return;
    await this.#mkdirAll(steps, posix.dirname(relative));
    await this.#run(steps, { phase: 'write-files', op: 'mkdir', path: relative, mode: 0o777, mutates: true }, () =>
      mkdir(join(this.targetDir, relative), 0o777),
    );
  }

  async #fsGroupWalk(steps: WriterStep[]): Promise<void> {
    const gid = this.#options.fsGroup;
    if (gid === undefined) return;
    await setVolumeOwnership(this.targetDir, gid, this.#options.readOnly ?? true, (change, action) =>
      this.#run(steps, { phase: 'fs-group', mutates: true, ...change }, action),
    );
  }

  async #swap(steps: WriterStep[], dataDir: string): Promise<void> {
    const tmp = join(this.targetDir, DATA_TMP);
    await this.#run(steps, { phase: 'link-tmp', op: 'symlink', path: DATA_TMP, target: dataDir, mutates: true }, () =>
      symlink(dataDir, tmp),
    );
    try {
      await this.#run(steps, { phase: 'swap', op: 'rename', path: DATA_TMP, target: DATA_DIR, mutates: true }, () =>
        rename(tmp, join(this.targetDir, DATA_DIR)),
      );
    } catch (error) {
      // As the kubelet does: leave no half-made version behind.
      await rm(tmp, { force: true });
      await rm(join(this.targetDir, dataDir), { recursive: true, force: true });
      throw error;
    }
  }

  /** Links `name -> ..data/name` for each missing top-level name; returns those created. */
  async #createVisibleLinks(steps: WriterStep[], payload: Map<string, FileProjection>): Promise<string[]> {
    const created: string[] = [];
    for (const path of payload.keys()) {
      const top = path.split('/')[0] ?? path;
      const existing = await this.#run(steps, { phase: 'visible-links', op: 'readlink', path: top, mutates: false }, async () => {
        try {
          return await readlink(join(this.targetDir, top));
        } catch (error) {
          // EINVAL: something that is not a link; the kubelet leaves it alone.
          if (hasCode(error, 'ENOENT')) return undefined;
          if (hasCode(error, 'EINVAL')) return '';
          throw error;
        }
      });
      if (existing !== undefined) continue;
      const target = posix.join(DATA_DIR, top);
      await this.#run(steps, { phase: 'visible-links', op: 'symlink', path: top, target, mutates: true }, () =>
        symlink(target, join(this.targetDir, top)),
      );
      created.push(top);
    }
    return created;
  }

  /**
   * Removes the top-level names among `removed`; deeper paths vanished with
   * the old directory. Like the kubelet, tries them all and throws the last error.
   */
  async #prune(steps: WriterStep[], removed: readonly string[]): Promise<void> {
    let lastError: unknown;
    for (const path of removed) {
      if (path.includes('/')) continue;
      try {
        await this.#run(steps, { phase: 'prune', op: 'remove', path, mutates: true }, () =>
          removeEntry(join(this.targetDir, path)),
        );
      } catch (error) {
        lastError = error;
      }
    }
    if (lastError !== undefined) throw lastError;
  }

  async #removeOld(steps: WriterStep[], previousDir: string): Promise<void> {
    await this.#run(steps, { phase: 'remove-old', op: 'removeAll', path: previousDir, mutates: true }, () =>
      rm(join(this.targetDir, previousDir), { recursive: true, force: true }),
    );
  }

  async #run<T>(steps: WriterStep[], step: WriterStep, action: () => Promise<T>): Promise<T> {
    await this.#options.beforeStep?.(step);
    steps.push(step);
    this.#log.push(step);
    return action();
  }
}

/** Go's os.Remove: unlink, or rmdir when it is a directory. */
async function removeEntry(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!hasCode(error, 'EISDIR', 'EPERM')) throw error;
    await rmdir(path);
  }
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
