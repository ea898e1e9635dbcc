// Watches one configured directory and turns kernel events into triggers.
//
// Each watched directory is one of:
// - kubelet: a volume root with a `..data` symlink. Only the commit (the
//   rename over `..data`) is a change, reported at once. Nothing below the
//   root is watched: the payload lives in `..<timestamp>` directories that are
//   written before the commit and never modified after it.
// - plain: every other directory, watched recursively (new subdirectories are
//   watched as they appear). Writes, creations, deletions and moves are
//   changes, reported through the trailing debounce so that a burst, or an
//   editor's write-to-temp-then-rename save, becomes one reload.
// - ancestor: the nearest existing parent of a configured directory that has
//   disappeared, watched only to notice when it comes back.
//
// IN_ATTRIB is never asked for: chmod, chown, fsGroup walks and touch change
// no content. Whether a trigger really changed anything is decided later, by
// the content fingerprint.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

import { hasCode } from './errors';
import type { InotifyWatchEvent } from './inotify';
import {
  IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONLYDIR,
} from './inotify-flags';
import { isCommit, isInternalName, isKubeletVolume } from './kubelet-volume';
import type { Logger } from './sidecar/log';
import type { WatchOwner, WatchRouter } from './watch-router';

const KUBELET_MASK = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
const PLAIN_MASK = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
const ANCESTOR_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

type NodeKind = 'kubelet' | 'plain' | 'ancestor';

interface WatchedNode {
  readonly kind: NodeKind;
  readonly path: string;
}

export interface Trigger {
  readonly dir: string;
  /** A short human reason, e.g. "kubelet update of /etc/app" or "close_write /etc/app/conf.d/site.conf". */
  readonly reason: string;
  /** True for a kubelet commit or a restored directory: act without the debounce. */
  readonly immediate: boolean;
}

export type DirectoryKind = 'kubelet volume' | 'plain directory' | 'missing';

export class DirectoryWatcher implements WatchOwner {
  readonly #nodes = new Map<number, WatchedNode>();
  #missing = false;

  constructor(
    readonly dir: string,
    private readonly router: WatchRouter,
    private readonly log: Logger,
    private readonly onTrigger: (trigger: Trigger) => void,
  ) {}

