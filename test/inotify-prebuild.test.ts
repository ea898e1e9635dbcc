// What npm users get: the package without build/, loading only the shipped
// prebuild (PREBUILDS_ONLY=1), must load that file and watch for real.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { tempDir } from './helpers/inotify-kit';
import { ensurePrebuilds, hostArch } from './helpers/prebuilds';

/** dist/test -> the package root. */
const ROOT = join(__dirname, '..', '..');
const PLATFORM_DIR = `${process.platform}-${process.arch}`;

test('the package without build/ loads the prebuild under PREBUILDS_ONLY=1 and watches', { timeout: 600_000 }, async (t) => {
  const prebuilds = await ensurePrebuilds(t, hostArch());
  // prebuildify names a Node-API build <package>.<libc>.node: one file serves every Node version.
  assert.ok(prebuilds.some((f) => /\.(glibc|musl)\.node$/.test(f)), `a libc-tagged prebuild: ${prebuilds.join(', ')}`);

  // What `npm pack` ships (files: dist/lib, prebuilds), without build/.
  const pkg = mkdtempSync(join(tmpdir(), 'inotify-prebuilt-pkg-'));
  t.after(() => rmSync(pkg, { recursive: true, force: true }));
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(ROOT, 'dist', 'lib'), join(pkg, 'dist', 'lib'), { recursive: true });
  cpSync(join(ROOT, 'prebuilds'), join(pkg, 'prebuilds'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  assert.equal(existsSync(join(pkg, 'build')), false);

  const watched = tempDir(t);
  const script = `
    const fs = require('fs');
    const nativeAddonPath = require('./dist/lib/native').nativeAddonPath();
    const { Inotify } = require('./dist/lib/inotify');
    const inotify = new Inotify();
    inotify.watch(process.env.WATCHED, 0x100);
    inotify.once('event', (event) => {
      // The file the dynamic linker actually mapped, not just the one node-gyp-build named.
      const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
        .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
      console.log(JSON.stringify({ nativeAddonPath, mapped: [...new Set(mapped)], name: event.name }));
      inotify.close();
    });
    fs.writeFileSync(process.env.WATCHED + '/from-prebuild', '');
  `;
  const result = await runCommand(process.execPath, ['-e', script], {
    cwd: pkg,
    env: { ...process.env, PREBUILDS_ONLY: '1', WATCHED: watched },
  });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { nativeAddonPath: string; mapped: string[]; name: string };
  const prebuildDir = join(pkg, 'prebuilds', PLATFORM_DIR);
  assert.ok(outcome.nativeAddonPath.startsWith(`${prebuildDir}/`), `loaded ${outcome.nativeAddonPath}`);
  assert.deepEqual(outcome.mapped, [outcome.nativeAddonPath], 'the prebuild, and nothing else, is mapped');
  assert.equal(outcome.name, 'from-prebuild');
});

test('PREBUILDS_ONLY=1 without prebuilds fails to load instead of falling back to build/', async (t) => {
  const pkg = mkdtempSync(join(tmpdir(), 'inotify-nothing-pkg-'));
  t.after(() => rmSync(pkg, { recursive: true, force: true }));
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(ROOT, 'dist', 'lib'), join(pkg, 'dist', 'lib'), { recursive: true });
  cpSync(join(ROOT, 'build', 'Release', 'config_reloader_native.node'), join(pkg, 'build', 'Release', 'config_reloader_native.node'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  writeFileSync(join(pkg, 'load.js'), "new (require('./dist/lib/inotify').Inotify)();\n");
  const result = await runCommand(process.execPath, ['load.js'], { cwd: pkg, env: { ...process.env, PREBUILDS_ONLY: '1' } });
  assert.notEqual(result.code, 0, 'a build/ must not satisfy PREBUILDS_ONLY');
  assert.match(result.stderr, /No native build was found/);
});
