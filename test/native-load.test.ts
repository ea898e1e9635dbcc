// A package whose addon was never compiled (install scripts off, and no
// prebuild for the platform) must say how to get one, not only that it is
// missing: the library when required, and the command when it starts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { tempDir } from './helpers/inotify-kit';
import { copyPackageReadableByAll } from './helpers/package-copy';

function assertExplainsTheFix(text: string): void {
  // node-gyp-build's own words, kept: they say what was looked for.
  assert.match(text, /No native build was found for platform=linux arch=\S+ runtime=node abi=\d+/);
  assert.match(text, /`npm rebuild config-reloader-sidecar` \(needs python3, make and g\+\+\)/);
  assert.match(text, /`ignore-scripts` is not set in an \.npmrc and that `--ignore-scripts` was not used/);
  assert.match(text, /linux-x64 or linux-arm64, with glibc 2\.28 or later/);
}

test('without build/ or prebuilds/ the library loads, and its first use of the addon fails with the missing build and how to get one', async (t) => {
  const root = copyPackageReadableByAll(t, { addon: false });
  const script = `
    // The addon is loaded on first use: requiring the library must not need it.
    const { Inotify } = require(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});
    try {
      new Inotify();
    } catch (error) {
      console.log(JSON.stringify({ message: error.message, cause: error.cause instanceof Error }));
      process.exit(0);
    }
    process.exit(3);
  `;
  const result = await runCommand(process.execPath, ['-e', script], { env: { ...process.env, PREBUILDS_ONLY: '' } });
  assert.equal(result.code, 0, `new Inotify() must throw: ${describeResult(result)}`);
  const { message, cause } = JSON.parse(result.stdout) as { message: string; cause: boolean };
  assertExplainsTheFix(message);
  assert.equal(cause, true, 'the original error is kept as the cause');
});

test('the command without build/ or prebuilds/ exits 1 with the missing build and how to get one', async (t) => {
  const root = copyPackageReadableByAll(t, { addon: false });
  const result = await runCommand(
    process.execPath,
    [join(root, 'dist', 'bin', 'config-reloader.js'), '--config-dir', tempDir(t), '--process-name', 'nothing-here'],
    { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } },
  );
  assert.equal(result.code, 1, describeResult(result));
  // Logged as the reason the configuration cannot be watched: the first use of the addon.
  assertExplainsTheFix(result.stdout + result.stderr);
});
