// The sidecar image as built from the Dockerfile: what it runs, as whom, and
// that it needs nothing a locked-down Pod takes away.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { V8_FLAGS } from '../lib/sidecar/cli/v8-flags';
import { IMAGES, podman, podmanOk, REPO_ROOT } from './podman';

const LOCKED_DOWN = ['--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--network', 'none'];
const packageVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface ImageConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly User: string;
}

test('the entrypoint is exec-form node, given the CLI\'s V8 flags, running the CLI, as a non-root user', async (t) => {
  const config = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', IMAGES.sidecar])) as ImageConfig;
  assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', ...V8_FLAGS, '/app/dist/bin/config-reloader.js']);
  assert.equal((config.Cmd ?? []).length, 0, `no default arguments: ${JSON.stringify(config.Cmd)}`);
  assert.equal(config.User, '65532:65532');
  const size = Number((await podmanOk(['image', 'inspect', '--format', '{{.Size}}', IMAGES.sidecar])).trim());
  t.diagnostic(`uncompressed image size: ${(size / 1e6).toFixed(1)} MB`);
});

test('the image has no shell', async () => {
  const result = await podman(['run', '--rm', '--entrypoint', '/bin/sh', IMAGES.sidecar, '-c', 'true']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /\/bin\/sh.*(no such file|not found)/i);
});

test('runs on a read-only root filesystem with every capability dropped and no network', async () => {
  const result = await podman(['run', '--rm', ...LOCKED_DOWN, IMAGES.sidecar, '--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), packageVersion);
});

test('runs as an arbitrary uid, as OpenShift assigns them', async () => {
  const result = await podman(['run', '--rm', ...LOCKED_DOWN, '--user', '1000770000:0', IMAGES.sidecar, '--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), packageVersion);
});

test('/app holds only what the runtime loads: the bundles, the addon, its loader, node-gyp-build and package.json', async () => {
  const script = "console.log(JSON.stringify(require('fs').readdirSync('/app', { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => require('path').relative('/app', require('path').join(e.parentPath ?? e.path, e.name))).sort()))";
  const result = await podman(['run', '--rm', ...LOCKED_DOWN, '--entrypoint', '/usr/local/bin/node', IMAGES.sidecar, '-e', script]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout) as unknown, [
    'build/Release/config_reloader_native.node',
    'dist/bin/config-reloader.js',
    'dist/bin/metrics.js',
    'dist/lib/native.js',
    'node_modules/node-gyp-build/LICENSE',
    'node_modules/node-gyp-build/index.js',
    'node_modules/node-gyp-build/node-gyp-build.js',
    'node_modules/node-gyp-build/package.json',
    'package.json',
  ]);
});

test('the native addon loads from the image and talks to the kernel', async () => {
  const script = "const { native } = require('/app/dist/lib/native.js'); const h = new native.InotifyHandle(() => {}, () => {}); const wd = h.addWatch('/app', 0x100); h.close(); console.log(wd > 0 ? 'inotify ok' : `watch descriptor ${wd}`);";
  const result = await podman(['run', '--rm', ...LOCKED_DOWN, '--entrypoint', '/usr/local/bin/node', IMAGES.sidecar, '-e', script]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'inotify ok');
});

test('a bad setting is one line on stderr and exit code 2', async () => {
  const result = await podman(['run', '--rm', ...LOCKED_DOWN, '--env', 'PROCESS_NAME=nginx', IMAGES.sidecar]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^config-reloader: CONFIG_DIR .*not set.*accepted/m);
});
