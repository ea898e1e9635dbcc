// A content fingerprint of what the app reads: every regular file reachable
// from the configured directories through user-visible names
// (fingerprint-walk.ts says how, and within which bounds). A reload is sent
// only when it differs from the last one delivered, so bookkeeping events,
// chmod walks and rewrites of identical bytes never reach the app.
//
// With a key, every digest is an HMAC-SHA256 under it. A plain sha256 of a
// one-key Secret holding a short password can be reversed with a
// dictionary; a keyed digest cannot without the key, so it can be shown on
// an unauthenticated endpoint and in logs.
import { createHash, createHmac } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { DEFAULT_LIMITS, type FingerprintLimits, type FingerprintSkip, type HasherFactory, Walk, type WalkResult } from './fingerprint-walk';
import { DATA_LINK } from './kubelet-volume';

export { DEFAULT_LIMITS as FINGERPRINT_LIMITS, FingerprintReadError } from './fingerprint-walk';
export type { FingerprintLimits, FingerprintSkip } from './fingerprint-walk';

export interface Fingerprint {
  /** sha256 (or HMAC-SHA256 under the key) over every file's path and content digest, hex. */
  readonly digest: string;
  /**
   * User-visible path -> digest of its content; `unreadable:<identity>` for
   * a file that exists and cannot be read, `identity:<...>` for one past the
   * byte budget, `error:<code>` for one that cannot be opened for good.
   */
  readonly files: ReadonlyMap<string, string>;
  /** Files and directories that exist and cannot be read (EACCES, EPERM): counted by identity only. */
  readonly unreadable: readonly string[];
  /** Paths not followed or read in part: system filesystems, cycles, the caps. */
  readonly skipped: readonly FingerprintSkip[];
  /** Real directories read through symbolic links: watch them to see changes made there. */
  readonly linkedDirs: readonly string[];
}

export interface FingerprintOptions {
  /** Key for HMAC-SHA256 digests; plain sha256 without one. */
  readonly key?: Buffer | string;
  /** Bounds of one walk; each defaults to {@link FINGERPRINT_LIMITS}. */
  readonly limits?: Partial<FingerprintLimits>;
}

/** Walks again when a kubelet volume committed during the walk; past this, the last walk stands. */
const WALKS_PER_FINGERPRINT = 3;

/**
 * Reads and hashes the tree, yielding to the event loop between slices of a
 * few milliseconds: a tree of many or large files never stalls the process.
 * Configuration is usually small, and then this finishes in one slice.
 *
 * For a kubelet volume the walk reads the payload `..data` names, whose
 * top-level names are exactly the user-visible ones once the kubelet
 * finishes its update: a fingerprint taken at the commit point already
 * includes a key whose link the kubelet creates a moment later.
 *
 * Rejects with a FingerprintReadError when a read failed for a reason that
 * says nothing about the content (EMFILE, EIO, ...): never a partial result.
 */
export async function fingerprint(dirs: readonly string[], options: FingerprintOptions = {}): Promise<Fingerprint> {
  for (let attempt = 1; ; attempt++) {
    const walk = new Walk(limitsOf(options), hasherOf(options.key));
    const steps = walk.run(dirs);
    let step = steps.next();
    while (step.done !== true) {
      await nextTurn();
      step = steps.next();
    }
    if (attempt >= WALKS_PER_FINGERPRINT || !moved(step.value)) return finish(step.value, options.key);
  }
}

/** {@link fingerprint} in one go, for callers that may block: a CLI, a benchmark. */
export function fingerprintSync(dirs: readonly string[], options: FingerprintOptions = {}): Fingerprint {
  for (let attempt = 1; ; attempt++) {
    const steps = new Walk(limitsOf(options), hasherOf(options.key)).run(dirs);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    if (attempt >= WALKS_PER_FINGERPRINT || !moved(step.value)) return finish(step.value, options.key);
  }
}

function limitsOf(options: FingerprintOptions): FingerprintLimits {
  return { ...DEFAULT_LIMITS, ...options.limits };
}

function hasherOf(key: Buffer | string | undefined): HasherFactory {
  return key === undefined ? () => createHash('sha256') : () => createHmac('sha256', key);
}

/** True when a volume's `..data` points elsewhere than when the walk read it: a commit came in between. */
function moved(result: WalkResult): boolean {
  for (const [volume, target] of result.commits) {
    try {
      if (readlinkSync(join(volume, DATA_LINK)) !== target) return true;
    } catch {
      return true;
    }
  }
  return false;
}

function finish(result: WalkResult, key: Buffer | string | undefined): Fingerprint {
  const hash = hasherOf(key)();
  for (const path of [...result.files.keys()].sort()) hash.update(Buffer.from(`${path}\0${result.files.get(path) ?? ''}\n`));
  return {
    digest: hash.digest('hex'),
    files: result.files,
    unreadable: [...result.unreadable].sort(),
    skipped: result.skipped,
    linkedDirs: [...result.linkedDirs].sort(),
  };
}

export interface FileChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

export function diffFingerprints(before: Fingerprint, after: Fingerprint): FileChanges {
  const added: string[] = [];
  const modified: string[] = [];
  for (const [path, hash] of after.files) {
    const old = before.files.get(path);
    if (old === undefined) added.push(path);
    else if (old !== hash) modified.push(path);
  }
  const removed = [...before.files.keys()].filter((path) => !after.files.has(path));
  return { added: added.sort(), removed: removed.sort(), modified: modified.sort() };
}
