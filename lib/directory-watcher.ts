// Watches one configured directory and turns kernel events into triggers.
//
// The directory is one of:
// - a kubelet volume: a root with a `..data` symlink. Only the commit (the
//   rename over `..data`) is a change, reported at once. Nothing below the
//   root is watched: the payload lives in `..<timestamp>` directories that are
//   written before the commit and never modified after it.
// - a plain directory: watched recursively (watch-tree.ts). Writes, creations,
//   deletions and moves are changes, reported through the trailing debounce
//   so that a burst, or an editor's write-to-temp-then-rename save, is one.
// - a key directory of a kubelet volume (`/vol/sub`, where `sub` is one of
//   the volume's links into `..data`): the directory is replaced at every
//   update, so the volume root is watched for the commit instead.
// - missing: only the nearest existing parent is watched, to notice when the
//   directory comes back.
// - unwatched: it exists and cannot be watched (EACCES, the watch limit).
//   Watching is tried again with a backoff, and each try also asks for a
//   quiet check, so a change there is found late rather than never. The
//   same goes for directories inside a plain tree that cannot be watched.
//
// A configured directory that is a symbolic link, or lies below one
// (git-sync's `current -> rev-abc`, with CONFIG_DIR=current or current/conf),
// is followed by its watches; the nearest link's parent is watched too, for
// the swap of the link, after which everything is watched anew.
//
// IN_ATTRIB is never asked for: chmod, chown, fsGroup walks and touch change
// no content. Whether a trigger really changed anything is decided later, by
// the content fingerprint.
import { lstatSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

import { hasCode } from './errors';
import type { InotifyEvent } from './inotify';
import {
  IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONLYDIR,
} from './inotify-flags';
import { isCommit, isInternalName, isKubeletVolume } from './kubelet-volume';
import type { WatchOwner, WatchRouter } from './watch-router';
import { type WatchProblem, WatchTree } from './watch-tree';

const KUBELET_MASK = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
/** IN_MODIFY shows a write in progress (pending-writes.ts), not only a finished one. */
export const PLAIN_MASK = IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
const ANCESTOR_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
const LINK_PARENT_MASK = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;
/** Backoff of the tries to watch a directory that could not be watched. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface Trigger {
  readonly dir: string;
  /** A short human reason, e.g. "kubelet update of /etc/app" or "close_write /etc/app/conf.d/site.conf". */
  readonly reason: string;
  /** True for a kubelet commit or a restored directory: act without the debounce. */
  readonly immediate: boolean;
  /** A look at a directory that cannot be watched: a check that finds nothing new says nothing. */
  readonly poll?: boolean;
  /** True for a kubelet commit (the rename over `..data`) of the configured directory or a volume inside it. */
  readonly commit?: boolean;
}

export type DirectoryKind = 'kubelet volume' | 'plain directory' | 'missing' | 'unwatched';

export interface DirectoryHooks {
  trigger(trigger: Trigger): void;
  /** The directory was deleted, moved away or unmounted; its return is awaited. */
  lost(dir: string, why: string): void;
  /** It is back, and watched again. */
  back(dir: string, kind: DirectoryKind): void;
  /** A directory inside it (or itself) could not be watched. */
  problem(problem: WatchProblem): void;
  /** Every event of a plain tree, for the writes in progress (pending-writes.ts). */
  written(event: InotifyEvent, path: string): void;
}

export interface DirectoryWatcherOptions {
  /** Keep the event loop alive while a retry is due (default true). */
  readonly ref?: boolean;
}

export class DirectoryWatcher {
  #kind: DirectoryKind = 'missing';
  /** The volume root's watch (kubelet) or the watch on the nearest existing ancestor (missing). */
  #single: { readonly wd: number; readonly path: string; readonly owner: WatchOwner } | undefined;
  #tree: WatchTree | undefined;
  /** The parent's watch, when the directory is a symbolic link: its swap is seen there. */
  #link: { readonly wd: number; readonly owner: WatchOwner } | undefined;
  /** Why the directory itself (or the ancestor awaited) cannot be watched. */
  #problem: WatchProblem | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = RETRY_FIRST_MS;
  /** The tries again of directories inside the tree that could not be watched. */
  #treeRetry: NodeJS.Timeout | undefined;
  #treeRetryMs = RETRY_FIRST_MS;
  #closed = false;

