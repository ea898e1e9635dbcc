// The sidecar reloads targets that take the signal without a handler (tini,
// dumb-init, sigwait and signalfd programs), never one the signal would kill,
// waits for each target on its own, and does not signal a target twice for
// the same content. Real processes, real signals.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { MAX_WAITING } from '../lib/sidecar/target-delivery';
import { spawnTracked } from './helpers/child-process';
import { processHandleDescriptors } from './helpers/descriptors';
import { freePort } from './helpers/free-port';
import { scrape } from './helpers/metrics-scrape';
import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';
import { startInitShim, startNamed, startSignalReader } from './helpers/signal-readers';
import { waitFor } from './helpers/wait-for';

const SIGHUP = 1;
const SIGUSR1 = 10;
const isRoot = process.getuid?.() === 0;
// Root with CAP_KILL alone, as the docs advise for a sidecar whose app runs
// as another uid: it may signal the app, but not look into its threads.
const ONLY_CAP_KILL = ['setpriv', '--bounding-set=-all,+kill', '--inh-caps=-all'];

function configDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reception-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.conf'), 'v0');
  return dir;
}

async function startSidecar(t: { after(fn: () => unknown): void }, env: Record<string, string>, wrapper: string[] = []): Promise<SidecarProcess> {
  const sidecar = new SidecarProcess({ env: { DEBOUNCE: '50ms', ...env }, wrapper });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  return sidecar;
}

const sentTo = (sidecar: SidecarProcess, pid: number): number => sidecar.messages('reload sent').filter((line) => line['pid'] === pid).length;

for (const shim of ['tini', 'dumb-init'] as const) {
  test(`${shim} is reloaded: it gets SIGHUP, passes it to its child and lives on`, async (t) => {
    const name = `${shim}-${process.pid}`.slice(0, 15);
    const dir = configDir(t);
    const init = await startInitShim(t, shim, name);
    const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '5s' });
    writeFileSync(join(dir, 'app.conf'), 'v1');
    await init.waitForLine('hup');
    await sidecar.waitForMessage('reload sent');
    // tini waits in sigtimedwait but for a few microseconds each second, when it blocks everything; dumb-init has handlers.
    const expected = shim === 'tini' ? ['sigwait', 'blocked'] : ['handler'];
    assert.ok(expected.includes(String(sidecar.messages('reload sent')[0]?.['received_by'])), sidecar.transcript());
    await sleep(200);
    assert.ok(init.alive, `${shim} survived`);
    assert.equal(init.lines.filter((line) => line === 'hup').length, 1, 'one reload, one SIGHUP');
  });
}

const programs = [['sigtimedwait', 'sigwait'], ['signalfd', 'signalfd']] as const;
for (const [mode, receivedBy] of programs) {
  test(`a C program reading SIGHUP with ${mode} is reloaded at once, without a handler`, async (t) => {
    const name = `rd-${mode}-${process.pid}`.slice(0, 15);
    const dir = configDir(t);
    const reader = await startSignalReader(t, name, mode, [SIGHUP, SIGUSR1]);
    const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });
    writeFileSync(join(dir, 'app.conf'), 'v1');
    await reader.waitForLine('got 1');
    await sidecar.waitForMessage('reload sent');
    assert.equal(sidecar.messages('reload sent')[0]?.['received_by'], receivedBy);
    assert.deepEqual(sidecar.messages('waiting for the target to install its signal handler'), []);
    assert.ok(reader.alive);
  });
}

test('a program that waits in sigwait for other signals only is not signalled: SIGHUP would kill it', async (t) => {
  const name = `rd-usr1-${process.pid}`.slice(0, 15);
  const dir = configDir(t);
  const reader = await startSignalReader(t, name, 'sigwait', [SIGUSR1]);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '300ms' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitFor('the handler timeout', (lines) =>
    lines.some((line) => line.msg === 'reload not sent' && /has still not installed a handler/.test(String(line['reason']))));
  assert.equal(sidecar.messages('waiting for the target to install its signal handler')[0]?.['received_by'], 'default');
  assert.ok(reader.alive, 'not killed');
});

