// Compiles the C programs in test/helpers with the system compiler (gcc, from
// Debian's gcc and libc6-dev), each into a temporary directory that any uid
// may enter, so a test can run the program as another user too.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Cleanup, describeResult, runCommand } from './child-process';
import { PACKAGE_ROOT } from './package-copy';

/** Builds test/helpers/NAME.c with `flags`; returns the binary's path, removed when `cleanup` runs. */
export async function buildHelper(cleanup: Cleanup, name: string, flags: readonly string[] = []): Promise<string> {
  const source = join(PACKAGE_ROOT, 'test', 'helpers', `${name}.c`);
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // mkdtemp makes 0700
  const output = join(dir, name);
  const result = await runCommand('gcc', ['-O2', '-Wall', '-Werror', ...flags, '-o', output, source]).catch((error: unknown) => {
    throw new Error(`gcc is needed to build ${source} (apt-get install gcc libc6-dev): ${String(error)}`);
  });
  if (result.code !== 0) throw new Error(`gcc failed to build ${source}: ${describeResult(result)}`);
  return output;
}
