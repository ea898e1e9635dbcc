// The scale workload: a plain tree of 10,000 directories (100 top-level
// directories of 99 subdirectories each), and a burst of file events across
// it made by the C burst program.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

export interface Tree {
  readonly root: string;
  /** Every directory under the root, the root excluded. */
  readonly dirs: readonly string[];
}

export function buildTree(tmpRoot: string, top = 100, perTop = 99): Tree {
  const root = mkdtempSync(join(tmpRoot, 'tree-'));
  const dirs: string[] = [];
  for (let t = 0; t < top; t++) {
    const parent = join(root, `t${String(t).padStart(3, '0')}`);
    mkdirSync(parent);
    dirs.push(parent);
    for (let s = 0; s < perTop; s++) {
      const child = join(parent, `s${String(s).padStart(3, '0')}`);
      mkdirSync(child);
      dirs.push(child);
    }
  }
  return { root, dirs };
}

export interface Burst {
  /** CLOCK_MONOTONIC, ns, as the burst program read it. */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly files: number;
}

/**
 * Creates `files` empty files round-robin across the tree: two events each
 * (IN_CREATE, IN_CLOSE_WRITE) under the usual change mask. Runs in its own
 * process so the watcher under test has the CPU to itself as far as 2 cores allow.
 */
export function runBurst(program: string, tree: Tree, files: number): Promise<Burst> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [String(files)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const start = /start (\d+)/.exec(out)?.[1];
      const end = /end (\d+)/.exec(out)?.[1];
      if (code !== 0 || start === undefined || end === undefined) {
        reject(new Error(`burst failed (code ${String(code)}): ${err}`));
        return;
      }
      resolve({ startNs: BigInt(start), endNs: BigInt(end), files });
    });
    child.stdin.end(tree.dirs.join('\n') + '\n');
  });
}
