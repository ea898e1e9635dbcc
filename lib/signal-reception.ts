// How a process would take a signal: through a handler, or without one. Pure:
// it judges facts read from /proc (signal-facts.ts reads them), so every rule
// is tested with tables (test/signal-reception.test.ts) as well as with real
// processes.
//
// A handler (SigCgt) is the usual way, but not the only safe one. Init shims
// such as tini and catatonit, and event-loop daemons, install none: they
// block the signal in every thread and read it synchronously, with
// sigwait(3)/sigtimedwait(2) or from a signalfd(2). A blocked signal is never
// delivered with its default action; it stays pending until it is read.
//
// What the kernel does with a signal sent to a process (kernel/signal.c):
// - It is queued for the process unless the main thread neither blocks it nor
//   waits for it and its disposition is SIG_IGN (SigIgn): then it is dropped.
// - It goes to a thread that does not block it. If no handler is installed
//   and the default action terminates, the whole process dies at once,
//   unless the chosen thread is waiting for it in sigtimedwait AND had it
//   blocked before it began to wait.
//
// What /proc shows of that, and what it hides:
// - SigBlk is per thread (/proc/<pid>/task/<tid>/status): a signal is safe
//   when every thread blocks it.
// - While a thread sits in sigtimedwait the kernel unblocks the awaited
//   signals for it, so they are missing from its SigBlk; the mask it had
//   before (real_blocked) is shown nowhere. Which signals it waits for is the
//   sigset_t the first argument of rt_sigtimedwait points to, read from its
//   memory (signal-facts.ts). A program that waits for a signal without
//   having blocked it (against POSIX) is killed by that signal even while it
//   waits; /proc cannot tell it from a correct one, and neither can this.
// - A signalfd only reads signals that are blocked, so it adds no safety;
//   it tells that a blocked signal will be read, not left pending for ever.
import { maskHas } from './proc-parse';
import { type DefaultAction, defaultAction } from './signals';

/** What a thread is waiting in, as far as /proc lets the reader see. */
export type ThreadWait =
  /** In rt_sigtimedwait (sigwait, sigwaitinfo, sigtimedwait) for `set`; undefined when its memory cannot be read. */
  | { readonly in: 'sigtimedwait'; readonly set: bigint | undefined }
  /** Not waiting for signals: running, or asleep in any other call. */
  | { readonly in: 'other' }
  /** The reader may not know (another uid without CAP_SYS_PTRACE). */
  | { readonly in: 'unknown' };

export interface ThreadSignalState {
  readonly tid: number;
  /** SigBlk of this thread; the signals it awaits in sigtimedwait are missing from it meanwhile. */
  readonly blocked: bigint;
  /** Read only for threads that do not block the signal in question. */
  readonly wait?: ThreadWait;
}

/** What /proc shows about how a process takes one signal (see readSignalFacts). */
export interface SignalFacts {
  readonly pid: number;
  /** SigCgt: shared by all threads. */
  readonly caught: bigint;
  /** SigIgn: shared by all threads. */
  readonly ignored: bigint;
  /** Every thread, unless a handler makes them irrelevant (then empty). */
  readonly threads: readonly ThreadSignalState[];
  /**
   * The masks of the process's signalfds: read only when every thread blocks
   * the signal, and undefined when they were not read or could not be.
   */
  readonly signalfds?: readonly bigint[];
}

/** How the process takes the signal. */
export type SignalReception =
  /** A handler is installed (SigCgt). */
  | { readonly by: 'handler' }
  /** `threads` wait for it in sigwait/sigtimedwait; every other thread blocks it. */
  | { readonly by: 'sigwait'; readonly threads: readonly number[] }
  /** Every thread blocks it and a signalfd reads it. */
  | { readonly by: 'signalfd' }
  /** Every thread blocks it; no reader is visible: it stays pending until the app reads it (or unblocks it). */
  | { readonly by: 'blocked' }
  /** Set to SIG_IGN and not blocked: the kernel drops it. */
  | { readonly by: 'ignored' }
  /** Taken with its default action by `threads`, which neither block it nor wait for it. */
  | { readonly by: 'default'; readonly action: DefaultAction; readonly threads: readonly number[] }
  /**
   * `threads` do not block it, and whether they wait for it cannot be read:
   * their wchan and syscall need ptrace read access (the same uid, or
   * CAP_SYS_PTRACE), the awaited set the process's memory (ptrace attach).
   */
  | { readonly by: 'unknown'; readonly threads: readonly number[] };

/** Judges the facts: how the process takes signal `signo`. */
export function judgeSignalReception(facts: SignalFacts, signo: number): SignalReception {
  if (maskHas(facts.caught, signo)) return { by: 'handler' };
  const waiting: number[] = [];
  const open: number[] = [];
  const unknown: number[] = [];
  for (const thread of facts.threads) {
    if (maskHas(thread.blocked, signo)) continue;
    const wait = thread.wait;
    if (wait?.in === 'sigtimedwait' && wait.set !== undefined) (maskHas(wait.set, signo) ? waiting : open).push(thread.tid);
    else if (wait?.in === 'other') open.push(thread.tid);
    else unknown.push(thread.tid);
  }
  if (open.length === 0 && unknown.length === 0 && facts.threads.length > 0) {
    if (waiting.length > 0) return { by: 'sigwait', threads: waiting };
    return facts.signalfds?.some((mask) => maskHas(mask, signo)) === true ? { by: 'signalfd' } : { by: 'blocked' };
  }
  if (maskHas(facts.ignored, signo)) return { by: 'ignored' };
  const action = defaultAction(signo);
  // One thread that takes it with the default action is enough: the kernel
  // may choose that thread, whatever the others do.
  if (open.length > 0) return { by: 'default', action, threads: open };
  if (harmless(action)) return { by: 'default', action, threads: unknown };
  return { by: 'unknown', threads: unknown };
}

function harmless(action: DefaultAction): boolean {
  return action === 'ignore' || action === 'continue';
}

/**
 * True when sending the signal can neither end nor stop the process: it is
 * caught, read, held pending, dropped, or its default action does nothing.
 * False for `default` with an action that terminates, dumps core or stops,
 * and for `unknown`.
 */
export function receptionIsSafe(reception: SignalReception): boolean {
  if (reception.by === 'default') return harmless(reception.action);
  return reception.by !== 'unknown';
}

/** True when the app will see the signal: a handler runs, or a thread reads it. */
export function receptionReachesApp(reception: SignalReception): boolean {
  return reception.by === 'handler' || reception.by === 'sigwait' || reception.by === 'signalfd';
}
