// What `npm pack` puts in the tarball: the library (its testing entry too), the CLI, the addon's
// sources and prebuilds; nothing that only serves this repository.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { PACKAGE_ROOT } from './helpers/package-copy';

interface PackReport {
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

test('npm pack ships the library with its testing entry, the CLI and the addon sources, and no demo, test or benchmark code', async () => {
  // --ignore-scripts: `prepare` would rebuild dist/, which the suite has just built.
  const result = await runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_ROOT });
  assert.equal(result.code, 0, describeResult(result));
  const [report] = JSON.parse(result.stdout) as PackReport[];
  assert.ok(report !== undefined, result.stdout);
  const paths = report.files.map((file) => file.path);
  for (const required of [
    'package.json', 'README.md', 'binding.gyp', 'native/addon.cc', 'native/inotify_handle.cc', 'native/signals.cc',
    'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/native.js', 'dist/lib/process-handle.js', 'dist/lib/sidecar/cli/version.js',
    'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', 'dist/bin/config-reloader.js',
  ]) {
    assert.ok(paths.includes(required), `${required} is missing from the tarball`);
  }
  const stray = paths.filter((path) => /^(dist\/)?(test|bench|scripts|examples)\/|^dist\/demo\//.test(path));
  assert.deepEqual(stray, []);
});
