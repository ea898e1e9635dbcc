// SIGTERM (what Kubernetes sends) and SIGINT stop the sidecar promptly and
// cleanly: exit 0, well inside a second, even with a scraper's keep-alive
// connection open and even while a reload is waiting for a target's handler.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';

// Kubernetes allows 30 s by default; a second is the promise made in the docs.
// Loose on purpose: this is a deadline, not a benchmark.
const PROMPT_MS = 1000;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-shutdown-'));
  writeFileSync(join(dir, 'app.conf'), 'v1\n');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function stopAndTime(sidecar: SidecarProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  sidecar.child.kill(signal);
  const exit = await sidecar.exited;
  return { code: exit.code, ms: performance.now() - started };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops the watches and exits 0 within a second`, async (t) => {
    const sidecar = new SidecarProcess({ env: { CONFIG_DIR: tempDir(t), PROCESS_NAME: 'nothing-here' } });
    t.after(() => sidecar.stop());
    await sidecar.waitForMessage('ready');

    const { code, ms } = await stopAndTime(sidecar, signal);
    assert.equal(code, 0, sidecar.transcript());
    assert.ok(ms < PROMPT_MS, `took ${ms.toFixed(0)} ms`);
    const shuttingDown = sidecar.messages('shutting down');
    assert.equal(shuttingDown.length, 1, sidecar.transcript());
    assert.equal(shuttingDown[0]?.['signal'], signal);
    assert.equal(sidecar.messages('stopped').length, 1, sidecar.transcript());
  });
}

test('SIGTERM exits promptly with the metrics endpoint on and a keep-alive connection open', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');

  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: tempDir(t), PROCESS_NAME: 'nothing-here', METRICS_ADDR: `127.0.0.1:${address.port}` },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const response = await fetch(`http://127.0.0.1:${address.port}/metrics`); // fetch keeps the connection alive
  await response.text();

  const { code, ms } = await stopAndTime(sidecar, 'SIGTERM');
  assert.equal(code, 0, sidecar.transcript());
  assert.ok(ms < PROMPT_MS, `took ${ms.toFixed(0)} ms`);
});

test('SIGTERM during a wait for the target to install its handler exits promptly and never signals the target', async (t) => {
  const dir = tempDir(t);
  const name = `no-handler-${process.pid}`;
  const app = await NamedApp.start(t, name, { handlerDelayMs: 600_000 }); // SIGHUP would kill it
  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: '0', HANDLER_WAIT: '5m' },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');

  writeFileSync(join(dir, 'app.conf'), 'v2\n');
  await sidecar.waitForMessage('waiting for the target to install its signal handler');
  const { code, ms } = await stopAndTime(sidecar, 'SIGTERM');
  assert.equal(code, 0, sidecar.transcript());
  assert.ok(ms < PROMPT_MS, `took ${ms.toFixed(0)} ms`);
  assert.equal(sidecar.messages('reload sent').length, 0, sidecar.transcript());
  assert.equal(sidecar.messages('reload abandoned: shutting down').length, 1, sidecar.transcript());
  assert.equal(sidecar.messages('reload not sent').length, 0, 'a shutdown is not reported as a handler timeout');
  assert.ok(app.alive, 'the target was not signalled');
});
