// `npm run demo` is the README's first command: it must show one reload per
// real change of each app, by SIGHUP and by HTTP, and none for the identical
// resync or the chmod walk.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { describeResult, runCommand } from './helpers/child-process';

const DEMO = join(__dirname, '..', 'demo', 'main.js');

test('npm run demo builds, then runs the demo entry point', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(manifest.scripts['demo'] ?? '', /^bash scripts\/setup\.sh && node dist\/demo\/main\.js$/);
});

test('the demo shows one reload of each app per real change, by SIGHUP and by HTTP, and none for the resync or the chmod walk', async () => {
  // The entry point directly: `npm run demo` would rebuild dist/ under the other tests' feet.
  const result = await runCommand(process.execPath, [DEMO], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 30_000 });
  assert.equal(result.code, 0, describeResult(result));
  const out = result.stdout;
  assert.match(out, /^demo {4}\| 4 updates, 2 real changes; reloads received: 2 by SIGHUP \(versions 2, 3\), 2 by HTTP \(versions 2, 3\)$/m);
  assert.match(out, /^demo {4}\| ok: /m);
  const count = (pattern: RegExp): number => out.split('\n').filter((line) => pattern.test(line)).length;
  assert.equal(count(/^sidecar \| .* reload sent pid=\d+ .*signal=SIGHUP/), 2, out);
  assert.equal(count(/^sidecar \| .* reload request succeeded url=http:\/\/127\.0\.0\.1:\d+\/-\/reload method=POST .*status=200/), 2, out);
  assert.equal(count(/^web {5}\| web: reloaded config v/), 2, out);
  assert.equal(count(/^sidecar \| .* change detected /), 2, out);
  assert.equal(count(/^sidecar \| .* skipped: content unchanged /), 1, out);
  assert.equal(count(/^app {5}\| app: reloaded config v/), 2, out);
  // The sidecar's lines and the app's lines arrive interleaved, in the order they happened.
  assert.ok(out.indexOf('app: reloaded config v2') < out.indexOf('update 2:'), out);
  assert.ok(out.indexOf('app: reloaded config v3') > out.indexOf('update 3:'), out);
  assert.match(out, /^sidecar \| .* shutting down signal=SIGTERM$/m);
});
