// The replays in this directory are written once, as generators that yield
// each system call they are about to make and make it when resumed. Two
// drivers run them: one synchronous, for tests that must commit at an exact
// instant or while their event loop is held, and one asynchronous, which
// awaits a hook before every call and lets the event loop turn between calls,
// so a watcher in the same process can read events between any two of them,
// as it could between the calls of a real kubelet in another process.
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Which part of the kubelet's algorithm a step belongs to, in the order of the
 * current (Kubernetes 1.30 and later) writer; AtomicWriter's doc comment describes each.
 */
export type WriterPhase =
  | 'compare' | 'create-dir' | 'write-files' | 'fs-group' | 'link-tmp'
  | 'swap' | 'visible-links' | 'prune' | 'remove-old';

/** The file system operation a step makes; each is one system call, except `removeAll` (rm -r). */
export type WriterOp =
  | 'readlink' | 'lstat' | 'readFile' | 'readdir'
  | 'mkdir' | 'chmod' | 'chown' | 'lchown' | 'writeFile' | 'symlink' | 'rename' | 'remove' | 'removeAll';

/** One step a replay takes, announced before it is taken. */
export interface WriterStep {
  readonly phase: WriterPhase;
  readonly op: WriterOp;
  /** Relative to the volume root ('' is the root itself). */
  readonly path: string;
  /** symlink: the link's target; rename: the destination. */
  readonly target?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** False for the reads the writer makes to decide what to do; a watcher sees no change from those. */
  readonly mutates: boolean;
}

/** A replay: yields each step before taking it, and returns its outcome. */
export type Replay<T> = Generator<WriterStep, T, void>;

/** Announces `step`, then, once resumed, takes it. */
export function* take<T>(step: WriterStep, action: () => T): Replay<T> {
  yield step;
  return action();
}

/** Runs a replay to the end without giving up the thread; `visit` sees each step before it is taken. */
export function replaySync<T>(replay: Replay<T>, visit: (step: WriterStep) => void): T {
  for (;;) {
    const next = replay.next();
    if (next.done === true) return next.value;
    visit(next.value);
  }
}

/**
 * Runs a replay, awaiting `visit` before each step and letting the event loop
 * turn (I/O callbacks included) before the step is taken.
 */
export async function replayAsync<T>(replay: Replay<T>, visit: (step: WriterStep) => void | Promise<void>): Promise<T> {
  for (;;) {
    const next = replay.next();
    if (next.done === true) return next.value;
    await visit(next.value);
    await nextTurn();
  }
}
