// A directory tree watched recursively on a shared inotify instance, with
// every watched directory's CURRENT path.
//
// inotify watches inodes, not paths, and is not recursive:
// - A new subdirectory must be watched as it appears. It is listed after its
//   watch is in place, so nothing created inside it in between is missed:
//   what the listing finds was made before the watch, when no event could be
//   queued for it, and is reported as found.
// - A renamed directory keeps its watch (and its wd), and so do all the
//   directories below it: only their paths change. The rename arrives as
//   IN_MOVED_FROM in the old parent and IN_MOVED_TO in the new one, with one
//   cookie, queued one right after the other by the same rename(2). A
//   moved_from whose moved_to does not follow by the end of the batch left
//   the tree: its watches are released.
// - A watch that cannot be added (EACCES on a directory of another user,
//   ENOSPC at the watch limit, ENAMETOOLONG) is a problem reported for that
//   directory; the rest of the tree is watched regardless, and the owner
//   may try it again (retryProblems).
import { join, sep } from 'node:path';

import { forEachEntry } from './dir-entries';
import { hasCode } from './errors';
import type { InotifyEvent } from './inotify';
import { IN_ONLYDIR } from './inotify-flags';
import type { WatchOwner, WatchRouter } from './watch-router';

/** A directory of the tree that could not be watched, and why. */
export interface WatchProblem {
  readonly path: string;
  readonly error: Error;
}

export interface WatchTreeHooks {
  /** Every event of the tree, with the entry's current absolute path. */
  onEvent(event: InotifyEvent, path: string): void;
  /** An entry already inside a directory that appeared after the tree was established. */
  onFound?(path: string, name: string, isDir: boolean): void;
  /** A directory could not be watched (its subtree neither). */
  onProblem(problem: WatchProblem): void;
  /** The root itself was deleted, moved away or unmounted: the tree is closed. */
  onRootLost(why: string): void;
  /** Names never watched below the root, e.g. the kubelet's `..` entries. */
  skip?(name: string): boolean;
}

export class WatchTree implements WatchOwner {
  /** wd -> the directory's current path. */
  readonly #paths = new Map<number, string>();
  /** Problems by path, cleared when the directory is watched or leaves the tree. */
  readonly #problems = new Map<string, WatchProblem>();
  /** A directory moved out of its parent whose arrival (moved_to) may come next. */
  #departed: { readonly cookie: number; readonly path: string } | undefined;
  #closed = false;

  constructor(
    readonly root: string,
    private readonly router: WatchRouter,
    private readonly mask: number,
    private readonly hooks: WatchTreeHooks,
  ) {}

  get size(): number {
    return this.#paths.size;
  }

