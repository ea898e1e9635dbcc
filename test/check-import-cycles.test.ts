// The import check that `npm test` runs first (scripts/check-import-cycles.ts),
// against small trees written for each case: it must find a cycle in any
// form of import, name its files, and find nothing where there is nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import { type CommandResult, describeResult, runCommand } from './helpers/child-process';
import { PACKAGE_ROOT } from './helpers/package-copy';

const CHECKER = join(PACKAGE_ROOT, 'dist', 'scripts', 'check-import-cycles.js');

/** Writes `files` (path -> source) under a fresh directory, removed when the test ends. */
function tree(t: TestContext, files: Readonly<Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  return root;
}

function check(root: string, ...options: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, [CHECKER, `--root=${root}`, ...options]);
}

describe('check-import-cycles', () => {
  it('finds a cycle made of type imports, require() and import() types, names its files, and fails', async (t) => {
    const root = tree(t, {
      'lib/a.ts': "import type { B } from './b';\nexport interface A { b: B }\n",
      'lib/b.ts': "const c: unknown = require('./c');\nexport type B = typeof c;\n",
      'lib/c.ts': "export type A = import('./a').A;\n",
      'lib/d.ts': "export * from './a';\n",
      // Quoted in a string and a comment, as child-process scripts and prose quote imports: no edge.
      'test/e.ts': "// import { f } from './f';\nexport const script = \"require('./f')\";\n",
      'test/f.ts': "import { script } from './e';\nexport const f = script;\n",
      'scripts/g.ts': "export { h } from './h.js';\nexport const g = 1;\n",
      'scripts/h.ts': "import g = require('./g');\nexport const h = g;\n",
    });
    const result = await check(root);
    assert.equal(result.code, 1, describeResult(result));
    assert.deepEqual(result.stderr.trim().split('\n'), [
      'import cycle: lib/a.ts -> lib/b.ts -> lib/c.ts -> lib/a.ts',
      '  these 3 files all import each other, directly or not: lib/a.ts, lib/b.ts, lib/c.ts',
      'import cycle: scripts/g.ts -> scripts/h.ts -> scripts/g.ts',
    ]);
    assert.equal(result.stdout, 'not ok: imports of 8 files checked\n');
  });

  it('passes a tree whose imports form no cycle, and reports nothing', async (t) => {
    const root = tree(t, {
      'lib/index.ts': "export { a } from './a';\n",
      'lib/a.ts': "import { b } from './b';\nexport const a = b;\n",
      'lib/b.ts': "import type { C } from './c';\nexport const b: C = 1;\n",
      'lib/c.ts': "export type C = number;\n",
      'test/a.test.ts': "import { a } from '../lib/a';\nimport { b } from '../lib/b';\nexport const both = [a, b];\n",
    });
    const result = await check(root);
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, 'ok: imports of 5 files checked\n');
  });

  it('reports the library importing the sidecar, and the sidecar importing past lib/index.ts: failing, or warning with --boundary=warn', async (t) => {
    const root = tree(t, {
      'lib/index.ts': "export * from './proc';\n",
      'lib/proc.ts': "import type { Logger } from './sidecar/log';\nexport type P = Logger;\n",
      'lib/sidecar/log.ts': 'export type Logger = string;\n',
      'lib/sidecar/delivery.ts': "import type { P } from '../proc';\nimport * as library from '../index';\nexport type D = [P, typeof library];\n",
    });
    const violations = [
      'lib/proc.ts imports lib/sidecar/log.ts: the library has no sidecar concepts',
      'lib/sidecar/delivery.ts imports lib/proc.ts: the sidecar uses the library through lib/index.ts only',
    ];
    const enforced = await check(root);
    assert.equal(enforced.code, 1, describeResult(enforced));
    assert.deepEqual(enforced.stderr.trim().split('\n').sort(), violations.map((line) => `boundary: ${line}`));
    const warned = await check(root, '--boundary=warn');
    assert.equal(warned.code, 0, describeResult(warned));
    assert.deepEqual(warned.stderr.trim().split('\n').sort(), violations.map((line) => `warning: boundary: ${line}`));
  });

  it("finds no cycle in this project's own lib, demo, bench, scripts and test files", async () => {
    const result = await runCommand(process.execPath, [CHECKER, '--boundary=warn']);
    assert.equal(result.code, 0, describeResult(result));
    assert.doesNotMatch(result.stderr, /import cycle/);
  });
});
