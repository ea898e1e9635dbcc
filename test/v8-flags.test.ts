// The CLI's V8 flags reach node either from the image's entrypoint or, when
// started any other way, from the CLI itself at run time; only then is
// node:v8 loaded (lib/sidecar/cli/v8-flags.ts says why that matters).
// test/sidecar-memory.test.ts proves that the flags set at run time act.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { imageEntrypoint } from '../bench/image-entrypoint';
import { missingV8StandIns, V8_FLAGS, v8OptionName } from '../lib/sidecar/cli/v8-flags';
import { freshCliBundle } from './helpers/cli-bundle';

test('the image entrypoint gives node exactly the V8 flags the CLI would otherwise set', () => {
  const entrypoint = imageEntrypoint();
  assert.equal(entrypoint[0], '/usr/local/bin/node');
  assert.equal(entrypoint[entrypoint.length - 1], '/app/dist/bin/config-reloader.js');
  assert.deepEqual(entrypoint.slice(1, -1), V8_FLAGS);
});

test('an ENTRYPOINT that is not the exec form is refused by name, not misread', () => {
  assert.throws(() => imageEntrypoint('FROM scratch\nENTRYPOINT node /app/x.js\n'), /not the exec form/);
  assert.throws(() => imageEntrypoint('FROM scratch\nENTRYPOINT ["node"]\n'), /not the exec form/);
  assert.throws(() => imageEntrypoint('FROM scratch\n'), /no ENTRYPOINT/);
});

/** Runs the CLI's `--version` under `nodeArgs` (and NODE_OPTIONS) and says whether node:v8 got loaded. */
function loadsNodeV8(t: { after(fn: () => unknown): void }, nodeArgs: readonly string[], nodeOptionsEnv = ''): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'v8-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const preload = join(dir, 'report-modules.js');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`loaded=${process.moduleLoadList.includes('NativeModule v8')}\\n`));\n");
  const result = spawnSync(process.execPath, [...nodeArgs, '-r', preload, freshCliBundle(), '--version'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: nodeOptionsEnv },
  });
  assert.equal(result.status, 0, result.stderr);
  const match = /^loaded=(true|false)$/m.exec(result.stderr);
  assert.ok(match !== null, `no report from the preload: ${result.stderr}`);
  return match[1] === 'true';
}

test('started as the image starts it, the CLI never loads node:v8', (t) => {
  assert.equal(loadsNodeV8(t, V8_FLAGS), false);
});

test('started without the flags, or with only some, the CLI loads node:v8 to set the missing ones', (t) => {
  assert.equal(loadsNodeV8(t, []), true);
  assert.equal(loadsNodeV8(t, V8_FLAGS.slice(0, 1)), true);
});

test('a flag counts as given by its option name: either spelling, either polarity, any value', () => {
  assert.equal(v8OptionName('--no-opt'), 'opt');
  assert.equal(v8OptionName('--opt'), 'opt');
  assert.equal(v8OptionName('--no_opt'), 'opt');
  assert.equal(v8OptionName('--max_semi_space_size=16'), 'max-semi-space-size');
  assert.equal(v8OptionName('16'), undefined);
  assert.equal(v8OptionName('--'), undefined);

  assert.deepEqual(missingV8StandIns(V8_FLAGS, ''), []);
  assert.deepEqual(missingV8StandIns([], ''), ['--no-opt', '--semi-space-growth-factor=1', '--gc-memory-reducer-start-delay-ms=1500']);
  // Someone who asked for TurboFan or a larger young generation keeps them.
  assert.deepEqual(missingV8StandIns(['--opt', '--max_semi_space_size=16'], ''), ['--gc-memory-reducer-start-delay-ms=1500']);
  assert.deepEqual(missingV8StandIns(['--gc-memory-reducer-start-delay-ms', '8000'], ''), ['--no-opt', '--semi-space-growth-factor=1']);
  // NODE_OPTIONS counts as the command line does.
  assert.deepEqual(missingV8StandIns(['--no-opt'], '--max-old-space-size=64  --max-semi-space-size=4'), ['--gc-memory-reducer-start-delay-ms=1500']);
});

test('a young generation chosen in NODE_OPTIONS is left alone, and node:v8 stays unloaded when nothing else is missing', (t) => {
  const others = V8_FLAGS.filter((flag) => !flag.startsWith('--max-semi-space-size'));
  assert.equal(loadsNodeV8(t, others, '--max-semi-space-size=16'), false);
  assert.equal(loadsNodeV8(t, others, ''), true);
});
