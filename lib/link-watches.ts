// Watches on the directories that symbolic links in the configuration lead
// to (`conf.d -> ../shared`, `app.conf -> /etc/shared/app.conf`): the
// fingerprint reads them, so a change there is a change of the
// configuration, and a watch on the configured directory alone, which
// follows no link, would never see it.
//
// The set comes from each fingerprint (Fingerprint.linkedDirs): when a link
// is swapped, the event in the watched tree asks for a check, the check
// finds the new targets, and the watches follow. Each is a single,
// non-recursive watch: the walk lists every directory it reads, so a
// subdirectory reached through a link is in the set on its own.
import { sep } from 'node:path';

import type { InotifyEvent } from './inotify';
import type { WatchOwner, WatchRouter } from './watch-router';
import type { WatchProblem } from './watch-tree';

export interface LinkWatchHooks {
  /** An event in a linked directory: its entry's path (or the directory's own). */
  event(event: InotifyEvent, path: string): void;
  /** The watch went away (directory deleted, unmounted): a check re-resolves the links. */
  lost(dir: string): void;
  problem(problem: WatchProblem): void;
}

export class LinkWatches implements WatchOwner {
  /** wd -> directory. */
  readonly #byWd = new Map<number, string>();
  readonly #problems = new Map<string, WatchProblem>();

  constructor(private readonly router: WatchRouter, private readonly mask: number, private readonly hooks: LinkWatchHooks) {}

  get size(): number {
    return this.#byWd.size;
  }

  get directories(): readonly string[] {
    return [...this.#byWd.values()];
  }

  get problems(): readonly WatchProblem[] {
    return [...this.#problems.values()];
  }

  /** Watches exactly `dirs` (less those `covered` already), releasing the rest. */
  update(dirs: readonly string[], covered: (dir: string) => boolean): void {
    const wanted = new Set(dirs.filter((dir) => !covered(dir)));
    for (const [wd, dir] of [...this.#byWd]) {
      if (!wanted.has(dir)) {
        this.#byWd.delete(wd);
        this.router.release(wd, this);
      }
    }
    for (const dir of [...this.#problems.keys()]) if (!wanted.has(dir)) this.#problems.delete(dir);
    const held = new Set(this.#byWd.values());
    for (const dir of wanted) {
      if (held.has(dir)) continue;
      try {
        this.#byWd.set(this.router.add(dir, this.mask, this).wd, dir);
        this.#problems.delete(dir);
      } catch (error) {
        const problem = { path: dir, error: error instanceof Error ? error : new Error(String(error)) };
        const known = this.#problems.get(dir);
        this.#problems.set(dir, problem);
        if (known?.error.message !== problem.error.message) this.hooks.problem(problem);
      }
    }
  }

  close(): void {
    for (const wd of [...this.#byWd.keys()]) this.router.release(wd, this);
    this.#byWd.clear();
    this.#problems.clear();
  }

  handle(event: InotifyEvent): void {
    const dir = this.#byWd.get(event.wd);
    if (dir === undefined) return;
    if (event.kind === 'ignored') {
      this.#byWd.delete(event.wd);
      this.hooks.lost(dir);
      return;
    }
    this.hooks.event(event, event.name === undefined ? dir : dir === sep ? sep + event.name : dir + sep + event.name);
  }
}
