// The package's prebuilds/ as tests need them: no older than the addon's
// sources, rebuilt first when they are. The builds run in a copy of the
// sources (npm run prebuild) or in a scratch directory (prebuild-arm64.sh),
// so the build/ that every other test loads is never rebuilt under them, and
// each file is renamed into prebuilds/, so a reader never sees half of one.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { type Cleanup, describeResult, runCommand } from './child-process';
import { tempDir } from './inotify-kit';
import { PACKAGE_ROOT } from './package-copy';

/** The architectures the package ships prebuilds for, as Node names them. */
export type PrebuildArch = 'x64' | 'arm64';

/** This machine's architecture, which `npm run prebuild` builds for. */
export function hostArch(): PrebuildArch {
  if (process.arch === 'x64' || process.arch === 'arm64') return process.arch;
  throw new Error(`the package ships no prebuild for ${process.arch}`);
}

/** prebuilds/linux-<arch> in the checkout. */
export function prebuildDir(arch: PrebuildArch): string {
  return join(PACKAGE_ROOT, 'prebuilds', `linux-${arch}`);
}

function newestSourceTime(): number {
  const native = join(PACKAGE_ROOT, 'native');
  const sources = [join(PACKAGE_ROOT, 'binding.gyp'), ...readdirSync(native).map((file) => join(native, file))];
  return Math.max(...sources.map((file) => statSync(file).mtimeMs));
}

/** The .node files of prebuilds/linux-<arch>, if every one is newer than the sources. */
export function freshPrebuilds(arch: PrebuildArch): string[] | undefined {
  const dir = prebuildDir(arch);
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((file) => file.endsWith('.node'));
  const newest = newestSourceTime();
  if (files.length === 0 || files.some((file) => statSync(join(dir, file)).mtimeMs <= newest)) return undefined;
  return files;
}

/** `npm run prebuild` in a copy of the sources: this machine's architecture. */
async function buildHostPrebuilds(cleanup: Cleanup, arch: PrebuildArch): Promise<void> {
  assert.equal(hostArch(), arch, `npm run prebuild builds for this machine (${process.arch}), not ${arch}`);
  const work = tempDir(cleanup, 'prebuildify-');
  for (const part of ['package.json', 'binding.gyp', 'native']) cpSync(join(PACKAGE_ROOT, part), join(work, part), { recursive: true });
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(work, 'node_modules'));
  const result = await runCommand('npm', ['run', 'prebuild'], { cwd: work, timeoutMs: 300_000 });
  assert.equal(result.code, 0, `npm run prebuild failed: ${describeResult(result)}`);
  const built = join(work, 'prebuilds', `linux-${arch}`);
  const target = prebuildDir(arch);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(built)) {
    // Beside prebuilds/, not in it: `npm pack` in another test must never list a file about to vanish.
    const staging = join(PACKAGE_ROOT, `.${file}.${process.pid}`);
    cpSync(join(built, file), staging);
    renameSync(staging, join(target, file));
  }
}

/** `npm run prebuild:arm64`: the cross-build, which installs its toolchain and renames its output into prebuilds/. */
async function buildArm64Prebuilds(): Promise<void> {
  const result = await runCommand('bash', [join(PACKAGE_ROOT, 'scripts', 'prebuild-arm64.sh')], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, PREBUILD_OUT: PACKAGE_ROOT },
    timeoutMs: 600_000,
  });
  assert.equal(result.code, 0, `scripts/prebuild-arm64.sh failed: ${describeResult(result)}`);
}

/** The paths of the fresh prebuilds for linux-<arch>, built first if there are none. */
export async function ensurePrebuilds(cleanup: Cleanup, arch: PrebuildArch): Promise<string[]> {
  if (freshPrebuilds(arch) === undefined) {
    if (arch === 'arm64' && hostArch() !== 'arm64') await buildArm64Prebuilds();
    else await buildHostPrebuilds(cleanup, arch);
  }
  const files = freshPrebuilds(arch);
  assert.ok(files !== undefined, `the build left a linux-${arch} prebuild newer than the sources`);
  return files.map((file) => join(prebuildDir(arch), file));
}