  constructor(
    readonly dir: string,
    private readonly router: WatchRouter,
    private readonly hooks: DirectoryHooks,
    private readonly options: DirectoryWatcherOptions = {},
  ) {}

  get kind(): DirectoryKind {
    return this.#kind;
  }

  /** True while the directory is gone and only its nearest ancestor is watched. */
  get missing(): boolean {
    return this.#kind === 'missing';
  }

  /** Watches held (the ancestor's and the link's included). */
  get watchCount(): number {
    return (this.#tree?.size ?? 0) + (this.#single === undefined ? 0 : 1) + (this.#link === undefined ? 0 : 1);
  }

  /** The directory itself, or directories inside, that could not be watched. */
  get problems(): readonly WatchProblem[] {
    return [...(this.#problem === undefined ? [] : [this.#problem]), ...(this.#tree?.problems ?? [])];
  }

  /**
   * Watches the directory (the whole tree when plain), or its nearest
   * ancestor when it does not exist. Never throws for the kernel's refusals:
   * a directory that cannot be watched is a problem, tried again later.
   */
  establish(): void {
    this.#closed = false;
    if (!isDirectory(this.dir)) {
      this.#waitForReturn(false);
      return;
    }
    this.#tryWatch(false);
  }

  /** After a queue overflow: pick up directories whose creation events were lost. */
  rescan(): void {
    if (this.#kind === 'missing') this.#waitForReturn(true);
    else if (this.#kind === 'unwatched') this.#tryWatch(true);
    else if (this.#tree !== undefined) this.#tree.rescan();
  }

  /** Ends a batch of events (watch-tree.ts: a directory moved out of the tree). */
  endBatch(): void {
    this.#tree?.endBatch();
  }

  /** Releases every watch and stops retrying. */
  close(): void {
    this.#closed = true;
    this.#release();
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  #release(): void {
    this.#tree?.close();
    this.#tree = undefined;
    clearTimeout(this.#treeRetry);
    this.#treeRetry = undefined;
    this.#treeRetryMs = RETRY_FIRST_MS;
    if (this.#single !== undefined) this.router.release(this.#single.wd, this.#single.owner);
    this.#single = undefined;
    if (this.#link !== undefined) this.router.release(this.#link.wd, this.#link.owner);
    this.#link = undefined;
  }

  /**
   * Watches the directory; on failure, reports it once and tries again with
   * a backoff, asking for a quiet check each time. Returns true once watched.
   */
  #tryWatch(announce: boolean): boolean {
    try {
      this.#watchDirectory();
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) {
        this.#lose('it was removed while being watched');
        return false;
      }
      this.#release();
      this.#kind = 'unwatched';
      this.#setProblem(this.dir, error);
      this.#scheduleRetry(() => {
        if (this.#tryWatch(true)) return;
        this.hooks.trigger({ dir: this.dir, reason: `look at ${this.dir}, which cannot be watched`, immediate: false, poll: true });
      });
      return false;
    }
    const wasUnwatched = this.#problem !== undefined;
    this.#clearProblem();
    if (announce && wasUnwatched) this.#trigger(`${this.dir} is watched now`, this.#kind === 'kubelet volume');
    return true;
  }

  #setProblem(path: string, error: unknown): void {
    const problem = { path, error: error instanceof Error ? error : new Error(String(error)) };
    const known = this.#problem;
    this.#problem = problem;
    if (known?.error.message !== problem.error.message) this.hooks.problem(problem);
  }

  #clearProblem(): void {
    this.#problem = undefined;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#retryMs = RETRY_FIRST_MS;
  }

  #scheduleRetry(again: () => void): void {
    if (this.#closed || this.#retry !== undefined) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(RETRY_MAX_MS, delay * 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed) again();
    }, delay);
    if (this.options.ref === false) this.#retry.unref();
  }

  #watchDirectory(): void {
    this.#release();
    if (isKubeletVolume(this.dir)) {
      this.#watchVolume(this.dir);
      return;
    }
    const volume = enclosingVolume(this.dir);
    if (volume !== undefined) {
      // A key directory: replaced at every update, committed at the root.
      this.#watchVolume(volume);
      return;
    }
    this.#watchLink();
    const tree = new WatchTree(this.dir, this.router, PLAIN_MASK, {
      onEvent: (event, path) => this.#onPlainEvent(event, path),
      onProblem: (problem) => {
        this.hooks.problem(problem);
        this.#scheduleTreeRetry();
      },
      onRootLost: (why) => this.#lose(why),
      skip: isInternalName,
    });
    this.#tree = tree;
    this.#kind = 'plain directory';
    tree.establish();
  }

  /** While directories inside cannot be watched: try them again with a backoff, and look at the configuration meanwhile. */
  #scheduleTreeRetry(): void {
    if (this.#closed || this.#treeRetry !== undefined) return;
    const delay = this.#treeRetryMs;
    this.#treeRetryMs = Math.min(RETRY_MAX_MS, delay * 2);
    this.#treeRetry = setTimeout(() => {
      this.#treeRetry = undefined;
      const tree = this.#tree;
      if (this.#closed || tree === undefined) return;
      tree.retryProblems();
      if (tree.problems.length === 0) {
        this.#treeRetryMs = RETRY_FIRST_MS;
        this.#trigger(`every directory in ${this.dir} is watched now`, false);
        return;
      }
      this.hooks.trigger({ dir: this.dir, reason: `look at ${this.dir}, where ${tree.problems.length} directories cannot be watched`, immediate: false, poll: true });
      this.#scheduleTreeRetry();
    }, delay);
    if (this.options.ref === false) this.#treeRetry.unref();
  }

