// The README's process examples are code people copy: each must run as
// printed, loaded by the package's name as an installed package is, and
// signal exactly the process it names. The ES module one also proves that
// Node finds the CommonJS package's named exports.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';
import { NamedApp } from './helpers/named-app';
import { PACKAGE_ROOT } from './helpers/package-copy';

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');

/** The js examples under "Finding and signalling processes", in order. */
function processExamples(): string[] {
  const start = readme.indexOf('### Finding and signalling processes');
  const section = readme.slice(start, readme.indexOf('\n#', start + 4));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

const EXAMPLES = [
  { kind: 'CommonJS', file: 'example.cjs', marker: "require('config-reloader-sidecar')" },
  { kind: 'ES module', file: 'example.mjs', marker: "from 'config-reloader-sidecar'" },
] as const;

/**
 * Writes the example beside a node_modules/config-reloader-sidecar that
 * links to this package, so `config-reloader-sidecar` resolves through the
 * package's "exports" as it does for a user, and returns the script's path.
 */
function installExample(t: TestContext, file: string, marker: string): string {
  const source = processExamples().find((example) => example.includes(marker));
  assert.ok(source !== undefined, `no js example loading ${marker} under "Finding and signalling processes"`);
  const dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'config-reloader-sidecar'));
  writeFileSync(join(dir, file), source);
  return join(dir, file);
}

describe('the README process examples', () => {
  it('are two: one CommonJS, one ES module', () => {
    const examples = processExamples();
    assert.equal(examples.length, 2);
    for (const { marker } of EXAMPLES) assert.equal(examples.filter((example) => example.includes(marker)).length, 1, marker);
  });

  for (const { kind, file, marker } of EXAMPLES) {
    it(`${kind}: signals the named process once, through a pidfd`, async (t) => {
      const name = `readme-target-${process.pid}`;
      const app = await NamedApp.start(t, name);
      const result = await runCommand(process.execPath, [installExample(t, file, marker), name]);
      assert.equal(result.code, 0, describeResult(result));
      assert.equal(result.stdout.trim(), `sent SIGHUP to ${app.pid} via pidfd`);
      await app.waitForSignals(1);
    });

    it(`${kind}: does not signal a process without a handler`, async (t) => {
      const name = `readme-nohandler-${process.pid}`;
      const app = await NamedApp.start(t, name, { handlerDelayMs: 600_000 });
      const result = await runCommand(process.execPath, [installExample(t, file, marker), name]);
      assert.equal(result.code, 0, describeResult(result));
      assert.equal(result.stdout.trim(), `${app.pid} has no SIGHUP handler yet: not sending`);
      assert.ok(app.alive);
    });
  }

  it('ES module: signals a process given by pid, by the signal named in RELOAD_SIGNAL', async (t) => {
    const app = await NamedApp.start(t, `readme-pid-${process.pid}`, { signal: 'SIGUSR1' });
    const { file, marker } = EXAMPLES[1];
    const result = await runCommand(process.execPath, [installExample(t, file, marker), String(app.pid)], {
      env: { ...process.env, RELOAD_SIGNAL: 'usr1' },
    });
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(result.stdout.trim(), `sent SIGUSR1 to ${app.pid} via pidfd`);
    await app.waitForSignals(1);
  });
});
