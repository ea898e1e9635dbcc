// What an inotify event is, as this library delivers it: the types, narrowed
// by `kind` to what the kernel actually sends, and the objects behind them.
//
// What the kernel sends (inotify(7)), by kind:
// - create, delete, moved_from, moved_to happen to a name inside a watched
//   directory. Only a directory watch gets them, and always with the name.
// - access, modify, attrib, open, close_write, close_nowrite happen to a file
//   or directory. A watch on a file gets them without a name; a watch on a
//   directory gets them for the directory itself without a name, and for each
//   entry inside it with the entry's name.
// - delete_self, move_self, unmount and ignored are about the watched inode
//   itself, never with a name. `ignored` is the last event a watch gets.
// - overflow belongs to no watch: wd is -1 and there is no name.
import { inspect } from 'node:util';

import { decodeKinds, IN_ISDIR, IN_Q_OVERFLOW, type InotifyEventKind } from './inotify-flags';

/** A watch established by {@link Inotify.watch}. */
export interface Watch {
  readonly wd: number;
  /** The path it was first added with (lossy when given as non-UTF-8 bytes). */
  readonly path: string;
  /** Every path it was added under: one inode can be reached by several. */
  readonly paths: ReadonlySet<string>;
  /**
   * The mask in force: the one most recently requested, or with IN_MASK_ADD
   * that one ORed into the previous mask, as the kernel does.
   */
  readonly mask: number;
  /** False once IN_IGNORED has retired it (or the instance closed). */
  readonly active: boolean;
}

/** What every event carries, whatever its kind. */
export interface InotifyEventBase {
  readonly wd: number;
  readonly mask: number;
  /** Links IN_MOVED_FROM to its IN_MOVED_TO; 0 for other events. */
  readonly cookie: number;
  /** The primary kind; see `kinds` for every bit set. */
  readonly kind: InotifyEventKind;
  /** Every kind whose bit is set, overflow first. Frozen, and shared by all events with the same mask. */
  readonly kinds: readonly InotifyEventKind[];
  /** IN_ISDIR: what the event is about is a directory. */
  readonly isDir: boolean;
  /** Only an overflow event has one, so reading it on any event is allowed and narrows to overflow. */
  readonly overflowSource?: 'kernel' | 'queue';
}

/** A name inside a watched directory was created, deleted, or moved out or in. */
export interface InotifyNameEvent extends InotifyEventBase {
  readonly kind: 'create' | 'delete' | 'moved_from' | 'moved_to';
  /** The entry's name inside the watched directory. */
  readonly name: string;
  /** The exact name bytes when they are not valid UTF-8 (`name` then holds U+FFFD for each bad byte). */
  readonly rawName: Buffer | undefined;
  readonly watch: Watch;
  /** The watch's path joined with `name`. */
  readonly path: string;
  readonly overflowSource?: undefined;
}

/**
 * A file or directory was read, written, changed in metadata, opened or
 * closed: the watched one itself (`name` undefined, `path` the watch's path),
 * or an entry inside a watched directory (`name` set, `path` the two joined).
 */
export interface InotifyFileEvent extends InotifyEventBase {
  readonly kind: 'access' | 'modify' | 'attrib' | 'open' | 'close_write' | 'close_nowrite';
  readonly name: string | undefined;
  readonly rawName: Buffer | undefined;
  readonly watch: Watch;
  readonly path: string;
  readonly overflowSource?: undefined;
}

/**
 * About the watched inode itself: deleted (once its last link and last
 * descriptor are gone), moved, its filesystem unmounted, or the watch
 * removed (`ignored`, after which the wd may be reused).
 */
export interface InotifySelfEvent extends InotifyEventBase {
  readonly kind: 'delete_self' | 'move_self' | 'unmount' | 'ignored';
  readonly name: undefined;
  readonly rawName: undefined;
  readonly watch: Watch;
  /** The watch's path. */
  readonly path: string;
  readonly overflowSource?: undefined;
}

/** Events were lost: nothing can be assumed about what changed, so rescan. */
export interface InotifyOverflowEvent extends InotifyEventBase {
  readonly wd: -1;
  readonly kind: 'overflow';
  readonly name: undefined;
  readonly rawName: undefined;
  readonly watch: undefined;
  readonly path: undefined;
  /**
   * `kernel` when the kernel's queue (fs.inotify.max_queued_events) was full,
   * `queue` when this library's bounded queue for a slow `for await` consumer
   * was.
   */
  readonly overflowSource: 'kernel' | 'queue';
}

/**
 * One event, decoded. Check `kind` (or `name !== undefined`, or
 * `overflowSource`) and TypeScript knows which fields are set.
 */