  #watchVolume(volume: string): void {
    const owner: WatchOwner = { handle: (event) => this.#onVolumeEvent(event, volume) };
    this.#single = { wd: this.router.add(volume, KUBELET_MASK, owner).wd, path: volume, owner };
    this.#kind = 'kubelet volume';
  }

  /** When the directory is, or lies below, a symbolic link: watches the nearest link's parent for its swap or removal. */
  #watchLink(): void {
    const link = nearestLink(this.dir);
    if (link === undefined) return;
    const name = basename(link);
    const owner: WatchOwner = {
      handle: (event) => {
        if (event.kind === 'ignored') this.#link = undefined;
        else if (event.name === name) this.#relink(event, link);
      },
    };
    try {
      this.#link = { wd: this.router.add(dirname(link), LINK_PARENT_MASK, owner).wd, owner };
    } catch (error) {
      // The directory is watched all the same; only a swap of the link would go unseen.
      this.hooks.problem({ path: dirname(link), error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  /** The link on the way to the directory was replaced or removed: watch what it leads to now. */
  #relink(event: InotifyEvent, link: string): void {
    if (!isDirectory(this.dir)) {
      if (event.kind === 'delete' || event.kind === 'moved_from') this.#lose(`the symbolic link ${link} was removed`);
      return;
    }
    if (this.#tryWatch(false)) this.#trigger(`${event.kind} of the link ${link}`, false);
  }

  #onVolumeEvent(event: InotifyEvent, volume: string): void {
    if (event.kind === 'ignored') {
      this.#single = undefined;
      this.#lose('its watch was removed (deleted or unmounted)');
      return;
    }
    if (event.kind === 'delete_self' || event.kind === 'move_self') {
      this.#lose(event.kind === 'delete_self' ? 'it was deleted' : 'it was moved away');
      return;
    }
    if (event.name === undefined) return;
    if (volume !== this.dir && !isDirectory(this.dir)) {
      // A key directory the update dropped: its link now dangles. Like a
      // deleted directory, it is awaited rather than reported as emptied.
      this.#lose(`it is no longer in the kubelet volume ${volume}`);
      return;
    }
    if (isCommit(event)) {
      this.#trigger(`kubelet update of ${volume}`, true, true);
    } else if (!isInternalName(event.name)) {
      // User-visible links are created and removed around the commit; the
      // fingerprint decides whether they change anything.
      this.#trigger(`${event.kind} ${join(volume, event.name)}`, false);
    }
  }

  #onPlainEvent(event: InotifyEvent, path: string): void {
    if (event.name === undefined) return;
    this.hooks.written(event, path);
    if (isCommit(event)) {
      // At the root: a plain directory just became a kubelet volume (its
      // first sync). Below it: a volume mounted inside the tree committed.
      const volume = dirname(path);
      if (volume === this.dir) this.#tryWatch(false);
      this.#trigger(`kubelet update of ${volume}`, true, true);
      return;
    }
    if (isInternalName(event.name)) return;
    this.#trigger(`${event.kind} ${path}`, false);
  }

  #trigger(reason: string, immediate: boolean, commit = false): void {
    this.hooks.trigger({ dir: this.dir, reason, immediate, commit });
  }

