// One inotify instance shared by every configured directory (the per-user
// instance limit, fs.inotify.max_user_instances, is often only 128). Two
// owners may watch the same inode, for example nested configured directories;
// the kernel then returns one wd for both. IN_MASK_ADD keeps one owner from
// narrowing the other's mask, and a wd is removed from the kernel only when
// its last owner lets go.
import type { Inotify, InotifyWatchEvent, Watch } from './inotify';
import { IN_MASK_ADD } from './inotify-flags';

export interface WatchOwner {
  handle(event: InotifyWatchEvent): void;
}

export class WatchRouter {
  readonly #owners = new Map<number, Set<WatchOwner>>();

  constructor(private readonly inotify: Inotify) {}

  /** Adds (or shares) a watch; throws the system error of inotify_add_watch. */
  add(path: string, mask: number, owner: WatchOwner): Watch {
    const watch = this.inotify.watch(path, mask | IN_MASK_ADD);
    let owners = this.#owners.get(watch.wd);
    if (owners === undefined) {
      owners = new Set();
      this.#owners.set(watch.wd, owners);
    }
    owners.add(owner);
    return watch;
  }

  release(wd: number, owner: WatchOwner): void {
    const owners = this.#owners.get(wd);
    if (owners === undefined || !owners.delete(owner)) return;
    if (owners.size === 0) {
      this.#owners.delete(wd);
      this.inotify.unwatch(wd);
    }
  }

  /** Hands an event to every owner of its wd; IN_IGNORED retires the wd for all of them. */
  dispatch(event: InotifyWatchEvent): void {
    const owners = this.#owners.get(event.wd);
    if (owners === undefined) return;
    if (event.kind === 'ignored') this.#owners.delete(event.wd);
    for (const owner of [...owners]) owner.handle(event);
  }

  get size(): number {
    return this.#owners.size;
  }
}
