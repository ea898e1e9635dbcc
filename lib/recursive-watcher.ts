// A whole directory tree watched with one inotify instance: new
// subdirectories are watched as they appear, and every event names the
// entry's current absolute path, also after a directory above it was renamed
// (watch-tree.ts explains how). Overflows are reported, and the tree is
// rescanned for directories whose creation was lost with them.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';

import { Inotify, type InotifyEvent } from './inotify';
import {
  IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_ISDIR, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO,
} from './inotify-flags';
import { WatchRouter } from './watch-router';
import { type WatchProblem, WatchTree } from './watch-tree';

/** What a change to a file tree usually means: written, created, deleted, moved. */
export const RECURSIVE_DEFAULT_MASK = IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

export interface RecursiveWatcherOptions {
  /** IN_* events to watch on every directory (default {@link RECURSIVE_DEFAULT_MASK}). Directory creations and moves are always watched, to follow the tree. */
  readonly mask?: number;
  /** Keep the event loop alive while open (default true). */
  readonly ref?: boolean;
  /** Names of directories not to descend into (their entries' events in the parent still arrive). */
  readonly skip?: (name: string) => boolean;
}

/** An inotify event of the tree, with its entry's current absolute path. */
export interface RecursiveEvent {
  readonly kind: InotifyEvent['kind'];
  /** The entry's absolute path now: for a moved_from, where it was. */
  readonly path: string;
  /** The entry's name in its directory; undefined for an event on a watched directory itself. */
  readonly name: string | undefined;
  readonly isDir: boolean;
  /** Links a moved_from to its moved_to; 0 otherwise. */
  readonly cookie: number;
  readonly mask: number;
  /**
   * True for an entry found when a new directory was listed: it was made
   * before that directory's watch was in place, so no event was queued for
   * it, and this 'create' stands in for it.
   */
  readonly found?: boolean;
}

interface RecursiveWatcherEvents {
  event: [event: RecursiveEvent];
  /** Events were lost (kernel queue full); the tree has been rescanned for new directories. Look at everything again. */
  overflow: [];
  /** A directory below the root could not be watched; the rest is watched regardless. */
  problem: [problem: WatchProblem];
  /** The root was deleted, moved away or unmounted: nothing is watched any more. */
  lost: [why: string];
  error: [error: Error];
}

export class RecursiveWatcher extends EventEmitter<RecursiveWatcherEvents> {
  readonly #inotify: Inotify;
  readonly #tree: WatchTree;
  #closed = false;

  private constructor(readonly root: string, options: RecursiveWatcherOptions) {
    super();
    this.#inotify = new Inotify(options.ref === false ? { ref: false } : {});
    const router = new WatchRouter(this.#inotify);
    const mask = (options.mask ?? RECURSIVE_DEFAULT_MASK) | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO;
    this.#tree = new WatchTree(root, router, mask, {
      onEvent: (event, path) => this.emit('event', toRecursiveEvent(event, path)),
      onFound: (path, name, isDir) => this.emit('event', {
        kind: 'create', path, name, isDir, cookie: 0, mask: IN_CREATE | (isDir ? IN_ISDIR : 0), found: true,
      }),
      onProblem: (problem) => this.emit('problem', problem),
      onRootLost: (why) => this.emit('lost', why),
      ...(options.skip === undefined ? {} : { skip: options.skip }),
    });
    this.#inotify.on('batch', (events) => {
      for (const event of events) {
        if (event.kind === 'overflow') {
          this.#tree.rescan();
          this.emit('overflow');
        } else {
          router.dispatch(event);
        }
      }
      this.#tree.endBatch();
    });
    this.#inotify.on('error', (error) => this.emit('error', error));
  }

  /**
   * Watches `dir` and every directory below it. Resolves once every watch is
   * in place; rejects (and holds nothing) when the root cannot be watched:
   * ENOENT, ENOTDIR, EACCES, or ENOSPC naming the watch limit. A
   * subdirectory that cannot be watched is a 'problem' event instead.
   */
  static async open(dir: string, options: RecursiveWatcherOptions = {}): Promise<RecursiveWatcher> {
    const watcher = new RecursiveWatcher(resolve(dir), options);
    try {
      watcher.#tree.establish();
    } catch (error) {
      await watcher.close();
      throw error;
    }
    return watcher;
  }

  /** Directories watched now. */
  get watchCount(): number {
    return this.#tree.size;
  }

  /** Directories below the root that could not be watched, and why. */
  get problems(): readonly WatchProblem[] {
    return this.#tree.problems;
  }

  /** Stops watching; events still queued in the kernel are dropped. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tree.close();
    this.#inotify.close();
  }
}

function toRecursiveEvent(event: InotifyEvent, path: string): RecursiveEvent {
  return { kind: event.kind, path, name: event.name, isDir: event.isDir, cookie: event.cookie, mask: event.mask };
}
