// The sidecar on kubelet-managed volumes, driven by a faithful replay of the
// kubelet's AtomicWriter: one reload per update, sent at once, and nothing
// for the bookkeeping around it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import {
  AtomicWriter, configMapPayload, projectedPayload, secretPayload, setVolumeOwnership, type AtomicWriterOptions, type Payload,
} from '../lib/testing';
import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';

/** A debounce far longer than any test waits: a reload that arrives was sent without it. */
const DEBOUNCE = '60s';
/** Long enough for a reload, if one were coming, to have come. */
const QUIET_MS = 500;

function spinFor(ns: number): void {
  const end = process.hrtime.bigint() + BigInt(ns);
  while (process.hrtime.bigint() < end);
}

interface Volume {
  readonly dir: string;
  readonly writer: AtomicWriter;
  readonly app: NamedApp;
  readonly sidecar: SidecarProcess;
}

async function kubeletVolume(
  t: { after(fn: () => unknown): void },
  name: string,
  initial: Payload,
  options: AtomicWriterOptions = {},
): Promise<Volume> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-volume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const writer = new AtomicWriter(dir, options);
  await writer.write(initial);
  const app = await NamedApp.start(t, name);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  return { dir, writer, app, sidecar };
}


test('reloads exactly once per ConfigMap update, at once, and never at start-up', async (t) => {
  const { dir, writer, app, sidecar } = await kubeletVolume(t, `cm-app-${process.pid}`, configMapPayload({ 'app.conf': 'v0' }));
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 0, 'nothing at start-up');
  for (let version = 1; version <= 5; version++) {
    await writer.write(configMapPayload({ 'app.conf': `v${version}` }));
    await app.waitForSignals(version);
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), `v${version}`);
  }
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 5, sidecar.transcript());
  const changed = sidecar.messages('change detected');
  assert.equal(changed.length, 5, sidecar.transcript());
  assert.deepEqual(changed[0]?.['modified'], [join(dir, 'app.conf')]);
  assert.ok(changed.every((line) => String(line['trigger']).startsWith('kubelet update')), 'every reload came from the ..data commit');
});

test('starts no thread beyond those of a bare node process, also after reloading', async (t) => {
  const { writer, app, sidecar } = await kubeletVolume(t, `threads-app-${process.pid}`, configMapPayload({ 'app.conf': 'v0' }));
  writer.writeSync(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  t.after(() => bare.kill('SIGKILL'));
  // A fresh node starts its threads during its first milliseconds.
  await sleep(QUIET_MS);
  const sidecarThreads = threadsOf(sidecar.child.pid);
  const bareThreads = threadsOf(bare.pid);
  assert.ok(sidecarThreads <= bareThreads, `sidecar ${sidecarThreads} threads, bare node ${bareThreads}`);
});

function threadsOf(pid: number | undefined): number {
  assert.ok(pid !== undefined);
  return readdirSync(`/proc/${pid}/task`).length;
}

test('an update reverted within microseconds is either never signalled or signalled again after the revert', async (t) => {
  const { writer, app, sidecar } = await kubeletVolume(t, `revert-app-${process.pid}`, configMapPayload({ 'app.conf': 'v0' }));
  // The first reload makes the app a held target, reached through its handle.
  writer.writeSync(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
  let sent = 1;
  for (let round = 0; round < 10; round++) {
    const before = app.signals().length;
    const update = writer.stageSync(configMapPayload({ 'app.conf': 'v2' }));
    // Staged against v1, which is what it holds: only force makes it a version of its own.
    const revert = writer.stageSync(configMapPayload({ 'app.conf': 'v1' }), { force: true });
    writer.swapSync(update);
    // 0 to 0.45 ms: from before the sidecar can look at the update to after
    // it has signalled.
    spinFor(round * 50_000);
    const reverting = process.hrtime.bigint();
    writer.swapSync(revert);
    writer.tidySync(revert);
    await sleep(QUIET_MS);
    const signals = app.signals().slice(before);
    // Nothing (the revert came before anyone looked), or a last signal after
    // the revert: one only for v2 would leave the app on v2.
    const last = signals.at(-1);
    assert.ok(last === undefined || last.t > reverting, `round ${round}: ${signals.length} signal(s), the last before the revert\n${sidecar.transcript()}`);
    // Every signal sent is in the log; two sent within microseconds may
    // reach the app as one (a pending standard signal is not queued twice).
    const logged = sidecar.messages('reload sent').length;
    assert.ok(logged - sent >= signals.length, `round ${round}: ${logged - sent} logged, ${signals.length} received\n${sidecar.transcript()}`);
    sent = logged;
  }
});

test('a no-op resync and an fsGroup walk send nothing', async (t) => {
  const { dir, writer, app, sidecar } = await kubeletVolume(t, `resync-app-${process.pid}`, configMapPayload({ 'app.conf': 'v0' }));
  const result = await writer.resync();
  assert.equal(result.changed, false);
  await setVolumeOwnership(dir, 1234, true);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 0, sidecar.transcript());
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
});

test('an update with an fsGroup walk inside it is still one reload', async (t) => {
  const { writer, app, sidecar } = await kubeletVolume(t, `fsgroup-app-${process.pid}`, configMapPayload({ 'app.conf': 'v0' }), { fsGroup: 2000 });
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});

test('the pre-2021 kubelet order (links before the swap) is one reload per update', async (t) => {
  const { writer, app, sidecar } = await kubeletVolume(t, `legacy-app-${process.pid}`, configMapPayload({ 'a.conf': 'v0' }), { legacyOrder: true });
  await writer.write(configMapPayload({ 'a.conf': 'v1', 'b.conf': 'new key' }));
  await app.waitForSignals(1);
  await writer.write(configMapPayload({ 'b.conf': 'a key removed' }));
  await app.waitForSignals(2);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 2, sidecar.transcript());
});