test('a program that blocks SIGHUP only once it has started is waited for, then reloaded', async (t) => {
  const name = `rd-late-${process.pid}`.slice(0, 15);
  const dir = configDir(t);
  // The sidecar first, so that the change comes well inside the 1.5 s the program takes to block.
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '10s' });
  const reader = await startSignalReader(t, name, 'late', [SIGHUP]);
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await reader.waitForLine('got 1').catch((error: unknown) => {
    throw new Error(`${String(error)}\n${sidecar.transcript()}`);
  });
  const blockedAt = reader.lines.indexOf(`blocked ${reader.pid}`);
  assert.ok(blockedAt >= 0 && blockedAt < reader.lines.indexOf('got 1'), JSON.stringify(reader.lines));
  assert.equal(sidecar.messages('waiting for the target to install its signal handler').length, 1, sidecar.transcript());
  assert.ok(reader.alive);
});

test('a target that ignores the signal counts as a failed reload in the metrics', async (t) => {
  const dir = configDir(t);
  const name = `ign-metric-${process.pid}`;
  // SIG_IGN survives exec, so sleep starts with SIGHUP ignored, under argv[0] = name.
  const app = await spawnTracked(t, 'bash', ['-c', `trap '' HUP; exec -a ${name} sleep 600`]);
  await waitFor('sleep to be exec\'d under its name', () => readFileSync(`/proc/${app.pid}/cmdline`, 'utf8').startsWith(`${name}\0`));
  const port = await freePort();
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, METRICS_ADDR: `127.0.0.1:${port}` });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitForMessage('reload not sent');
  const samples = await scrape(`http://127.0.0.1:${port}`);
  assert.equal(samples.get('config_reloader_reloads_total{result="failure"}'), 1);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 0);
  assert.equal(app.exitCode, null);
});

test('two targets of one name: the healthy one is signalled at once, not after the other\'s wait', async (t) => {
  const name = `pair-${process.pid}`;
  const dir = configDir(t);
  const slow = await NamedApp.start(t, name, { handlerDelayMs: 600_000 });
  const healthy = await NamedApp.start(t, name);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '10s' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await healthy.waitForSignals(1);
  // The slow one is still being waited for: its wait did not hold the healthy one up.
  assert.deepEqual(sidecar.messages('reload not sent'), [], sidecar.transcript());
  await sidecar.waitForMessage('reload sent');
  const waiting = sidecar.messages('waiting for the target to install its signal handler');
  assert.deepEqual(waiting.map((line) => line['pid']), [slow.pid]);
  assert.deepEqual(sidecar.messages('reload sent').map((line) => line['pid']), [healthy.pid]);
  assert.ok(slow.alive);
});

test(`with more targets to wait for than it waits for at once (${MAX_WAITING}), the rest wait their turn holding no descriptor`, async (t) => {
  const name = `waiters-${process.pid}`;
  const count = MAX_WAITING + 4;
  const dir = configDir(t);
  const bin = mkdtempSync(join(tmpdir(), 'waiters-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  symlinkSync('/bin/sleep', join(bin, name));
  // sleep installs no handler: each must be waited for, and none ever gets one.
  const sleepers = await Promise.all(Array.from({ length: count }, () => spawnTracked(t, join(bin, name), ['600'])));
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, SIGNAL_ALL: 'true', HANDLER_WAIT: '1s' });
  const sidecarPid = sidecar.child.pid ?? -1;
  writeFileSync(join(dir, 'app.conf'), 'v1');
  let most = 0;
  await waitFor('every wait to time out', () => {
    most = Math.max(most, processHandleDescriptors(sidecarPid).length);
    return sidecar.messages('reload not sent').length === count;
  }, { intervalMs: 5 });
  // The waits', and those of the one target being looked at before it queues.
  assert.ok(most <= 2 * (MAX_WAITING + 1), `${most} descriptors held at once`);
  assert.ok(most >= 2, 'the waits held their targets');
  assert.equal(sidecar.messages('waiting for the target to install its signal handler').length, count);
  assert.deepEqual(processHandleDescriptors(sidecarPid), []);
  assert.ok(sleepers.every((sleeper) => sleeper.exitCode === null && sleeper.signalCode === null), 'none was signalled');
});

