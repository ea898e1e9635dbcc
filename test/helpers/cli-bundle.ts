// Tests run the `config-reloader` command as it ships: the one-file bundle
// that scripts/bundle.ts builds from dist/lib. After `npx tsc -p .` alone the
// bundle would be older than the code under test, and a test would pass or
// fail on the previous build; so a stale or missing bundle is rebuilt, once
// per test process, before any test starts the command. The bundle script
// renames its output into place, so test files doing this at the same time
// never run half a file.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The bundle, relative to the package root (the package's `bin`). */
export const CLI_IN_PACKAGE = join('dist', 'bin', 'config-reloader.js');

/** dist/test/helpers -> the package root. */
const ROOT = join(__dirname, '..', '..', '..');

function newestModificationMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestModificationMs(path));
    else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function modificationMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** The path of a bundle no older than dist/lib, rebuilding it first if needed. */
export function freshCliBundle(): string {
  const bundle = join(ROOT, CLI_IN_PACKAGE);
  if (modificationMs(bundle) < newestModificationMs(join(ROOT, 'dist', 'lib'))) {
    execFileSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'bundle.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return bundle;
}
