// The linux-arm64 prebuild, run: an arm64 node (Debian's nodejs, in an arm64
// userland that scripts/arm64-userland.sh caches under .tmp/) started by
// qemu-user on this machine loads it from a package without build/, as
// node-gyp-build picks it on an arm64 machine, and uses it for real: an
// inotify watch sees a file written, and a signal reaches a process of this
// machine, through a pidfd where the emulator passes pidfd_open through, or
// else through the kill(2) fallback that signalProcess documents (ENOSYS).
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { parseStat } from '../lib/proc-parse';
import { describeResult, runCommand, spawnTracked, waitForExit } from './helpers/child-process';
import { tempDir } from './helpers/inotify-kit';
import { copyPackageReadableByAll, PACKAGE_ROOT } from './helpers/package-copy';
import { ensurePrebuilds, prebuildDir } from './helpers/prebuilds';

/** Runs in the arm64 node: watch, write, then signal the target, and report what happened. */
const SCRIPT = `
const { readFileSync, writeFileSync } = require('fs');
const lib = require(process.env.PACKAGE + '/dist/lib/index.js');
const { native } = require(process.env.PACKAGE + '/dist/lib/native.js');
const nativeAddonPath = require(process.env.PACKAGE + '/dist/lib/native.js').nativeAddonPath();
let pidfdOpen = 'works';
try {
  native.closeFd(native.pidfdOpen(process.pid));
} catch (error) {
  pidfdOpen = error.code;
}
const inotify = new lib.Inotify();
inotify.watch(process.env.WATCHED, lib.IN_CLOSE_WRITE);
inotify.once('event', (event) => {
  inotify.close();
  // The addon files mapped, as the emulator shows the guest's own mappings.
  const mapped = readFileSync('/proc/self/maps', 'utf8').split('\\n')
    .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
  const target = { pid: Number(process.env.TARGET_PID), startTime: Number(process.env.TARGET_START_TIME) };
  const method = lib.signalProcess(target, lib.parseSignal('SIGTERM').number);
  console.log(JSON.stringify({
    arch: process.arch, nativeAddonPath, mapped: [...new Set(mapped)], kind: event.kind, name: event.name, pidfdOpen, method,
  }));
});
writeFileSync(process.env.WATCHED + '/written-on-arm64', 'x');
`;

interface Outcome {
  readonly arch: string;
  readonly nativeAddonPath: string;
  readonly mapped: string[];
  readonly kind: string;
  readonly name: string;
  readonly pidfdOpen: string;
  readonly method: string;
}

test('the linux-arm64 prebuild, loaded by an arm64 node under qemu-user, watches a directory and signals a process', { timeout: 900_000 }, async (t) => {
  const [prebuild] = await ensurePrebuilds(t, 'arm64');
  assert.ok(prebuild !== undefined);
  const userland = await runCommand('bash', [join(PACKAGE_ROOT, 'scripts', 'arm64-userland.sh')], { timeoutMs: 600_000 });
  assert.equal(userland.code, 0, `scripts/arm64-userland.sh: ${describeResult(userland)}`);
  const root = userland.stdout.trim().split('\n').pop() ?? '';

  // The package as npm installs it on an arm64 machine whose install script found the prebuild: no build/.
  const pkg = copyPackageReadableByAll(t, { addon: false });
  cpSync(prebuildDir('arm64'), join(pkg, 'prebuilds', 'linux-arm64'), { recursive: true });
  const expectedAddon = join(pkg, 'prebuilds', 'linux-arm64', prebuild.split('/').pop() ?? '');

  const target = await spawnTracked(t, 'sleep', ['300']);
  const { startTime } = parseStat(readFileSync(`/proc/${target.pid}/stat`, 'utf8'));
  const result = await runCommand('qemu-aarch64-static', ['-L', root, join(root, 'usr', 'bin', 'node'), '-e', SCRIPT], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      PACKAGE: pkg,
      WATCHED: tempDir(t, 'prebuild-arm64-watched-'),
      TARGET_PID: String(target.pid),
      TARGET_START_TIME: String(startTime),
    },
    timeoutMs: 120_000,
  });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as Outcome;
  assert.equal(outcome.arch, 'arm64');
  assert.equal(outcome.nativeAddonPath, expectedAddon);
  assert.deepEqual(outcome.mapped, [expectedAddon], 'the prebuild, and nothing else, is mapped');
  assert.deepEqual({ kind: outcome.kind, name: outcome.name }, { kind: 'close_write', name: 'written-on-arm64' });
  t.diagnostic(`pidfd_open under qemu-user: ${outcome.pidfdOpen}; SIGTERM sent through ${outcome.method}`);
  if (outcome.pidfdOpen === 'works') {
    assert.equal(outcome.method, 'pidfd');
  } else {
    assert.equal(outcome.pidfdOpen, 'ENOSYS', 'the emulator lacks pidfd_open: the one failure signalProcess falls back on here');
    assert.equal(outcome.method, 'kill');
  }
  assert.deepEqual(await waitForExit(target), { code: null, signal: 'SIGTERM' });
});
