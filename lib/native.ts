// The one seam that loads the compiled addon. Nothing else requires the
// binary; everything else imports the typed interface from here.
import { join } from 'node:path';
import load = require('node-gyp-build');

/**
 * The events of one wakeup (up to 16 read()s), as parsed by the addon: a
 * struct of arrays, so the addon makes a handful of JavaScript values per
 * batch instead of several per event. native/inotify_events.h explains the
 * layout.
 */
export interface RawInotifyBatch {
  /** wd (signed: read it with `| 0`), mask, cookie of each `struct inotify_event`, in order. */
  readonly records: Uint32Array;
  /**
   * Each event's name, joined by '/' (which no name can contain); an event
   * on the watched inode itself has an empty one.
   */
  readonly names: string;
  /** null, or at an event's index the exact bytes of its name when they are not valid UTF-8. */
  readonly raws: ReadonlyArray<Buffer | undefined> | null;
}

export type BatchCallback = (
  error: NodeJS.ErrnoException | null,
  batch: RawInotifyBatch | null,
) => void;

export interface NativeInotifyHandle {
  addWatch(path: string | Buffer, mask: number): number;
  removeWatch(wd: number): void;
  close(): void;
  ref(): NativeInotifyHandle;
  unref(): NativeInotifyHandle;
  readonly fd: number;
  readonly closed: boolean;
}

/** struct sched_attr (its first version) as sched_getattr(2) fills it and sched_setattr(2) takes it; durations in ns. */
export interface SchedAttr {
  readonly policy: number;
  readonly flags: number;
  readonly nice: number;
  readonly priority: number;
  readonly runtime: number;
  readonly deadline: number;
  readonly period: number;
}

/** What native/commit_signal.h carries out; lib/sidecar/commit-signal.ts builds it. */
export interface CommitSignalPlan {
  /** The name whose appearance (IN_MOVED_TO or IN_CREATE) is a commit: `..data`. */
  readonly commitName: string;
  /**
   * Directories watched for it, the payload each one's commit name pointed at
   * when the baselines were taken, and that payload's top-level names: a
   * commit bringing a name not among them is left to the event loop.
   */
  readonly dirs: readonly { readonly path: string; readonly payload: string; readonly names: readonly string[] }[];
  /** Files compared: `relative` under the payload of `dirs[dir]`. */
  readonly files: readonly { readonly dir: number; readonly relative: string }[];
  /** Processes signalled when a file changed, if their status still shows this Name and PPid. */
  readonly targets: readonly {
    readonly pidfd: number;
    readonly statusFd: number;
    readonly name: string;
    readonly ppid: number;
  }[];
  readonly signal: number;
  /** Send only to a process whose status shows the signal caught or ignored. */
  readonly requireHandler: boolean;
}

/** What the thread did when it fired. */
export interface CommitSignalReport {
  /** CLOCK_MONOTONIC when it read the commit, and after its last send. */
  readonly wokeAtNs: bigint;
  readonly sentAtNs: bigint;
  /** The first planned file that read differently: `<dir>/<relative>`. */
  readonly changed: string;
  /** Where each planned directory's commit name pointed ('' when unreadable). */
  readonly links: readonly string[];
  /** Per planned target: 0 sent, -1 not sent (status no longer matched), else the errno of pidfd_send_signal. */
  readonly results: readonly number[];
}

export interface NativeCommitSignal {
  /** Takes the plan over (descriptors duplicated); returns how many files have a baseline, 0 when not armed. */
  arm(plan: CommitSignalPlan): number;
  /** Ends the plan; the report if it fired since arm(). */
  disarm(): CommitSignalReport | null;
  /** Stops and joins the thread. */
  close(): void;
}

export interface NativeBinding {
  CommitSignal: new () => NativeCommitSignal;
  InotifyHandle: new (onBatch: BatchCallback) => NativeInotifyHandle;
  /** kill(2). Throws RangeError (ERR_OUT_OF_RANGE) unless pid >= 1 and 0 <= signal <= SIGRTMAX. */
  kill(pid: number, signal: number): void;
  /** pidfd_open(2); the descriptor is close-on-exec. Same pid check as kill. */
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  closeFd(fd: number): void;
  /** sched_getattr(2) of thread tid (0: the calling thread). */
  schedGetattr(tid: number): SchedAttr;
  /** sched_setattr(2) of thread tid (0: the calling thread); every field is required. */
  schedSetattr(tid: number, attr: SchedAttr): void;
  /** The IN_* values from the kernel headers the addon was compiled against (also IN_CLOSE, IN_MOVE, IN_ALL_EVENTS). */
  readonly constants: Readonly<Record<string, number>>;
}

// dist/lib/native.js -> the package root, where build/ and prebuilds/ live.
const packageRoot = join(__dirname, '..', '..');

/** The addon file in use: build/Release/*.node, or one under prebuilds/. */
export const nativeAddonPath: string = load.path(packageRoot);

export const native = load(packageRoot) as NativeBinding;