export type InotifyEvent = InotifyNameEvent | InotifyFileEvent | InotifySelfEvent | InotifyOverflowEvent;

/** Every event but overflow: each belongs to a watch and has a path. */
export type InotifyWatchEvent = InotifyNameEvent | InotifyFileEvent | InotifySelfEvent;

/** A Watch as the registry holds it. */
export interface EventWatch extends Watch {
  /** What `path` is for an entry of this watch: this prefix, then the name. */
  readonly childPrefix: string;
}

const kindsByMask = new Map<number, readonly InotifyEventKind[]>();

/** decodeKinds, once per distinct mask: the kernel sends only a few, over and over. */
function kindsOf(mask: number): readonly InotifyEventKind[] {
  const key = mask & ~IN_ISDIR;
  let kinds = kindsByMask.get(key);
  if (kinds === undefined) {
    kinds = Object.freeze(decodeKinds(key));
    kindsByMask.set(key, kinds);
  }
  return kinds;
}

// decodeKinds' first kind for each single bit of the low 16, where every
// event bit is: with overflow handled first, the primary kind of any mask is
// that of its lowest event bit, found without a map look-up.
const KIND_OF_BIT: ReadonlyArray<InotifyEventKind | undefined> = Array.from({ length: 16 }, (_, bit) => decodeKinds(1 << bit)[0]);
const EVENT_BITS = KIND_OF_BIT.reduce((bits, kind, bit) => (kind === undefined ? bits : bits | (1 << bit)), 0);

/** decodeKinds(mask)[0]; 'ignored' for a mask without an event bit, which the kernel never sends. */
export function primaryKind(mask: number): InotifyEventKind {
  if ((mask & IN_Q_OVERFLOW) !== 0) return 'overflow';
  const events = mask & EVENT_BITS;
  return KIND_OF_BIT[31 - Math.clz32(events & -events)] ?? 'ignored';
}

/**
 * An event as delivered, for every kind but overflow. Decoding a batch sets
 * only what the kernel sent and the watch (which must be looked up then: the
 * batch's IN_IGNORED may retire it); `kinds`, `isDir` and `path` are
 * computed when first read, since a burst decodes thousands of events and a
 * consumer that reads none of them should not pay for them. A class, so
 * every event has one shape and the getters live once, on the prototype.
 */
class DecodedEvent {
  #path: string | undefined;

  constructor(
    readonly wd: number,
    readonly mask: number,
    readonly cookie: number,
    readonly kind: InotifyEventKind,
    readonly name: string | undefined,
    readonly rawName: Buffer | undefined,
    readonly watch: EventWatch,
  ) {}

  get kinds(): readonly InotifyEventKind[] {
    return kindsOf(this.mask);
  }

  get isDir(): boolean {
    return (this.mask & IN_ISDIR) !== 0;
  }

  get path(): string {
    // Computed once: comparing a string made by concatenation flattens it, and a consumer may read it often.
    if (this.#path === undefined) this.#path = this.name === undefined ? this.watch.path : this.watch.childPrefix + this.name;
    return this.#path;
  }

  /** What JSON.stringify shows: every field, as if all were set at decoding. */
  toJSON(): InotifyWatchEvent {
    return this.#fields();
  }

  /** What console.log and util.inspect show: every field, as for JSON. */
  [inspect.custom](): InotifyWatchEvent {
    return this.#fields();
  }

  #fields(): InotifyWatchEvent {
    const { wd, mask, cookie, kind, kinds, isDir, name, rawName, watch, path } = this;
    return { wd, mask, cookie, kind, kinds, isDir, name, rawName, watch, path } as InotifyWatchEvent;
  }
}

/**
 * The event for one record of a batch. The kernel's rules (see the top of
 * this file) are what make it the union member its kind says: a name for
 * name events, none for self events, a watch for all of them.
 */
export function decodeEvent(
  wd: number,
  mask: number,
  cookie: number,
  name: string | undefined,
  rawName: Buffer | undefined,
  watch: EventWatch,
): InotifyWatchEvent {
  return new DecodedEvent(wd, mask, cookie, primaryKind(mask), name, rawName, watch) as unknown as InotifyWatchEvent;
}

/** An overflow event: the kernel's IN_Q_OVERFLOW, or one this library's event queue made. */
export function overflowEvent(source: 'kernel' | 'queue'): InotifyOverflowEvent {
  return {
    wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, kind: 'overflow', kinds: kindsOf(IN_Q_OVERFLOW), isDir: false,
    name: undefined, rawName: undefined, watch: undefined, path: undefined, overflowSource: source,
  };
}