test('a Secret (0400) with nested keys: adding and removing keys is one reload each', async (t) => {
  const secret = (data: Record<string, string>, items: { key: string; path: string }[]): Payload =>
    secretPayload(data, { defaultMode: 0o400, items });
  const { dir, writer, app, sidecar } = await kubeletVolume(
    t, `secret-app-${process.pid}`, secret({ tls: 'cert-1' }, [{ key: 'tls', path: 'tls/cert.pem' }]),
  );
  await writer.write(secret({ tls: 'cert-2', key: 'key-2' }, [{ key: 'tls', path: 'tls/cert.pem' }, { key: 'key', path: 'tls/key.pem' }]));
  await app.waitForSignals(1);
  assert.equal(readFileSync(join(dir, 'tls', 'key.pem'), 'utf8'), 'key-2');
  await writer.write(secret({ tls: 'cert-2' }, [{ key: 'tls', path: 'tls/cert.pem' }]));
  await app.waitForSignals(2);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 2, sidecar.transcript());
  const [, removal] = sidecar.messages('change detected');
  assert.deepEqual(removal?.['removed'], [join(dir, 'tls', 'key.pem')]);
});

test('a projected volume of a ConfigMap and a Secret is one reload per update', async (t) => {
  const projected = (version: number): Payload =>
    projectedPayload([{ configMap: { 'app.conf': `conf v${version}` } }, { secret: { password: `pw v${version}` } }]);
  const { writer, app, sidecar } = await kubeletVolume(t, `projected-app-${process.pid}`, projected(0));
  await writer.write(projected(1));
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});

test('several volumes: each update of each is one reload', async (t) => {
  const first = await kubeletVolume(t, `multi-app-${process.pid}`, configMapPayload({ 'a.conf': 'v0' }));
  const secondDir = mkdtempSync(join(tmpdir(), 'kubelet-volume-'));
  t.after(() => rmSync(secondDir, { recursive: true, force: true }));
  const second = new AtomicWriter(secondDir);
  await second.write(configMapPayload({ 'b.conf': 'v0' }));
  await first.sidecar.stop();
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: `${first.dir},${secondDir}`, PROCESS_NAME: `multi-app-${process.pid}`, DEBOUNCE } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  await first.writer.write(configMapPayload({ 'a.conf': 'v1' }));
  await first.app.waitForSignals(1);
  await second.write(configMapPayload({ 'b.conf': 'v1' }));
  await first.app.waitForSignals(2);
  await sleep(QUIET_MS);
  assert.equal(first.app.signals().length, 2, sidecar.transcript());
});

test('a kubelet volume mounted below a plain config directory reloads at once on its commit', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'plain-with-volume-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'configmap'));
  const writer = new AtomicWriter(join(root, 'configmap'));
  await writer.write(configMapPayload({ 'app.conf': 'v0' }));
  const app = await NamedApp.start(t, `nested-volume-${process.pid}`);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: root, PROCESS_NAME: `nested-volume-${process.pid}`, DEBOUNCE } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});