test('after a partial delivery, a later no-op event signals only the target that missed the content', async (t) => {
  const name = `partial-${process.pid}`;
  const dir = configDir(t);
  // A bash under the name that installs its SIGHUP handler only once told to.
  const signals = mkdtempSync(join(tmpdir(), 'partial-go-'));
  t.after(() => rmSync(signals, { recursive: true, force: true }));
  const go = join(signals, 'go'); // outside the watched directory
  const late = await startNamed(t, name, '/bin/bash', ['-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.02; done; trap 'echo hup' HUP; echo handler; while :; do sleep 0.02; done`]);
  const ready = await NamedApp.start(t, name);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '500ms' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await ready.waitForSignals(1);
  await sidecar.waitFor('the late one to time out', (lines) => lines.some((line) => line.msg === 'reload not sent' && line['pid'] === late.pid));
  writeFileSync(go, '');
  await late.waitForLine('handler');
  // The same bytes again: an event, and no change.
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await late.waitForLine('hup');
  await sidecar.waitForMessage('not signalled again: already reloaded with this content');
  assert.deepEqual(sidecar.messages('not signalled again: already reloaded with this content')[0]?.['pids'], [ready.pid]);
  await sleep(300);
  assert.equal(ready.signals().length, 1, `the healthy target got the content once\n${sidecar.transcript()}`);
  // Now every target has it: the next identical write sends nothing.
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitForMessage('skipped: content unchanged');
  assert.equal(sentTo(sidecar, ready.pid) + sentTo(sidecar, late.pid), 2);
  assert.equal(late.lines.filter((line) => line === 'hup').length, 1);
});

test('root with only CAP_KILL cannot see into a root tini: it says why and how, and HANDLER_CHECK=false reloads it', { skip: !isRoot && 'needs root' }, async (t) => {
  const name = `tini-ck-${process.pid}`.slice(0, 15);
  const dir = configDir(t);
  const init = await startInitShim(t, 'tini', name);
  const checked = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '300ms' }, ONLY_CAP_KILL);
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await checked.waitFor('the unseen-reception diagnosis', (lines) => lines.some((line) => line.msg === 'reload not sent' &&
    /whether it waits for it in sigwait \(as tini does\) cannot be seen as uid 0.*CAP_SYS_PTRACE.*HANDLER_CHECK=false/.test(String(line['reason']))));
  assert.equal(checked.messages('waiting for the target to install its signal handler')[0]?.['received_by'], 'unknown');
  assert.deepEqual(init.lines.filter((line) => line === 'hup'), []);
  await checked.stop();

  const unchecked = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_CHECK: 'false' }, ONLY_CAP_KILL);
  assert.equal(unchecked.messages('starting')[0]?.['handler_check'], false);
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await init.waitForLine('hup');
  assert.equal(unchecked.messages('reload sent')[0]?.['received_by'], 'unknown');
  await sleep(200);
  assert.ok(init.alive);
});

test('RELOAD_SIGNAL=SIGTERM is warned about at start-up', async (t) => {
  const sidecar = await startSidecar(t, { CONFIG_DIR: configDir(t), PROCESS_NAME: `nothing-${process.pid}`, RELOAD_SIGNAL: 'TERM' });
  const [warning] = sidecar.messages('reload signal stops most apps');
  assert.equal(warning?.level, 'warn');
  assert.equal(warning?.['signal'], 'SIGTERM');
  assert.match(String(warning?.['reason']), /stops most apps.*SIGHUP/);
});
