// A copy of the built library that any user can load, for tests that run
// code as an unprivileged uid (setpriv --reuid=65534). The work tree itself
// may sit under a directory such a user cannot enter (/root, a 0700 CI
// workspace), and a test must not fail for where it was cloned.
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Cleanup } from './child-process';

/** dist/test/helpers -> the package root. */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

const ADDON_PARTS = ['build/Release/config_reloader_native.node', 'prebuilds'];

/**
 * Copies what `require('<root>/dist/lib/<module>.js')` and the CLI bundle
 * need (dist/lib, dist/bin, the compiled addon, node-gyp-build) into a fresh
 * world-readable directory, removed when `cleanup` runs, and returns that
 * directory. With `addon: false`, neither build/ nor prebuilds/ is copied:
 * the package as it is when its install script never ran.
 */
export function copyPackageReadableByAll(cleanup: Cleanup, options: { readonly addon?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'config-reloader-pkg-'));
  cleanup.after(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const parts = ['package.json', 'dist/lib', 'dist/bin', 'node_modules/node-gyp-build', ...(options.addon === false ? [] : ADDON_PARTS)];
  for (const part of parts) {
    const from = join(PACKAGE_ROOT, part);
    if (existsSync(from)) cpSync(from, join(root, part), { recursive: true });
  }
  return root;
}
