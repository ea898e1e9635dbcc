// Losing the log reader must not take the reloads down: with stdout closed
// the sidecar keeps running, and still exits cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killAndReap, waitForExit } from './helpers/child-process';
import { CLI } from './helpers/sidecar-process';

test('a closed stdout (EPIPE) neither crashes the sidecar nor prints a stack trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stdout-closed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [CLI], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CONFIG_DIR: dir, PROCESS_NAME: `absent-${process.pid}`, DEBOUNCE: '20ms' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => killAndReap(child));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (/ ready /.test(line)) {
        lines.close();
        child.stdout.destroy(); // the reader goes away: the next write gets EPIPE
        resolve();
      }
    });
  });
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, 'app.conf'), `v${i}`); // each change logs several lines
    await sleep(60);
  }
  assert.equal(child.exitCode, null, `the sidecar died: ${stderr}`);
  child.kill('SIGTERM');
  const exit = await waitForExit(child);
  assert.equal(exit.code, 0, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});
