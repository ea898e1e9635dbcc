// The sidecar on plain directories (hostPath, emptyDir, local development):
// recursive, debounced, and deaf to metadata-only changes.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';

const DEBOUNCE_MS = 150;
/** Long enough past the debounce that a reload, if one were coming, would have come. */
const QUIET_MS = DEBOUNCE_MS * 4;

async function setup(
  t: { after(fn: () => unknown): void },
  name: string,
  debounceMs = DEBOUNCE_MS,
  parent = tmpdir(),
): Promise<{ dir: string; app: NamedApp; sidecar: SidecarProcess }> {
  const dir = mkdtempSync(join(parent, 'plain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const app = await NamedApp.start(t, name);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: `${debounceMs}ms` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  return { dir, app, sidecar };
}

test('sends nothing at start-up', async (t) => {
  const { app, sidecar } = await setup(t, `plain-start-${process.pid}`);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 0, sidecar.transcript());
});

test('a burst of writes is one reload after the debounce', async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-burst-${process.pid}`);
  for (let i = 1; i <= 20; i++) writeFileSync(join(dir, 'app.conf'), `v${i}`);
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
  const [detected] = sidecar.messages('change detected');
  assert.deepEqual(detected?.['modified'], [join(dir, 'app.conf')]);
});

test('a burst over many files names a few of its triggers and counts the rest', async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-many-${process.pid}`);
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, `part-${i}.conf`), `v${i}`);
  await app.waitForSignals(1);
  // The change is logged after the signal is sent (reloader.ts), so the line may still be on its way.
  await sidecar.waitForMessage('change detected');
  const [detected] = sidecar.messages('change detected');
  const trigger = String(detected?.['trigger']);
  // Each new file is a create and a close_write: 100 triggers, 3 named.
  const match = /^(.+); (.+); (.+) and (\d+) more$/.exec(trigger);
  assert.ok(match !== null, trigger);
  const named = match.slice(1, 4);
  assert.equal(new Set(named).size, 3, `distinct reasons: ${trigger}`);
  assert.ok(named.every((reason) => /^(create|close_write|modify) .*part-\d+\.conf$/.test(reason)), trigger);
  assert.ok(Number(match[4]) >= 90, `the rest counted: ${trigger}`);
  assert.equal((detected?.['added'] as unknown[] | undefined)?.length, 11, 'ten files listed and a "... and 40 more" line');
});

test("an editor's atomic save (write a temp file, rename it over) is one reload", async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-editor-${process.pid}`);
  writeFileSync(join(dir, '.app.conf.swp'), 'v1');
  renameSync(join(dir, '.app.conf.swp'), join(dir, 'app.conf'));
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});

test('new subdirectories are watched as they appear', async (t) => {
  const { dir, app } = await setup(t, `plain-subdir-${process.pid}`);
  mkdirSync(join(dir, 'conf.d', 'deep'), { recursive: true });
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 0, 'empty directories are no content change');
  writeFileSync(join(dir, 'conf.d', 'deep', 'site.conf'), 'server {}');
  await app.waitForSignals(1);
});

test('chmod, chown and touch are not changes', async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-attrib-${process.pid}`);
  chmodSync(join(dir, 'app.conf'), 0o600);
  utimesSync(join(dir, 'app.conf'), new Date(), new Date(2000, 1, 1));
  writeFileSync(join(dir, 'app.conf'), 'v0'); // same bytes rewritten: not a change either
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 0, sidecar.transcript());
  assert.ok(sidecar.messages('skipped: content unchanged').length >= 1, 'the identical rewrite is logged as skipped');
});

test('a deleted config directory is waited for and watched again when it is back', async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-deleted-${process.pid}`);
  rmSync(dir, { recursive: true });
  await sidecar.waitForMessage('config directory lost; keeping on and waiting for it to come back');
  // rm -r unlinks the file before it removes the directory; on a loaded
  // machine the sidecar may see the directory empty in between, a real
  // change. Once the loss is noticed, nothing more may be sent.
  const beforeLoss = app.signals().length;
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, beforeLoss, `no reload while the directory is gone\n${sidecar.transcript()}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitForMessage('config directory is back; watching again');
  await app.waitForSignals(beforeLoss + 1);
  await sleep(QUIET_MS);
  const afterReturn = app.signals().length;
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await app.waitForSignals(afterReturn + 1);
});

test('a kernel queue overflow is rescanned and the change still reloads, once', async (t) => {
  // The queue holds fs.inotify.max_queued_events; while the sidecar is
  // stopped it cannot drain it, so a burst of more events than that is sure
  // to overflow, without touching the machine-wide setting.
  const limit = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
  const files = Math.ceil(limit / 2) + 100; // each file: IN_CREATE and IN_CLOSE_WRITE
  // A debounce longer than the burst takes even on a loaded machine: one burst, one reload.
  const { dir, app, sidecar } = await setup(t, `plain-overflow-${process.pid}`, 2000, '/dev/shm');
  sidecar.child.kill('SIGSTOP');
  try {
    for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}.conf`), `${i}`);
    // The new directory's creation is among the lost events: only the rescan can find it.
    mkdirSync(join(dir, 'many'));
  } finally {
    sidecar.child.kill('SIGCONT');
  }
  await sidecar.waitForMessage('inotify queue overflowed; rescanning everything');
  await app.waitForSignals(1);
  await sleep(2500);
  assert.equal(app.signals().length, 1, sidecar.transcript());
  writeFileSync(join(dir, 'many', 'late.conf'), 'changed');
  await app.waitForSignals(2);
});

test('a config directory replaced by another one (moved away, new one moved in) is followed', async (t) => {
  const { dir, app, sidecar } = await setup(t, `plain-replaced-${process.pid}`);
  const staged = `${dir}.staged`;
  t.after(() => rmSync(`${dir}.old`, { recursive: true, force: true }));
  t.after(() => rmSync(staged, { recursive: true, force: true }));
  mkdirSync(staged);
  writeFileSync(join(staged, 'app.conf'), 'v1');
  renameSync(dir, `${dir}.old`);
  renameSync(staged, dir);
  await sidecar.waitForMessage('config directory is back; watching again');
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  const afterSwap = app.signals().length;
  // The watch now follows the new directory, not the old one.
  writeFileSync(join(`${dir}.old`, 'app.conf'), 'stale');
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, afterSwap, `a write to the old directory is not a change\n${sidecar.transcript()}`);
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await app.waitForSignals(afterSwap + 1);
});
