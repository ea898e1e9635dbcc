// Builds test/helpers/seccomp-deny-pidfd-open.c with the system compiler,
// so tests can run code under a real seccomp filter (see that file).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Cleanup, describeResult, runCommand } from './child-process';
import { PACKAGE_ROOT } from './package-copy';

const SOURCE = join(PACKAGE_ROOT, 'test', 'helpers', 'seccomp-deny-pidfd-open.c');

/**
 * Compiles the launcher into a temporary directory (removed when `cleanup`
 * runs) and returns its path. Usage: `<path> ERRNO PROGRAM [ARG...]`.
 */
export async function buildPidfdOpenDenier(cleanup: Cleanup): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'seccomp-'));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  const output = join(dir, 'seccomp-deny-pidfd-open');
  const result = await runCommand('gcc', ['-O2', '-Wall', '-Werror', '-o', output, SOURCE]).catch((error: unknown) => {
    throw new Error(`gcc is needed to build the seccomp launcher (apt-get install gcc libc6-dev): ${String(error)}`);
  });
  if (result.code !== 0) throw new Error(`gcc failed to build ${SOURCE}: ${describeResult(result)}`);
  return output;
}
