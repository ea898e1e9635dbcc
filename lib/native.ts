// The one seam that loads the compiled addon, on first use. Nothing else
// requires the binary; everything else imports the typed interface from here.
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

/**
 * The addon missing or unloadable, with what to do about it. node-gyp-build
 * says what it looked for ("No native build was found for platform=linux
 * arch=x64 ... libc=musl"), and dlopen what went wrong with the file it
 * found, but neither says how to get a working one: the package's install
 * script compiles it, unless install scripts were turned off; otherwise
 * only a prebuild for this platform can stand in.
 */
function loadFailure(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message.trim() : String(cause);
  const error = new Error(
    `config-reloader-sidecar: cannot load its native addon: ${reason}\n` +
      'To fix it, either:\n' +
      '- compile it for this machine: `npm rebuild config-reloader-sidecar` (needs python3, make and g++). ' +
      'npm install does this through the package\'s install script unless install scripts are off: ' +
      'check that `ignore-scripts` is not set in an .npmrc and that `--ignore-scripts` was not used;\n' +
      '- or run on a platform the package has a prebuild for: linux-x64 or linux-arm64, with glibc 2.28 or later.',
    { cause },
  );
  // A code to switch on: unlike a fault of the moment, trying again cannot help.
  return Object.assign(error, { code: NATIVE_ADDON_MISSING });
}

/** The `code` of the error thrown when the addon cannot be loaded at all. */
export const NATIVE_ADDON_MISSING = 'ERR_NATIVE_ADDON_MISSING';

let binding: NativeBinding | undefined;

/** Loads the addon on first use: a program that never watches or signals (the CLI's `check`, say) never maps it. */
function loadBinding(): NativeBinding {
  try {
    binding ??= load(packageRoot) as NativeBinding;
  } catch (error) {
    throw loadFailure(error);
  }
  return binding;
}

/** The addon file in use: build/Release/*.node, or one under prebuilds/. */
export function nativeAddonPath(): string {
  try {
    return load.path(packageRoot);
  } catch (error) {
    throw loadFailure(error);
  }
}

export const native: NativeBinding = new Proxy({} as NativeBinding, {
  get: (_target, key) => Reflect.get(loadBinding(), key),
});