  #lose(why: string): void {
    const wasMissing = this.#kind === 'missing';
    this.#release();
    this.#clearProblem();
    this.#kind = 'missing';
    if (!wasMissing) this.hooks.lost(this.dir, why);
    this.#waitForReturn(true);
  }

  /**
   * Watches the nearest existing ancestor for the next path component. Looks
   * again after adding the watch, because the directory may have come back
   * in between.
   */
  #waitForReturn(announce: boolean): void {
    for (;;) {
      if (isDirectory(this.dir)) {
        // There, but perhaps not watchable (EACCES, the watch limit): then
        // it is 'unwatched', reported once, and tried again with a backoff.
        this.#tryWatch(false);
        if (announce) {
          this.hooks.back(this.dir, this.#kind);
          // A kubelet volume comes back whole; a plain directory is usually
          // being filled right now, so it goes through the debounce (and
          // waits for its files to be written) before the check.
          this.#trigger(`${this.dir} came back`, this.#kind === 'kubelet volume');
        }
        return;
      }
      let ancestor = dirname(this.dir);
      while (!isDirectory(ancestor) && ancestor !== dirname(ancestor)) ancestor = dirname(ancestor);
      if (this.#kind === 'missing' && this.#single?.path === ancestor) return;
      this.#release();
      this.#kind = 'missing';
      const owner: WatchOwner = { handle: (event) => this.#onAncestorEvent(event) };
      try {
        this.#single = { wd: this.router.add(ancestor, ANCESTOR_MASK, owner).wd, path: ancestor, owner };
      } catch (error) {
        if (hasCode(error, 'ENOENT', 'ENOTDIR')) continue; // the ancestor vanished too: look again
        // Its return cannot be seen: said once, and looked for again with a backoff.
        this.#setProblem(ancestor, error);
        this.#scheduleRetry(() => this.#waitForReturn(true));
        return;
      }
      this.#clearProblem();
      const next = nextComponent(ancestor, this.dir);
      if (next === undefined || !isDirectory(join(ancestor, next))) return;
    }
  }

  #onAncestorEvent(event: InotifyEvent): void {
    if (event.kind === 'ignored') this.#single = undefined;
    if (event.kind === 'ignored' || event.kind === 'delete_self' || event.kind === 'move_self' || event.name !== undefined) {
      this.#waitForReturn(true);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The kubelet volume `dir` is a key directory of, reached through one of the
 * volume's user-visible links (`/vol/sub` with `sub -> ..data/sub`).
 */
function enclosingVolume(dir: string): string | undefined {
  for (let child = dir, parent = dirname(dir); parent !== child; child = parent, parent = dirname(parent)) {
    if (!isKubeletVolume(parent)) continue;
    try {
      return lstatSync(child).isSymbolicLink() ? parent : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The directory itself or its nearest ancestor that is a symbolic link, if any. */
function nearestLink(dir: string): string | undefined {
  for (let path = dir; path !== dirname(path); path = dirname(path)) {
    try {
      if (lstatSync(path).isSymbolicLink()) return path;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function nextComponent(ancestor: string, target: string): string | undefined {
  const rest = relative(ancestor, target);
  return rest === '' ? undefined : rest.split(sep)[0];
}
