// Builds the C programs in test/helpers with the system compiler: the
// seccomp launcher, so tests can run code under a real seccomp filter, and
// a process whose main thread exits before the others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Cleanup, describeResult, runCommand } from './child-process';
import { PACKAGE_ROOT } from './package-copy';

/**
 * Compiles the launcher into a temporary directory (removed when `cleanup`
 * runs) and returns its path. Usage: `<path> ERRNO PROGRAM [ARG...]`.
 */
export function buildPidfdOpenDenier(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'seccomp-deny-pidfd-open');
}

/** Compiles leader-exits.c (see that file); run it and read its pid from the first line. */
export function buildLeaderExits(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'leader-exits', ['-pthread']);
}

async function buildHelper(cleanup: Cleanup, name: string, flags: readonly string[] = []): Promise<string> {
  const source = join(PACKAGE_ROOT, 'test', 'helpers', `${name}.c`);
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  const output = join(dir, name);
  const result = await runCommand('gcc', ['-O2', '-Wall', '-Werror', ...flags, '-o', output, source]).catch((error: unknown) => {
    throw new Error(`gcc is needed to build ${source} (apt-get install gcc libc6-dev): ${String(error)}`);
  });
  if (result.code !== 0) throw new Error(`gcc failed to build ${source}: ${describeResult(result)}`);
  return output;
}
