// A replay of the kubelet's AtomicWriter (kubernetes pkg/volume/util/atomic_writer.go),
// the code that projects ConfigMap, Secret, downward API and projected volumes
// into a Pod, system call for system call, against a real directory: a watcher
// under test sees exactly what it would see on a node.
//
// The volume layout it maintains:
//
//   <volume>/..2026_11_25_12_34_56.123456789/   the real files (mode 0755 dir)
//   <volume>/..data -> ..2026_11_25_12_34_56.123456789
//   <volume>/app.conf -> ..data/app.conf        one link per top-level name;
//   <volume>/conf.d -> ..data/conf.d            nested keys share their first segment
//
// How an update is made, and why a watcher must act on the rename alone, is
// the AtomicWriter class's doc comment, where an embedder's editor shows it.
import { randomInt } from 'node:crypto';
import type { Stats } from 'node:fs';
import {
  chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync,
  statSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';

import { hasCode } from '../errors';
import { DATA_LINK, DATA_TMP_LINK } from '../kubelet-volume';
import { type FileProjection, type Payload, validatePayload } from './payloads';
import { replayAsync, replaySync, take, type Replay, type WriterStep } from './steps';
import { volumeOwnershipReplay } from './volume-ownership';

export { DATA_LINK, DATA_TMP_LINK };

// Go's MkdirTemp gives up after this many name collisions.
const MAX_NAME_ATTEMPTS = 10000;

/** How the kubelet on the simulated node writes the volume. */
export interface AtomicWriterOptions {
  /**
   * The Pod's securityContext.fsGroup: run SetVolumeOwnership's walk over the
   * whole volume on each write, which sends IN_ATTRIB for every entry.
   */
  readonly fsGroup?: number;
  /**
   * Whether the volume is mounted read-only, which decides the walk's chmod
   * mask: r--r----- (0440) when read-only, as ConfigMap, Secret, projected and
   * downward API volumes are; rw-rw---- (0660) otherwise. Default true.
   */
  readonly readOnly?: boolean;
  /**
   * Replay an older kubelet: links for new names before the swap, and
   * the fsGroup walk after every write, no-op resyncs included.
   */
  readonly legacyOrder?: boolean;
  /**
   * Names a new timestamped directory. Called again on a name collision (as
   * MkdirTemp retries), so it must not return the same name forever. Useful
   * to give tests predictable names ('..v1', '..v2'). Default:
   * {@link kubeletTimestampDirName}.
   */
  readonly timestampDirName?: (now: Date) => string;
  /** The clock the default directory name reads. */
  readonly now?: () => Date;
  /**
   * Called before each step is taken, and awaited by the asynchronous methods:
   * lets a test look at the volume, or at a watcher, between any two system
   * calls. The synchronous methods call it too, and refuse a hook that
   * returns a promise, since they cannot wait for it.
   */
  readonly beforeStep?: (step: WriterStep) => void | Promise<void>;
}

/** Options of one write. */
export interface WriteOptions {
  /**
   * Publish a new version even when the payload matches `..data` byte for
   * byte. One kubelet write never does this, but a watcher sees exactly this
   * when two commits land before it looks (an edit and its revert): a new
   * `..<timestamp>` directory holding the bytes it already had.
   */
  readonly force?: boolean;
}

/** A new version written beside the current one but not yet committed ({@link AtomicWriter.stageSync}). */
export interface StagedWrite {
  readonly payload: Payload;
  /** False when there is nothing to commit: the payload matched `..data` and nothing was removed. */
  readonly changed: boolean;
  /** The timestamped directory `..data` pointed at when the write began, if any. */
  readonly previousDir: string | undefined;
  /** The new timestamped directory (the previous one when nothing changed). */
  readonly dataDir: string | undefined;
  /** Paths of the previous version that this payload no longer has. */
  readonly removed: readonly string[];
}

/** What one write did. */
export interface WriteResult {
  /** False for a no-op: the payload matched what `..data` already held. */
  readonly changed: boolean;
  /** The timestamped directory `..data` pointed at before, if any. */
  readonly previousDir: string | undefined;
  /** The timestamped directory `..data` points at now. */
  readonly dataDir: string | undefined;
  /** Top-level visible links this write created. */
  readonly linked: readonly string[];
  /** Paths of the old content no longer in the payload (the top-level ones were removed). */
  readonly removed: readonly string[];
  /**
   * process.hrtime.bigint() read immediately before rename(2) of `..data_tmp`
   * over `..data`: on Linux that is CLOCK_MONOTONIC in nanoseconds, the clock
   * to measure update-to-reload latency against. Undefined when nothing was
   * committed.
   */
  readonly committedAt: bigint | undefined;
  /** Every step of this write, in order. */
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

/** True for a timestamped data directory name: starts with '..', is not `..data` or `..data_tmp`. */
export function isTimestampDirName(name: string): boolean {
  return name.startsWith('..') && name !== DATA_LINK && name !== DATA_TMP_LINK && name.length > 2;
}

/** A write between its stage and its tidy. */
interface WriteState {
  readonly staged: StagedWrite;
  readonly files: ReadonlyMap<string, FileProjection>;
  readonly steps: WriterStep[];
  linked: readonly string[];
  committedAt: bigint | undefined;
  swapped: boolean;
}

/**
 * Projects payloads into `targetDir` as the kubelet's AtomicWriter does, one
 * system call at a time, so that a watcher under test sees what it would see
 * on a node. An update never touches files a reader has open: it writes a new
 * `..<timestamp>` directory and renames a symlink `..data_tmp` over `..data`,
 * through which every visible name resolves. That rename is the commit, seen
 * by a watch on the volume root as IN_MOVED_FROM `..data_tmp` + IN_MOVED_TO
 * `..data` with one cookie. Every other event is bookkeeping: a reloader that
 * acts on one reloads too early, on half a version, or twice.
 *
 * The steps of one write, by phase (Kubernetes 1.30 and later):
 * 1. `compare`: readlink `..data`, walk the old directory, compare the bytes.
 *    With nothing changed and nothing removed, only the visible links are
 *    checked (kubernetes issue 121472): a no-op resync reads and writes nothing else.
 * 2. `create-dir`: mkdir `..<timestamp>` 0700 (Go's MkdirTemp), chmod 0755.
 * 3. `write-files`: mkdir -p for nested paths, write each file, chmod it.
 * 4. `fs-group` (with `fsGroup`): chown and chmod g+r over the WHOLE volume,
 *    old content included: IN_ATTRIB for every entry, no content change.
 * 5. `link-tmp`: symlink `..data_tmp` -> `..<timestamp>`.
 * 6. `swap`: rename `..data_tmp` over `..data`, the commit.
 * 7. `visible-links`: create missing top-level links `name -> ..data/name`.
 * 8. `prune`: remove top-level names the payload no longer has.
 * 9. `remove-old`: rm -r the previous `..<timestamp>` directory.
 *
 * With `legacyOrder` (older kubelets) the visible links come before the
 * swap, so a new name's link dangles until the commit; a no-op returns after
 * the compare; and the fsGroup walk runs after every write, no-ops included.
 *
 * Two ways to drive it, one sequence of steps:
 * - `write()` / `resync()` are asynchronous: they await `beforeStep` before
 *   each step and let the event loop turn between steps, so a watcher in the
 *   same process reads events while the write goes on, as it would while a
 *   kubelet in another process writes.
 * - `writeSync()` / `resyncSync()` take every step without giving up the
 *   thread; `stageSync()`, `swapSync()` and `tidySync()` split one write at
 *   its commit, so a test can commit at an exact instant, commit twice within
 *   microseconds, or leave the bookkeeping for later.
 *
 * Like the kubelet's, a writer is not safe for concurrent use: a call made
 * while a write is in progress is refused. `targetDir` must exist.
 */
export class AtomicWriter {
  readonly #options: AtomicWriterOptions;
  readonly #log: WriterStep[] = [];
  readonly #staged = new Map<StagedWrite, WriteState>();
  /** The directory `..data` points at, as this writer last read or made it. */
  #current: string | undefined;
  /** Directories swapped out of `..data` and not yet removed. */
  readonly #retired: string[] = [];
  #lastPayload: Payload | undefined;
  #busy = false;

  constructor(readonly targetDir: string, options: AtomicWriterOptions = {}) {
    this.#options = options;
  }

  /** Every step of every write so far. */
  get steps(): readonly WriterStep[] {
    return this.#log;
  }

  /** The payload of the last completed write, which a resync re-applies. */
  get payload(): Payload | undefined {
    return this.#lastPayload;
  }

  /** The directory `..data` points at now, or undefined before the first write. */
  currentDataDir(): string | undefined {
    return readlinkOrUndefined(join(this.targetDir, DATA_LINK));
  }

  /** One kubelet sync of the volume with `payload`. */
  async write(payload: Payload, options: WriteOptions = {}): Promise<WriteResult> {
    this.#enter('write');
    try {
      const steps: WriterStep[] = [];
      return await this.#runAsync(this.#write(payload, options.force === true, steps), steps);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The kubelet's periodic resync: writes the last payload again. With nothing
   * changed on the API server this reads and changes nothing.
   */
  async resync(): Promise<WriteResult> {
    return this.write(this.#requirePayload('resync'));
  }

  /** {@link write}, without giving up the thread. */
  writeSync(payload: Payload, options: WriteOptions = {}): WriteResult {
    return this.#exclusiveSync('writeSync', () => {
      const steps: WriterStep[] = [];
      return this.#runSync(this.#write(payload, options.force === true, steps), steps);
    });
  }

  /** {@link resync}, without giving up the thread. */
  resyncSync(): WriteResult {
    return this.writeSync(this.#requirePayload('resyncSync'));
  }

  /**
   * The first half of a write, up to the commit: compares `payload` with
   * `..data` and, when it differs, writes it into a new timestamped directory
   * (with fsGroup, the walk too). Readers of the visible names still see the
   * current version. Several versions may be staged before any is swapped in;
   * each compares itself with the version current when it was staged.
   */
  stageSync(payload: Payload, options: WriteOptions = {}): StagedWrite {
    return this.#exclusiveSync('stageSync', () => {
      const steps: WriterStep[] = [];
      const state = this.#runSync(this.#stage(payload, options.force === true, steps), steps);
      this.#staged.set(state.staged, state);
      return state.staged;
    });
  }

  /**
   * The commit alone: symlink `..data_tmp` to the staged directory and rename
   * it over `..data`. Returns process.hrtime.bigint() read immediately before
   * the rename, or undefined when the staged write had nothing to commit.
   */
  swapSync(staged: StagedWrite): bigint | undefined {
    return this.#exclusiveSync('swapSync', () => {
      const state = this.#pending('swapSync', staged);
      if (state.swapped) throw new Error('AtomicWriter.swapSync: this staged write was already swapped in; stage a new one');
      if (!staged.changed) return undefined;
      this.#runSync(this.#swap(state), state.steps);
      return state.committedAt;
    });
  }

  /**
   * The bookkeeping after the commit: links for the payload's new names,
   * removes names it no longer has, and deletes every directory swapped out
   * of `..data` since the last tidy. Returns the whole write's result.
   */
  tidySync(staged: StagedWrite): WriteResult {
    return this.#exclusiveSync('tidySync', () => {
      const state = this.#pending('tidySync', staged);
      if (staged.changed && !state.swapped) {
        throw new Error('AtomicWriter.tidySync: this staged write was never swapped in; call swapSync(staged) first');
      }
      const result = this.#runSync(this.#tidy(state), state.steps);
      this.#staged.delete(staged);
      return result;
    });
  }

  #enter(method: string): void {
    if (this.#busy) {
      throw new Error(
        `AtomicWriter.${method} called while another write is in progress: wait for the first ` +
          '(the kubelet serializes writes to a volume)',
      );
    }
    this.#busy = true;
  }

  #exclusiveSync<T>(method: string, body: () => T): T {
    this.#enter(method);
    try {
      return body();
    } finally {
      this.#busy = false;
    }
  }

  #requirePayload(method: string): Payload {
    if (this.#lastPayload === undefined) {
      throw new Error(`AtomicWriter.${method} called before any write: there is no payload to re-apply`);
    }
    return this.#lastPayload;
  }

  #pending(method: string, staged: StagedWrite): WriteState {
    const state = this.#staged.get(staged);
    if (state === undefined) {
      throw new Error(`AtomicWriter.${method}: this write was not staged by this writer with stageSync(), or was already tidied`);
    }
    return state;
  }

  #runSync<T>(replay: Replay<T>, steps: WriterStep[]): T {
    return replaySync(replay, (step) => {
      const pending = this.#options.beforeStep?.(step);
      if (pending instanceof Promise) {
        // The error below is what the caller needs to see; the hook's own outcome no longer matters.
        pending.catch(() => undefined);
        throw new Error(
          'AtomicWriter: beforeStep returned a promise, which the synchronous methods cannot wait for; ' +
            'use write() or make the hook synchronous',
        );
      }
      this.#record(step, steps);
    });
  }

  #runAsync<T>(replay: Replay<T>, steps: WriterStep[]): Promise<T> {
    return replayAsync(replay, async (step) => {
      await this.#options.beforeStep?.(step);
      this.#record(step, steps);
    });
  }

  #record(step: WriterStep, steps: WriterStep[]): void {
    steps.push(step);
    this.#log.push(step);
  }

  *#write(payload: Payload, force: boolean, steps: WriterStep[]): Replay<WriteResult> {
    const state = yield* this.#stage(payload, force, steps);
    if (state.staged.changed) yield* this.#swap(state);
    return yield* this.#tidy(state);
  }

  *#stage(payload: Payload, force: boolean, steps: WriterStep[]): Replay<WriteState> {
    const files = validatePayload(payload);
    this.#requireTarget();
    const previousDir = yield* take({ phase: 'compare', op: 'readlink', path: DATA_LINK, mutates: false }, () =>
      readlinkOrUndefined(join(this.targetDir, DATA_LINK)),
    );
    this.#current = previousDir;
    let removed: string[] = [];
    let changed = true;
    if (previousDir !== undefined) {
      removed = yield* this.#pathsToRemove(files, previousDir);
      const differs = yield* this.#payloadDiffers(files, previousDir);
      changed = differs || removed.length > 0 || force;
    }
    let dataDir = previousDir;
    let linked: string[] = [];
    if (changed) {
      dataDir = yield* this.#createDataDir();
      yield* this.#writeFiles(files, dataDir);
      if (this.#options.legacyOrder === true) linked = yield* this.#createVisibleLinks(files);
      else yield* this.#fsGroupWalk();
    }
    const staged: StagedWrite = Object.freeze({ payload, changed, previousDir, dataDir, removed });
    return { staged, files, steps, linked, committedAt: undefined, swapped: false };
  }

  *#swap(state: WriteState): Replay<void> {
    const dataDir = state.staged.dataDir;
    if (dataDir === undefined) throw new Error('AtomicWriter: a changed write without a new data directory (a bug in the writer)');
    const tmp = join(this.targetDir, DATA_TMP_LINK);
    yield* take({ phase: 'link-tmp', op: 'symlink', path: DATA_TMP_LINK, target: dataDir, mutates: true }, () =>
      symlinkSync(dataDir, tmp),
    );
    try {
      yield* take({ phase: 'swap', op: 'rename', path: DATA_TMP_LINK, target: DATA_LINK, mutates: true }, () => {
        state.committedAt = process.hrtime.bigint();
        renameSync(tmp, join(this.targetDir, DATA_LINK));
      });
    } catch (error) {
      // As the kubelet does: leave no half-made version behind.
      rmSync(tmp, { force: true });
      rmSync(join(this.targetDir, dataDir), { recursive: true, force: true });
      throw error;
    }
    if (this.#current !== undefined) this.#retired.push(this.#current);
    this.#current = dataDir;
    state.swapped = true;
  }

  *#tidy(state: WriteState): Replay<WriteResult> {
    const legacy = this.#options.legacyOrder === true;
    // Even a no-op makes sure the visible links exist (kubernetes issue 121472).
    if (!legacy) state.linked = yield* this.#createVisibleLinks(state.files);
    yield* this.#prune(state.staged.removed);
    for (const old of [...this.#retired]) {
      yield* take({ phase: 'remove-old', op: 'removeAll', path: old, mutates: true }, () =>
        rmSync(join(this.targetDir, old), { recursive: true, force: true }),
      );
      this.#retired.shift();
    }
    // The volume plugin ran SetVolumeOwnership after Write, on every sync.
    if (legacy) yield* this.#fsGroupWalk();
    this.#lastPayload = state.staged.payload;
    const { changed, previousDir, dataDir, removed } = state.staged;
    return { changed, previousDir, dataDir, linked: state.linked, removed, committedAt: state.committedAt, steps: state.steps };
  }

  #requireTarget(): void {
    let stats: Stats;
    try {
      stats = statSync(this.targetDir);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) {
        throw new Error(`AtomicWriter target directory ${this.targetDir} does not exist; create the volume directory first`);
      }
      throw error;
    }
    if (!stats.isDirectory()) throw new Error(`AtomicWriter target ${this.targetDir} is not a directory`);
  }

  /** Old paths (files and directories) that no payload path or ancestor of one covers. */
  *#pathsToRemove(files: ReadonlyMap<string, FileProjection>, oldDir: string): Replay<string[]> {
    const present: string[] = [];
    const targetDir = this.targetDir;
    function* walk(relative: string): Replay<void> {
      const path = posix.join(oldDir, relative);
      let names: string[];
      try {
        names = yield* take({ phase: 'compare', op: 'readdir', path, mutates: false }, () => readdirSync(join(targetDir, path)));
      } catch (error) {
        // Not a directory (a file) or gone: nothing below it.
        if (hasCode(error, 'ENOTDIR', 'ENOENT')) return;
        throw error;
      }
      for (const name of names.sort()) {
        const child = relative === '' ? name : `${relative}/${name}`;
        present.push(child);
        yield* walk(child);
      }
    }
    yield* walk('');
    const keep = new Set<string>();
    for (const path of files.keys()) {
      for (let sub = path; sub !== '.' && sub !== ''; sub = posix.dirname(sub)) keep.add(sub);
    }
    return present.filter((path) => !keep.has(path));
  }

  /** The kubelet compares bytes only: a mode-only change is not written. */
  *#payloadDiffers(files: ReadonlyMap<string, FileProjection>, oldDir: string): Replay<boolean> {
    for (const [path, projection] of files) {
      const oldPath = posix.join(oldDir, path);
      const full = join(this.targetDir, oldPath);
      const exists = yield* take({ phase: 'compare', op: 'lstat', path: oldPath, mutates: false }, () =>
        lstatSync(full, { throwIfNoEntry: false }) !== undefined,
      );
      if (!exists) return true;
      const onDisk = yield* take({ phase: 'compare', op: 'readFile', path: oldPath, mutates: false }, () => readFileSync(full));
      if (!onDisk.equals(toBuffer(projection.data))) return true;
    }
    return false;
  }

  *#createDataDir(): Replay<string> {
    const nameFor = this.#options.timestampDirName ?? kubeletTimestampDirName;
    const now = this.#options.now ?? ((): Date => new Date());
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      const name = nameFor(now());
      if (!isTimestampDirName(name) || name.includes('/')) {
        throw new Error(
          `timestampDirName returned ${JSON.stringify(name)}; expected a single name starting with '..', ` +
            `other than ${DATA_LINK} and ${DATA_TMP_LINK}`,
        );
      }
      const full = join(this.targetDir, name);
      try {
        yield* take({ phase: 'create-dir', op: 'mkdir', path: name, mode: 0o700, mutates: true }, () => mkdirSync(full, 0o700));
      } catch (error) {
        if (hasCode(error, 'EEXIST')) continue;
        throw error;
      }
      // 0755 so that group and other can traverse it, whatever the umask.
      yield* take({ phase: 'create-dir', op: 'chmod', path: name, mode: 0o755, mutates: true }, () => chmodSync(full, 0o755));
      return name;
    }
    throw new Error(`timestampDirName produced ${MAX_NAME_ATTEMPTS} names that all exist in ${this.targetDir}`);
  }

  *#writeFiles(files: ReadonlyMap<string, FileProjection>, dataDir: string): Replay<void> {
    for (const [path, projection] of files) {
      const relative = posix.join(dataDir, path);
      const full = join(this.targetDir, relative);
      const parent = posix.dirname(relative);
      if (parent !== dataDir) yield* this.#mkdirAll(parent);
      yield* take({ phase: 'write-files', op: 'writeFile', path: relative, mode: projection.mode, mutates: true }, () =>
        writeFileSync(full, projection.data, { mode: projection.mode }),
      );
      // The mode given to open(2) passes through the umask; the kubelet wants it exact.
      yield* take({ phase: 'write-files', op: 'chmod', path: relative, mode: projection.mode, mutates: true }, () =>
        chmodSync(full, projection.mode),
      );
      if (projection.fsUser !== undefined) {
        const uid = projection.fsUser;
        const gid = projection.fsGroup ?? -1;
        yield* take({ phase: 'write-files', op: 'chown', path: relative, uid, gid, mutates: true }, () => chownSync(full, uid, gid));
      }
    }
  }

  /** MkdirAll(dir, 0777): creates each missing ancestor, outermost first. */
  *#mkdirAll(relative: string): Replay<void> {
    const full = join(this.targetDir, relative);
    const exists = yield* take({ phase: 'write-files', op: 'lstat', path: relative, mutates: false }, () =>
      lstatSync(full, { throwIfNoEntry: false })?.isDirectory() === true,
    );
    if (exists) return;
    yield* this.#mkdirAll(posix.dirname(relative));
    yield* take({ phase: 'write-files', op: 'mkdir', path: relative, mode: 0o777, mutates: true }, () => mkdirSync(full, 0o777));
  }

  *#fsGroupWalk(): Replay<void> {
    const gid = this.#options.fsGroup;
    if (gid === undefined) return;
    yield* volumeOwnershipReplay(this.targetDir, gid, this.#options.readOnly ?? true);
  }

  /** Links `name -> ..data/name` for each missing top-level name; returns those created. */
  *#createVisibleLinks(files: ReadonlyMap<string, FileProjection>): Replay<string[]> {
    const created: string[] = [];
    for (const path of files.keys()) {
      const top = path.split('/')[0] ?? path;
      const link = join(this.targetDir, top);
      const missing = yield* take({ phase: 'visible-links', op: 'readlink', path: top, mutates: false }, () => {
        try {
          readlinkSync(link);
          return false;
        } catch (error) {
          // EINVAL: something that is not a link; the kubelet leaves it alone.
          if (hasCode(error, 'ENOENT')) return true;
          if (hasCode(error, 'EINVAL')) return false;
          throw error;
        }
      });
      if (!missing) continue;
      const target = posix.join(DATA_LINK, top);
      yield* take({ phase: 'visible-links', op: 'symlink', path: top, target, mutates: true }, () => symlinkSync(target, link));
      created.push(top);
    }
    return created;
  }

  /**
   * Removes the top-level names among `removed`; deeper paths went with the
   * old directory. Like the kubelet, tries them all and throws the last error.
   */
  *#prune(removed: readonly string[]): Replay<void> {
    let lastError: unknown;
    for (const path of removed) {
      if (path.includes('/')) continue;
      try {
        yield* take({ phase: 'prune', op: 'remove', path, mutates: true }, () => removeEntry(join(this.targetDir, path)));
      } catch (error) {
        lastError = error;
      }
    }
    if (lastError !== undefined) throw lastError;
  }
}

/** Go's os.Remove: unlink, or rmdir when it is a directory. */
function removeEntry(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!hasCode(error, 'EISDIR', 'EPERM')) throw error;
    rmdirSync(path);
  }
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
