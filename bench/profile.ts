// Where the sidecar spends its time: runs one bench scenario with the
// sidecar under V8's sampling profiler and prints the functions with the most
// self time. For finding out why a goal is missed, not part of `npm run bench`.
//
// Usage: node dist/bench/profile.js latency|tree [--updates N] [--keep DIR]
//   latency: the kubelet-update latency run (default 200 updates)
//   tree:    start-up on the 10,000-directory tree, then the burst
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compilePrograms } from './compile';
import { measureLatency } from './latency';
import { sidecar } from './reloaders';
import { measureSidecarBurst, measureStartup } from './scale';
import { SignalTarget } from './signal-target';
import { buildTree } from './tree';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time per function (µs), from the samples and the time between them. */
export function selfTimes(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index + 1] ?? 0;
    if (node === undefined) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\//, '').replace(/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + delta);
  });
  return totals;
}

export function report(profileDir: string): void {
  for (const file of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
    const totals = selfTimes(profile);
    const idle = totals.get('(idle) :0') ?? 0;
    const busy = [...totals.values()].reduce((a, b) => a + b, 0) - idle;
    process.stdout.write(`\n${file}: ${(busy / 1000).toFixed(1)} ms busy of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms\n`);
    const top = [...totals.entries()].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 30);
    for (const [key, us] of top) {
      process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}\n`);
    }
  }
}

async function main(): Promise<void> {
  const [scenario = 'latency', ...rest] = process.argv.slice(2);
  const updatesIndex = rest.indexOf('--updates');
  const updates = updatesIndex >= 0 ? Number(rest[updatesIndex + 1]) : 200;
  const keepIndex = rest.indexOf('--keep');
  const tmpRoot = mkdtempSync(join('/dev/shm', 'config-reloader-profile-'));
  const profileDir = keepIndex >= 0 ? (rest[keepIndex + 1] ?? tmpdir()) : join(tmpRoot, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const nodeArgs = ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${profileDir}`];
  try {
    const programs = compilePrograms(tmpRoot);
    if (scenario === 'latency') {
      const [result] = await measureLatency(
        [{ reloader: sidecar, updates, lostAfterMs: 1000, gapMs: [55, 75], nodeArgs }],
        { programs, tmpRoot, warmup: 5, block: updates },
      );
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else if (scenario === 'tree') {
      const tree = buildTree(tmpRoot);
      const target = await SignalTarget.start(programs.signalTarget);
      const { result, child } = await measureStartup(sidecar, tree, programs, target, nodeArgs);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (child !== undefined) {
        process.stdout.write(`${JSON.stringify(await measureSidecarBurst(child, target, programs, tree, 50000))}\n`);
        await child.stop();
      }
      await target.stop();
    } else {
      throw new Error(`profile: scenario must be latency or tree, got ${scenario}`);
    }
    report(profileDir);
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`profile failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
