// The one seam that loads the compiled addon. Nothing else requires the
// binary; everything else imports the typed interface from here.
import { join } from 'node:path';
import load = require('node-gyp-build');

/**
 * Receives the events of one wakeup (up to 16 read()s), as parsed by the
 * addon: a struct of arrays, passed as arguments, so the addon makes a
 * handful of JavaScript values per wakeup instead of several per event.
 * native/inotify_events.h explains the layout.
 *
 * @param count how many events the batch holds
 * @param records wd (signed: read it with `| 0`), mask, cookie of each
 *   `struct inotify_event`, in order, in its first `count * 3` elements. Often
 *   the same array, refilled for every batch: read it before returning.
 * @param names each event's name, joined by '/' (which no name can contain);
 *   an event on the watched inode itself has an empty one
 * @param raws null, or at an event's index the exact bytes of its name when
 *   they are not valid UTF-8
 */
export type EventsCallback = (count: number, records: Uint32Array, names: string, raws: RawNames) => void;

/** null, or at an event's index the exact bytes of its name when they are not valid UTF-8. */
export type RawNames = ReadonlyArray<Buffer | undefined> | null;

/** Reading failed; the instance reads no more. */
export type ErrorCallback = (error: NodeJS.ErrnoException) => void;

export interface NativeInotifyHandle {
  addWatch(path: string | Buffer, mask: number): number;
  removeWatch(wd: number): void;
  close(): void;
  ref(): NativeInotifyHandle;
  unref(): NativeInotifyHandle;
  readonly fd: number;
  readonly closed: boolean;
}

export interface NativeBinding {
  InotifyHandle: new (onEvents: EventsCallback, onError: ErrorCallback) => NativeInotifyHandle;
  /** kill(2). Throws RangeError (ERR_OUT_OF_RANGE) unless pid >= 1 and 0 <= signal <= SIGRTMAX. */
  kill(pid: number, signal: number): void;
  /** pidfd_open(2); the descriptor is close-on-exec. Same pid check as kill. */
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  closeFd(fd: number): void;
  /** The IN_* values from the kernel headers the addon was compiled against (also IN_CLOSE, IN_MOVE, IN_ALL_EVENTS). */
  readonly constants: Readonly<Record<string, number>>;
}

// dist/lib/native.js -> the package root, where build/ and prebuilds/ live.
const packageRoot = join(__dirname, '..', '..');

/** The addon file in use: build/Release/*.node, or one under prebuilds/. */
export const nativeAddonPath: string = load.path(packageRoot);

export const native = load(packageRoot) as NativeBinding;
