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
import { V8_FLAGS } from '../lib/sidecar/cli/v8-flags';
import { freshCliBundle } from './helpers/cli-bundle';

test('the image entrypoint gives node exactly the V8 flags the CLI would otherwise set', () => {
  const entrypoint = imageEntrypoint();
  assert.equal(entrypoint[0], '/usr/local/bin/node');
  assert.equal(entrypoint[entrypoint.length - 1], '/app/dist/bin/config-reloader.js');
  assert.deepEqual(entrypoint.slice(1, -1), V8_FLAGS);
});

test('an ENTRYPOINT that is not the exec form is refused by name, not misread', () => {
  assert.throws(() => imageEntrypoint('FROM scratch\nENTRYPOINT node /app/x.js\n'), SyntaxError);
  assert.throws(() => imageEntrypoint('FROM scratch\nENTRYPOINT ["node"]\n'), /not the exec form/);
  assert.throws(() => imageEntrypoint('FROM scratch\n'), /no ENTRYPOINT/);
});

/** Runs the CLI's `--version` under `nodeOptions` and says whether node:v8 got loaded. */
function loadsNodeV8(t: { after(fn: () => unknown): void }, nodeOptions: readonly string[]): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'v8-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const preload = join(dir, 'report-modules.js');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`loaded=${process.moduleLoadList.includes('NativeModule v8')}\\n`));\n");
  const result = spawnSync(process.execPath, [...nodeOptions, '-r', preload, freshCliBundle(), '--version'], { encoding: 'utf8' });
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
