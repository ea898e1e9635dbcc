// Files being written in plain directories, so a check waits for the writer
// to finish instead of reading a half-written file.
//
// inotify tells a write in progress by what has not arrived yet: IN_CREATE
// (of a regular file) or IN_MODIFY, without the IN_CLOSE_WRITE that ends
// the write. A file in that state holds checks back until its close, its
// removal, or a bound: a process may keep a file open for writing for ever
// (a log, a hard link made with link(2), a truncate(2) without open), and
// the configuration around it must still be reloaded. A file that outlived
// the bound holds nothing back again until it is closed: a log written
// for ever would otherwise delay every check by the bound.
//
// A rename into place (IN_MOVED_TO) is a finished file: editors and the
// kubelet write elsewhere and rename, and nothing waits for them.
import { lstatSync } from 'node:fs';
import { sep } from 'node:path';

import type { InotifyEventKind } from './inotify-flags';
import { monotonicMs } from './monotonic-clock';

export class PendingWrites {
  /** Path -> monotonicMs() after which it no longer holds checks back. */
  readonly #open = new Map<string, number>();
  /** Files still open past the bound: not waited for again until their close. */
  readonly #outlived = new Set<string>();

  constructor(private readonly boundMs: number) {}

  /** Files still being written, and not yet past the bound. */
  get paths(): readonly string[] {
    return [...this.#open.keys()];
  }

  /** Follows one event of a plain directory. */
  note(kind: InotifyEventKind, path: string, isDir: boolean): void {
    switch (kind) {
      case 'create':
        if (!isDir && isRegularFile(path)) this.#start(path);
        return;
      case 'modify':
        if (!isDir) this.#start(path);
        return;
      case 'close_write':
        this.#open.delete(path);
        this.#outlived.delete(path);
        return;
      case 'delete':
      case 'moved_from':
        this.forget(path);
        return;
      default:
    }
  }

  /** A path and everything below it left the tree (or the tree is gone). */
  forget(path: string): void {
    const prefix = path + sep;
    for (const open of [...this.#open.keys()]) {
      if (open === path || open.startsWith(prefix)) this.#open.delete(open);
    }
    for (const open of [...this.#outlived]) {
      if (open === path || open.startsWith(prefix)) this.#outlived.delete(open);
    }
  }

  clear(): void {
    this.#open.clear();
    this.#outlived.clear();
  }

  /**
   * How long a check should wait for the writes in progress, in ms; 0 when
   * none holds it back. Writes past their bound are dropped: their close, if
   * it comes, asks for a check of its own.
   */
  waitMs(now = monotonicMs()): number {
    let soonest = Infinity;
    for (const [path, deadline] of this.#open) {
      if (deadline <= now) {
        this.#open.delete(path);
        this.#outlived.add(path);
      } else {
        soonest = Math.min(soonest, deadline);
      }
    }
    return soonest === Infinity ? 0 : Math.ceil(soonest - now);
  }

  #start(path: string): void {
    if (!this.#open.has(path) && !this.#outlived.has(path)) this.#open.set(path, monotonicMs() + this.boundMs);
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false; // gone already: its deletion event follows
  }
}
