// The tarball as a user gets it: `npm pack`, then `npm install` of that file
// into an empty project. The library loads and watches, its declarations
// compile in a strict consumer, the bin answers, the metrics endpoint works
// from the prom-client bundled into the CLI, and installing pulls in no
// metrics stack.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { freePort } from './helpers/free-port';
import { tempDir } from './helpers/inotify-kit';
import { packTarball } from './helpers/npm-pack';
import { PACKAGE_ROOT } from './helpers/package-copy';
import { SidecarProcess } from './helpers/sidecar-process';

const NAME = 'config-reloader-sidecar';
const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

let work = '';
let consumer = '';
let installed = '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'package-install-'));
  const tarball = await packTarball(work);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true })}\n`);
  // --prefer-offline: the dependencies come from npm's cache, which `npm ci` filled, when they are there.
  // --ignore-scripts: the install script would compile the addon, which this checkout has already done.
  const result = await runCommand('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], {
    cwd: consumer,
    timeoutMs: 120_000,
  });
  assert.equal(result.code, 0, `npm install of the tarball: ${describeResult(result)}`);
  installed = join(consumer, 'node_modules', NAME);
  // In place of the install script's build: the addon compiled for this machine.
  const addon = join('build', 'Release', 'config_reloader_native.node');
  mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
  cpSync(join(PACKAGE_ROOT, addon), join(installed, addon));
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

test('installing the tarball pulls in the addon loader and headers, and no prom-client or other metrics stack', () => {
  const modules = readdirSync(join(consumer, 'node_modules')).filter((name) => !name.startsWith('.'));
  assert.deepEqual(modules.sort(), [NAME, 'node-addon-api', 'node-gyp-build']);
});

test(`require('${NAME}') from the installed package loads the addon and watches a directory`, async (t) => {
  const watched = tempDir(t, 'package-install-watched-');
  const script = `
    const { readFileSync, writeFileSync } = require('fs');
    const { Inotify, IN_CREATE, signalProcess } = require('${NAME}');
    if (typeof signalProcess !== 'function') throw new Error('signalProcess is not exported');
    const inotify = new Inotify();
    inotify.watch(process.env.WATCHED, IN_CREATE);
    inotify.once('event', (event) => {
      // The addon file the dynamic linker mapped.
      const addons = readFileSync('/proc/self/maps', 'utf8').split('\\n')
        .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
      console.log(JSON.stringify({ addons: [...new Set(addons)], kind: event.kind, name: event.name }));
      inotify.close();
    });
    writeFileSync(process.env.WATCHED + '/created', '');
  `;
  const result = await runCommand(process.execPath, ['-e', script], { cwd: consumer, env: { ...process.env, WATCHED: watched } });
  assert.equal(result.code, 0, describeResult(result));
  assert.deepEqual(JSON.parse(result.stdout), {
    addons: [join(installed, 'build', 'Release', 'config_reloader_native.node')],
    kind: 'create',
    name: 'created',
  });
});

test('the installed declarations type-check in a strict TypeScript consumer', async () => {
  writeFileSync(
    join(consumer, 'consumer.ts'),
    [
      `import { Inotify, IN_CLOSE_WRITE, parseSignal, signalProcess } from '${NAME}';`,
      `import type { InotifyEvent, SignalMethod, SignalTarget } from '${NAME}';`,
      'export function watch(dir: string): Inotify {',
      '  const inotify = new Inotify();',
      '  inotify.watch(dir, IN_CLOSE_WRITE);',
      '  inotify.on(\'event\', (event: InotifyEvent) => console.log(event.kind, event.name ?? \'\'));',
      '  return inotify;',
      '}',
      'export function reload(target: SignalTarget): SignalMethod {',
      "  return signalProcess(target, parseSignal('SIGHUP').number);",
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        // Checking every declaration file (@types/node's too) would triple the
        // time; package-contents.test.ts proves the declarations' own imports resolve.
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(PACKAGE_ROOT, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    }),
  );
  const result = await runCommand(join(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', consumer], { cwd: consumer, timeoutMs: 60_000 });
  assert.equal(result.code, 0, describeResult(result));
});

test('the installed config-reloader command answers --version and --help', async () => {
  const bin = join(consumer, 'node_modules', '.bin', 'config-reloader');
  const versionResult = await runCommand(bin, ['--version'], { cwd: consumer });
  assert.equal(versionResult.code, 0, describeResult(versionResult));
  assert.equal(versionResult.stdout, `${version}\n`);
  const help = await runCommand(bin, ['--help'], { cwd: consumer });
  assert.equal(help.code, 0, describeResult(help));
  assert.match(help.stdout, new RegExp(`^config-reloader ${version.replace(/\./g, '\\.')}: `));
  assert.match(help.stdout, /^Usage:$/m);
});

test('the installed command serves /metrics from the prom-client bundled into it', async (t) => {
  const port = await freePort();
  const sidecar = new SidecarProcess({
    cli: join(installed, 'dist', 'bin', 'config-reloader.js'),
    env: { CONFIG_DIR: tempDir(t, 'package-install-config-'), PROCESS_NAME: 'nothing-here', METRICS_ADDR: `127.0.0.1:${port}` },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /^config_reloader_watches \d+$/m);
  assert.match(text, /^process_resident_memory_bytes \d+$/m);
  assert.deepEqual(await sidecar.stop(), { code: 0, signal: null });
});
