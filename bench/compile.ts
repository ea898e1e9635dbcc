// The C programs are compiled at bench time, into the run's temporary
// directory: binaries are never committed, and the floor is built with the
// same compiler and flags on every machine that runs the bench.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CPrograms {
  /** The signal target, under a name unique to this run (see targetName). */
  readonly signalTarget: string;
  /** Its process name (comm): what PROCESS_NAME and pkill -x match. */
  readonly targetName: string;
  readonly floorReloader: string;
  readonly burst: string;
}

const sourceDir = join(__dirname, '..', '..', 'bench', 'c');

function compile(source: string, output: string): void {
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', output, join(sourceDir, source)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`gcc failed on bench/c/${source} (is gcc installed? scripts/ensure-debian-packages.sh gcc libc6-dev):\n${stderr}`);
  }
}

export function compilePrograms(dir: string): CPrograms {
  // comm is the executable's basename cut to 15 bytes. A per-run name keeps
  // pkill -x and the sidecar's lookup from finding another run's target.
  const targetName = `sigtgt-${process.pid}`.slice(0, 15);
  const programs: CPrograms = {
    signalTarget: join(dir, targetName),
    targetName,
    floorReloader: join(dir, 'floor-reloader'),
    burst: join(dir, 'burst'),
  };
  compile('signal-target.c', programs.signalTarget);
  compile('floor-reloader.c', programs.floorReloader);
  compile('burst.c', programs.burst);
  return programs;
}
