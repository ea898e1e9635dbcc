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
// - missing: only the nearest existing parent is watched, to notice when the
//   directory comes back.
//
// IN_ATTRIB is never asked for: chmod, chown, fsGroup walks and touch change
// no content. Whether a trigger really changed anything is decided later, by
// the content fingerprint.
import { statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

import { hasCode } from './errors';
import type { InotifyEvent } from './inotify';
import {
  IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONLYDIR,
} from './inotify-flags';
import { isCommit, isInternalName, isKubeletVolume } from './kubelet-volume';
import type { WatchOwner, WatchRouter } from './watch-router';
import { type WatchProblem, WatchTree } from './watch-tree';

const KUBELET_MASK = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
const PLAIN_MASK = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
const ANCESTOR_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

export interface Trigger {
  readonly dir: string;
  /** A short human reason, e.g. "kubelet update of /etc/app" or "close_write /etc/app/conf.d/site.conf". */
  readonly reason: string;
  /** True for a kubelet commit or a restored directory: act without the debounce. */
  readonly immediate: boolean;
  /** True for a kubelet commit (the rename over `..data`) of the configured directory or a volume inside it. */
  readonly commit?: boolean;
}

export type DirectoryKind = 'kubelet volume' | 'plain directory' | 'missing';

export interface DirectoryHooks {
  trigger(trigger: Trigger): void;
  /** The directory was deleted, moved away or unmounted; its return is awaited. */
  lost(dir: string, why: string): void;
  /** It is back, and watched again. */
  back(dir: string, kind: DirectoryKind): void;
  /** A directory inside it could not be watched. */
  problem(problem: WatchProblem): void;
}

export class DirectoryWatcher {
  #kind: DirectoryKind = 'missing';
  /** The volume root's watch (kubelet) or the watch on the nearest existing ancestor (missing). */
  #single: { readonly wd: number; readonly path: string; readonly owner: WatchOwner } | undefined;
  #tree: WatchTree | undefined;

  constructor(
    readonly dir: string,
    private readonly router: WatchRouter,
    private readonly hooks: DirectoryHooks,
  ) {}

  get kind(): DirectoryKind {
    return this.#kind;
  }

  /** True while the directory is gone and only its nearest ancestor is watched. */
  get missing(): boolean {
    return this.#kind === 'missing';
  }

  /** Watches held (the ancestor's included). */
  get watchCount(): number {
    return (this.#tree?.size ?? 0) + (this.#single === undefined ? 0 : 1);
  }

  /** Directories inside that could not be watched. */
  get problems(): readonly WatchProblem[] {
    return this.#tree?.problems ?? [];
  }

  /**
   * Watches the directory (the whole tree when plain), or its nearest
   * ancestor when it does not exist. Throws when the directory itself cannot
   * be watched (EACCES, ENOSPC at the watch limit).
   */
  establish(): void {
    if (!isDirectory(this.dir)) {
      this.#waitForReturn(false);
      return;
    }
    this.#watchDirectory();
  }

  /** After a queue overflow: pick up directories whose creation events were lost. */
  rescan(): void {
    if (this.#kind === 'missing') this.#waitForReturn(true);
    else if (this.#tree !== undefined) this.#tree.rescan();
  }

  /** Ends a batch of events (watch-tree.ts: a directory moved out of the tree). */
  endBatch(): void {
    this.#tree?.endBatch();
  }

  close(): void {
    this.#tree?.close();
    this.#tree = undefined;
    if (this.#single !== undefined) this.router.release(this.#single.wd, this.#single.owner);
    this.#single = undefined;
  }

  #watchDirectory(): void {
    this.close();
    if (isKubeletVolume(this.dir)) {
      const owner: WatchOwner = { handle: (event) => this.#onVolumeEvent(event) };
      this.#single = { wd: this.router.add(this.dir, KUBELET_MASK, owner).wd, path: this.dir, owner };
      this.#kind = 'kubelet volume';
      return;
    }
    const tree = new WatchTree(this.dir, this.router, PLAIN_MASK, {
      onEvent: (event, path) => this.#onPlainEvent(event, path),
      onProblem: (problem) => this.hooks.problem(problem),
      onRootLost: (why) => this.#lose(why),
      skip: isInternalName,
    });
    this.#tree = tree;
    this.#kind = 'plain directory';
    tree.establish();
  }

  #onVolumeEvent(event: InotifyEvent): void {
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
    if (isCommit(event)) {
      this.#trigger(`kubelet update of ${this.dir}`, true, true);
    } else if (!isInternalName(event.name)) {
      // User-visible links are created and removed around the commit; the
      // fingerprint decides whether they change anything.
      this.#trigger(`${event.kind} ${join(this.dir, event.name)}`, false);
    }
  }

  #onPlainEvent(event: InotifyEvent, path: string): void {
    if (event.name === undefined) return;
    if (isCommit(event)) {
      // At the root: a plain directory just became a kubelet volume (its
      // first sync). Below it: a volume mounted inside the tree committed.
      const volume = dirname(path);
      if (volume === this.dir) this.#watchDirectory();
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
    this.close();
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
        try {
          this.#watchDirectory();
        } catch (error) {
          // There, but not watchable (EACCES, the watch limit): said once, and looked at again on a rescan.
          this.close();
          this.#kind = 'missing';
          this.hooks.problem({ path: this.dir, error: error instanceof Error ? error : new Error(String(error)) });
          return;
        }
        if (announce) {
          this.hooks.back(this.dir, this.#kind);
          this.#trigger(`${this.dir} came back`, true);
        }
        return;
      }
      let ancestor = dirname(this.dir);
      while (!isDirectory(ancestor) && ancestor !== dirname(ancestor)) ancestor = dirname(ancestor);
      if (this.#kind === 'missing' && this.#single?.path === ancestor) return;
      this.close();
      this.#kind = 'missing';
      const owner: WatchOwner = { handle: (event) => this.#onAncestorEvent(event) };
      try {
        this.#single = { wd: this.router.add(ancestor, ANCESTOR_MASK, owner).wd, path: ancestor, owner };
      } catch (error) {
        if (hasCode(error, 'ENOENT', 'ENOTDIR')) continue; // the ancestor vanished too: look again
        throw error;
      }
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

function nextComponent(ancestor: string, target: string): string | undefined {
  const rest = relative(ancestor, target);
  return rest === '' ? undefined : rest.split(sep)[0];
}
