// The prebuilds load on every system the package claims (README,
// "Development"): glibc 2.28 or later with the libstdc++ and libgcc_s of
// GCC 8, the baseline of Node 20's own Linux binaries (built on RHEL 8).
// The proof is in each file's ELF version requirements (.gnu.version_r): a
// symbol the linker bound to a newer version than the baseline has (built
// against glibc 2.34 or later, pthread_create binds to GLIBC_2.34) makes
// dlopen fail on an older system with "version `GLIBC_2.34' not found".
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { tempDir } from './helpers/inotify-kit';
import { PACKAGE_ROOT } from './helpers/package-copy';
import { ensurePrebuilds, type PrebuildArch } from './helpers/prebuilds';

/** The newest symbol version each baseline library provides. */
const BASELINE: Readonly<Record<string, string>> = {
  GLIBC: '2.28',
  // GCC 8.1: libstdc++ GLIBCXX_3.4.25 and CXXABI_1.3.11; its libgcc_s has nothing after GCC_7.0.0.
  GLIBCXX: '3.4.25',
  CXXABI: '1.3.11',
  GCC: '7.0.0',
};
/** The shared libraries every glibc system that runs Node has. */
const BASELINE_LIBRARIES = new Set(['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1']);

interface Requirements {
  readonly libraries: string[];
  /** `GLIBC_2.14` and the like, from every library's version needs. */
  readonly versions: string[];
}

/** NEEDED entries and version needs from `readelf --wide -d -V`. */
async function requirements(file: string): Promise<Requirements> {
  const result = await runCommand('readelf', ['--wide', '-d', '-V', file]);
  assert.equal(result.code, 0, describeResult(result));
  const libraries = [...result.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1] ?? '');
  const needs = result.stdout.slice(result.stdout.indexOf(".gnu.version_r'"));
  const versions = [...needs.matchAll(/^\s*0x[0-9a-f]+:\s+Name: (\S+)/gm)].map((match) => match[1] ?? '');
  assert.ok(libraries.length > 0 && versions.length > 0, `readelf found the requirements of ${file}:\n${result.stdout}`);
  return { libraries, versions };
}

function newer(version: string, than: string): boolean {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return false;
}

/** What `file` needs beyond the baseline, one line each: empty when it loads on every claimed system. */
async function beyondBaseline(file: string): Promise<string[]> {
  const { libraries, versions } = await requirements(file);
  const problems = libraries.filter((library) => !BASELINE_LIBRARIES.has(library)).map((library) => `links ${library}`);
  for (const name of versions) {
    const match = /^([A-Z]+)_([\d.]+)$/.exec(name);
    const baseline = match === null ? undefined : BASELINE[match[1] ?? ''];
    if (match === null || baseline === undefined) problems.push(`needs ${name}, from no baseline library`);
    else if (newer(match[2] ?? '', baseline)) problems.push(`needs ${name}, newer than ${match[1]}_${baseline}`);
  }
  return problems;
}

before(async () => {
  const result = await runCommand('bash', [join(PACKAGE_ROOT, 'scripts', 'ensure-debian-packages.sh'), 'binutils', 'gcc', 'libc6-dev'], {
    timeoutMs: 300_000,
  });
  assert.equal(result.code, 0, describeResult(result));
});

test('the baseline is the one the README states', () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes('glibc 2.28 or later with the libstdc++ of GCC 8'), 'README.md states the baseline these tests hold the prebuilds to');
});

test('a library built here that calls pthread_create is refused: it needs GLIBC_2.34', async (t) => {
  // The check itself can fail: this machine's glibc (2.34 or later) binds
  // pthread_create to GLIBC_2.34, as it once did for the addon's own thread.
  const dir = tempDir(t, 'prebuild-glibc-');
  writeFileSync(
    join(dir, 'thread.c'),
    '#include <pthread.h>\nstatic void *run(void *arg) { return arg; }\nint start(pthread_t *t) { return pthread_create(t, 0, run, 0); }\n',
  );
  const built = await runCommand('gcc', ['-shared', '-fPIC', '-o', join(dir, 'thread.so'), join(dir, 'thread.c')]);
  assert.equal(built.code, 0, describeResult(built));
  assert.ok((await beyondBaseline(join(dir, 'thread.so'))).includes('needs GLIBC_2.34, newer than GLIBC_2.28'));
});

for (const arch of ['x64', 'arm64'] as const satisfies readonly PrebuildArch[]) {
  test(`the linux-${arch} prebuild needs nothing newer than glibc 2.28 and the libstdc++ of GCC 8`, { timeout: 600_000 }, async (t) => {
    const files = await ensurePrebuilds(t, arch);
    for (const file of files) assert.deepEqual(await beyondBaseline(file), [], file);
  });
}
