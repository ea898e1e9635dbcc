// The README's process example is code people copy: it must run as printed
// and signal exactly the process it names.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCommand } from './helpers/child-process';
import { NamedApp } from './helpers/named-app';
import { PACKAGE_ROOT } from './helpers/package-copy';

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');

function processExample(): string {
  const section = readme.slice(readme.indexOf('### Finding and signalling processes'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (match?.[1] === undefined) throw new Error('no js example under "Finding and signalling processes"');
  return match[1].replace("require('config-reloader-sidecar')", `require(${JSON.stringify(join(PACKAGE_ROOT, 'dist', 'lib', 'index.js'))})`);
}

test('the README process example signals the named process once, through a pidfd', async (t) => {
  const name = `readme-target-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'example.js');
  writeFileSync(script, processExample());
  const result = await runCommand(process.execPath, [script, name]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), `sent SIGHUP to ${app.pid} via pidfd`);
  await app.waitForSignals(1);
});

test('the README process example does not signal a process without a handler', async (t) => {
  const name = `readme-nohandler-${process.pid}`;
  const app = await NamedApp.start(t, name, { handlerDelayMs: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'example.js');
  writeFileSync(script, processExample());
  const result = await runCommand(process.execPath, [script, name]);
  assert.equal(result.stdout.trim(), `${app.pid} has no SIGHUP handler yet: not sending`);
  assert.ok(app.alive);
});