  get problems(): readonly WatchProblem[] {
    return [...this.#problems.values()];
  }

  /** The watched directories' current paths. */
  get directories(): IterableIterator<string> {
    return this.#paths.values();
  }

  /** Watches the root and everything below it. The root's own failure is thrown. */
  establish(): void {
    this.#closed = false;
    this.#watch(this.root, true);
  }

  /** After a queue overflow: watches directories whose creation events were lost. */
  rescan(): void {
    if (this.#closed) return;
    this.#settleDeparture();
    for (const path of [...this.#paths.values()]) this.#watch(path, false);
    this.retryProblems();
  }

  /** Tries the directories that could not be watched again: the cause may be gone. */
  retryProblems(): void {
    if (this.#closed) return;
    for (const path of [...this.#problems.keys()]) this.#watch(path, false);
  }

  close(): void {
    this.#closed = true;
    this.#departed = undefined;
    for (const wd of [...this.#paths.keys()]) this.router.release(wd, this);
    this.#paths.clear();
    this.#problems.clear();
  }

  /** Ends a batch: a directory moved out without arriving anywhere in the tree has left it. */
  endBatch(): void {
    this.#settleDeparture();
  }

  handle(event: InotifyEvent): void {
    const dir = this.#paths.get(event.wd);
    if (dir === undefined) return;
    if (event.kind === 'ignored') {
      this.#paths.delete(event.wd);
      if (dir === this.root) this.#loseRoot('its watch was removed (deleted or unmounted)');
      return;
    }
    if (event.name === undefined) {
      // An event on a watched directory itself: a subdirectory's deletion or
      // move is reported, with its name, by its parent's watch.
      if (dir === this.root && (event.kind === 'delete_self' || event.kind === 'move_self' || event.kind === 'unmount')) {
        this.#loseRoot(event.kind === 'delete_self' ? 'it was deleted' : event.kind === 'move_self' ? 'it was moved away' : 'it was unmounted');
        return;
      }
      this.hooks.onEvent(event, dir);
      return;
    }
    if (this.#departed !== undefined && !(event.kind === 'moved_to' && event.cookie === this.#departed.cookie)) {
      this.#settleDeparture();
    }
    const path = dir === sep ? sep + event.name : dir + sep + event.name;
    if (event.isDir && !(this.hooks.skip?.(event.name) ?? false)) {
      if (event.kind === 'create') {
        this.#watch(path, false);
      } else if (event.kind === 'moved_from') {
        this.#departed = { cookie: event.cookie, path };
      } else if (event.kind === 'moved_to') {
        const departed = this.#departed;
        this.#departed = undefined;
        if (departed !== undefined && departed.cookie === event.cookie) this.#rename(departed.path, path);
        else this.#watch(path, false);
      } else if (event.kind === 'delete') {
        this.#forget(path);
      }
    }
    this.hooks.onEvent(event, path);
  }

  #watch(path: string, isRoot: boolean): void {
    let wd: number;
    try {
      wd = this.router.add(path, this.mask | IN_ONLYDIR, this).wd;
    } catch (error) {
      if (isRoot) throw error;
      // Gone (or replaced by a file) between the event and the watch: its parent's event covers it.
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) {
        this.#problems.delete(path);
        return;
      }
      this.#report(path, error);
      return;
    }
    this.#problems.delete(path);
    // Known already (a rescan): its entries were reported when they appeared.
    const announce = !isRoot && this.#paths.get(wd) !== path;
    this.#paths.set(wd, path);
    // Subdirectories are watched once the listing is closed: one directory
    // descriptor open at a time, however deep the tree.
    const subdirectories: string[] = [];
    try {
      forEachEntry(path, (entry) => {
        const entryPath = join(path, entry.name);
        if (announce) this.hooks.onFound?.(entryPath, entry.name, entry.isDirectory());
        if (entry.isDirectory() && !(this.hooks.skip?.(entry.name) ?? false)) subdirectories.push(entryPath);
      });
    } catch (error) {
      // Watched but not listable (mode 0300, say): what is inside stays unseen until it can be listed.
      if (!hasCode(error, 'ENOENT', 'ENOTDIR')) this.#report(path, error);
      return;
    }
    for (const subdirectory of subdirectories) this.#watch(subdirectory, false);
  }

  #report(path: string, error: unknown): void {
    const problem = { path, error: error instanceof Error ? error : new Error(String(error)) };
    const known = this.#problems.get(path);
    this.#problems.set(path, problem);
    if (known === undefined || known.error.message !== problem.error.message) this.hooks.onProblem(problem);
  }

  /** A directory and everything below it moved within the tree: same watches, new paths. */
  #rename(from: string, to: string): void {
    const prefix = from + sep;
    for (const [wd, path] of this.#paths) {
      if (path === from) this.#paths.set(wd, to);
      else if (path.startsWith(prefix)) this.#paths.set(wd, to + path.slice(from.length));
    }
    for (const [path, problem] of [...this.#problems]) {
      if (path === from || path.startsWith(prefix)) {
        this.#problems.delete(path);
        const moved = to + path.slice(from.length);
        this.#problems.set(moved, { path: moved, error: problem.error });
      }
    }
  }

  #settleDeparture(): void {
    const departed = this.#departed;
    this.#departed = undefined;
    if (departed !== undefined) this.#forget(departed.path);
  }

  /** Releases the watches of a directory that left the tree, and everything below it. */
  #forget(path: string): void {
    const prefix = path + sep;
    for (const [wd, dir] of this.#paths) {
      if (dir === path || dir.startsWith(prefix)) {
        this.#paths.delete(wd);
        this.router.release(wd, this);
      }
    }
    for (const dir of [...this.#problems.keys()]) {
      if (dir === path || dir.startsWith(prefix)) this.#problems.delete(dir);
    }
  }

  #loseRoot(why: string): void {
    this.close();
    this.hooks.onRootLost(why);
  }
}