  get kind(): DirectoryKind {
    if (this.#missing) return 'missing';
    return [...this.#nodes.values()].some((node) => node.kind === 'kubelet' && node.path === this.dir)
      ? 'kubelet volume'
      : 'plain directory';
  }

  /** True while the directory is gone and only its nearest ancestor is watched. */
  get missing(): boolean {
    return this.#missing;
  }

  /** Watches currently held (ancestor watches included). */
  get watchCount(): number {
    return this.#nodes.size;
  }

  /** Watches the directory (the whole tree when plain). Throws on inotify limits. */
  establish(): void {
    if (!existsSync(this.dir)) {
      this.#lose('it does not exist');
      return;
    }
    this.#missing = false;
    this.#watchTree(this.dir);
  }

  /** After a queue overflow: pick up directories whose creation events were lost. */
  rescan(): void {
    if (this.#missing) {
      this.#waitForReturn();
      return;
    }
    this.#watchTree(this.dir);
  }

  close(): void {
    for (const wd of [...this.#nodes.keys()]) this.router.release(wd, this);
    this.#nodes.clear();
  }

  handle(event: InotifyWatchEvent): void {
    const node = this.#nodes.get(event.wd);
    if (node === undefined) return;
    if (event.kind === 'ignored') {
      this.#nodes.delete(event.wd);
      if (node.path === this.dir && node.kind !== 'ancestor') this.#lose('its watch was removed (deleted or unmounted)');
      else if (node.kind === 'ancestor' && this.#missing) this.#waitForReturn();
      return;
    }
    switch (node.kind) {
      case 'ancestor':
        this.#onAncestorEvent(event);
        return;
      case 'kubelet':
        this.#onKubeletEvent(node, event);
        return;
      case 'plain':
        this.#onPlainEvent(node, event);
        return;
    }
  }

  /**
   * True for an event on the watched directory itself; the configured one
   * being deleted or moved away is lost. A subdirectory's removal is
   * reported by its parent's event.
   */
  #handledSelfEvent(node: WatchedNode, event: InotifyWatchEvent): boolean {
    if (event.kind !== 'delete_self' && event.kind !== 'move_self') return false;
    if (node.path === this.dir) this.#lose(event.kind === 'delete_self' ? 'it was deleted' : 'it was moved away');
    return true;
  }

  #onKubeletEvent(node: WatchedNode, event: InotifyWatchEvent): void {
    if (this.#handledSelfEvent(node, event) || event.name === undefined) return;
    if (isCommit(event)) {
      this.#trigger(`kubelet update of ${node.path}`, true);
    } else if (isInternalName(event.name)) {
      this.log.debug('kubelet bookkeeping ignored', { event: event.kind, name: event.name, dir: node.path });
    } else {
      // User-visible links are created and removed around the commit; the
      // fingerprint decides whether they change anything.
      this.#trigger(`${event.kind} ${event.path}`, false);
    }
  }

  #onPlainEvent(node: WatchedNode, event: InotifyWatchEvent): void {
    if (this.#handledSelfEvent(node, event) || event.name === undefined) return;
    if (isCommit(event)) {
      // A plain directory just became a kubelet volume (the first sync).
      this.#releaseBelow(node.path, true);
      this.#watchTree(node.path);
      this.#trigger(`kubelet update of ${node.path}`, true);
      return;
    }
    if (isInternalName(event.name)) return;
    if (event.isDir) {
      if (event.kind === 'create' || event.kind === 'moved_to') this.#watchTree(event.path);
      // A moved directory's watches follow the inode to a path we no longer know.
      if (event.kind === 'moved_from' || event.kind === 'delete') this.#releaseBelow(event.path, false);
    }
    this.#trigger(`${event.kind} ${event.path}`, false);
  }

  #onAncestorEvent(event: InotifyWatchEvent): void {
    if (event.kind === 'delete_self' || event.kind === 'move_self' || event.name !== undefined) {
      this.#waitForReturn();
    }
  }

  // Reasons name the absolute path, as the change lines list files: a burst
  // brings one trigger per event, too many to make each path relative.
  #trigger(reason: string, immediate: boolean): void {
    this.onTrigger({ dir: this.dir, reason, immediate });
  }

  /** Watches `path` and, unless it is a kubelet volume, every directory below it. */
  #watchTree(path: string): void {
    const kubelet = isKubeletVolume(path);
    try {
      const watch = this.router.add(path, kubelet ? KUBELET_MASK : PLAIN_MASK, this);
      this.#nodes.set(watch.wd, { kind: kubelet ? 'kubelet' : 'plain', path });
    } catch (error) {
      // Gone (or replaced by a file) between the event and the watch: its parent's event covers it.
      if (path !== this.dir && hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    if (kubelet) return;
    // Listed after the watch is in place, so nothing created in between is missed.
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !isInternalName(entry.name)) this.#watchTree(join(path, entry.name));
    }
  }

  #releaseBelow(path: string, includeSelf: boolean): void {
    const prefix = path.endsWith(sep) ? path : path + sep;
    for (const [wd, node] of this.#nodes) {
      if (node.kind === 'ancestor') continue;
      if ((includeSelf && node.path === path) || node.path.startsWith(prefix)) {
        this.#nodes.delete(wd);
        this.router.release(wd, this);
      }
    }
  }

  #lose(why: string): void {
    const wasMissing = this.#missing;
    this.close();
    this.#missing = true;
    if (!wasMissing) {
      this.log.warn('config directory lost; keeping on and waiting for it to come back', { dir: this.dir, reason: why });
    }
    this.#waitForReturn();
  }

  /**
   * Watches the nearest existing ancestor for the next path component. Checks
   * again after adding the watch, because the directory may have come back in
   * between.
   */
  #waitForReturn(): void {
    for (;;) {
      if (isDirectory(this.dir)) {
        this.close();
        this.#missing = false;
        this.#watchTree(this.dir);
        this.log.info('config directory is back; watching again', { dir: this.dir, kind: this.kind });
        this.#trigger(`${this.dir} came back`, true);
        return;
      }
      let ancestor = dirname(this.dir);
      while (!isDirectory(ancestor) && ancestor !== dirname(ancestor)) ancestor = dirname(ancestor);
      const current = [...this.#nodes.entries()].find(([, node]) => node.kind === 'ancestor');
      if (current !== undefined && current[1].path === ancestor) return;
      this.close();
      try {
        const watch = this.router.add(ancestor, ANCESTOR_MASK, this);
        this.#nodes.set(watch.wd, { kind: 'ancestor', path: ancestor });
      } catch (error) {
        if (hasCode(error, 'ENOENT', 'ENOTDIR')) continue; // the ancestor vanished too: look again
        throw error;
      }
      // Loop once more: the directory may have appeared before the watch was in place.
      if (!isDirectory(this.dir)) {
        const next = nextComponent(ancestor, this.dir);
        if (next === undefined || !isDirectory(join(ancestor, next))) return;
      }
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
