// The fast path for kubelet volumes: a native thread (native/commit_signal.h)
// that sends the reload the moment the kubelet commits, without waiting for
// the event loop. This module decides everything it does:
//
// - It runs only when every configured directory is a kubelet volume: there
//   the content changes only at a commit, and the payload a commit points at
//   never changes afterwards, which the rules below rely on.
// - It is armed after each check with the content last delivered (read from
//   that version's payload directory) and the held targets that the event
//   loop would signal first anyway: reached through a pidfd, matched by
//   their comm, so that an unchanged Name and PPid in status is all the
//   check a held target needs (held-targets.ts).
// - It sends only when a file it knows now reads differently, so it never
//   signals for an unchanged update. Additions and removals alone, a new
//   top-level name (whose link the kubelet creates only after the commit, so
//   the app could miss it), a handler not installed yet, anything unreadable:
//   it stands aside, and the event loop decides as it always does, waiting
//   for a handler if it must.
// - The event loop takes its report (disarm) before its own check, and
//   counts those targets as reached only if every directory still points
//   where the thread saw it point: otherwise a later commit came in between,
//   and the app is signalled again for it, even with content back to what
//   was delivered before, since the app may have read the version between.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';

import { errorMessage } from '../errors';
import { type CommitSignalReport, native, type NativeCommitSignal } from '../native';
import { defaultActionTerminates, type Signal } from '../signals';
import { type Fingerprint, fingerprint } from './fingerprint';
import type { HeldTarget } from './held-targets';
import { DATA_LINK, isKubeletVolume } from './kubelet-volume';
import type { SentAhead } from './delivery';
import type { Logger } from './log';

/** A fingerprint and, for kubelet volumes, the payload each `..data` pointed at throughout. */
export interface PinnedFingerprint {
  readonly fingerprint: Fingerprint;
  /** undefined when a commit happened during the walk, or a directory is not a kubelet volume. */
  readonly payloads: readonly string[] | undefined;
}

/** Fingerprints the directories and notes which version of each volume that was. */
export function pinnedFingerprint(dirs: readonly string[]): PinnedFingerprint {
  const before = readPayloads(dirs);
  const print = fingerprint(dirs);
  const after = before === undefined ? undefined : readPayloads(dirs);
  return { fingerprint: print, payloads: after !== undefined && samePayloads(before, after) ? after : undefined };
}

function readPayloads(dirs: readonly string[]): readonly string[] | undefined {
  try {
    return dirs.map((dir) => readlinkSync(join(dir, DATA_LINK)));
  } catch {
    return undefined;
  }
}

function samePayloads(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((payload, index) => payload === b[index]);
}

export interface ArmOptions {
  readonly delivered: PinnedFingerprint;
  readonly held: readonly HeldTarget[];
  readonly processName: string;
  readonly signal: Signal;
}

/** What the thread did since it was armed: whom it signalled, and why. */
export interface Firing extends SentAhead {
  /** The file that proved the change. */
  readonly changed: string;
  /** Where each directory's `..data` pointed when the thread looked. */
  readonly links: readonly string[];
}

/**
 * True when every directory still points where the thread saw it point:
 * the targets it signalled then read the version a check sees now.
 */
export function firedForCurrent(fired: Firing, now: PinnedFingerprint): boolean {
  return samePayloads(now.payloads, fired.links);
}

export class CommitSignal {
  readonly #dirs: readonly string[];
  readonly #native: NativeCommitSignal;
  #armed: readonly HeldTarget[] = [];

  private constructor(dirs: readonly string[], handle: NativeCommitSignal) {
    this.#dirs = dirs;
    this.#native = handle;
  }

  /** The fast path for these directories, or undefined when they are not all kubelet volumes or the thread cannot start. */
  static start(dirs: readonly string[], log: Logger): CommitSignal | undefined {
    if (dirs.length === 0 || !dirs.every(isKubeletVolume)) return undefined;
    try {
      return new CommitSignal(dirs, new native.CommitSignal());
    } catch (error) {
      // Only slower: the event loop delivers every reload by itself.
      log.info('commit signal thread not started', { reason: errorMessage(error) });
      return undefined;
    }
  }

  /** Arms it for the next commit; false when there is nothing it could safely do. */
  arm(options: ArmOptions): boolean {
    const { delivered, processName, signal } = options;
    this.#armed = [];
    const payloads = delivered.payloads;
    if (payloads === undefined) return false;
    const targets = options.held.filter(
      (held) => !held.handle.closed && held.handle.method === 'pidfd' && held.summary.comm === processName,
    );
    if (targets.length === 0) return false;
    const files: { dir: number; relative: string }[] = [];
    const names = this.#dirs.map(() => new Set<string>());
    for (const [path, hash] of delivered.fingerprint.files) {
      const dir = this.#dirs.findIndex((root) => path.startsWith(`${root}/`));
      if (dir < 0) continue;
      const relative = path.slice(this.#dirs[dir]!.length + 1);
      names[dir]!.add(relative.split('/')[0]!);
      if (!hash.startsWith('error:')) files.push({ dir, relative });
    }
    const armed = this.#native.arm({
      commitName: DATA_LINK,
      dirs: this.#dirs.map((path, index) => ({ path, payload: payloads[index]!, names: [...names[index]!] })),
      files,
      targets: targets.map((held) => ({
        pidfd: held.handle.pidfd,
        statusFd: held.handle.statusFd,
        name: held.name,
        ppid: held.summary.ppid,
      })),
      signal: signal.number,
      requireHandler: defaultActionTerminates(signal.number),
    });
    if (armed > 0) this.#armed = targets;
    return armed > 0;
  }

  /** Ends the plan; what the thread did, if it fired. Call it before deciding anything about an update. */
  disarm(): Firing | undefined {
    const report = this.#native.disarm();
    const armed = this.#armed;
    this.#armed = [];
    return report === null ? undefined : firing(report, armed);
  }

  close(): void {
    this.#armed = [];
    this.#native.close();
  }
}

function firing(report: CommitSignalReport, armed: readonly HeldTarget[]): Firing {
  return {
    sent: armed.filter((_, index) => report.results[index] === 0),
    changed: report.changed,
    latencyMs: Number(report.sentAtNs - report.wokeAtNs) / 1e6,
    links: report.links,
  };
}
