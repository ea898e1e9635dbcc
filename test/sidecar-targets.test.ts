// Whom the sidecar signals, and how it keeps the app alive, with real
// processes receiving real signals.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { MAX_HELD } from '../lib/sidecar/held-targets';
import { spawnTracked } from './helpers/child-process';
import { CLI_IN_PACKAGE } from './helpers/cli-bundle';
import { processHandleDescriptors } from './helpers/descriptors';
import { NamedApp } from './helpers/named-app';
import { copyPackageReadableByAll } from './helpers/package-copy';
import { SidecarProcess } from './helpers/sidecar-process';
import { waitFor } from './helpers/wait-for';

const DEBOUNCE = '50ms';

function configDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'targets-'));
  chmodSync(dir, 0o755); // mkdtemp makes 0700; a sidecar running as another uid must read it
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.conf'), 'v0');
  return dir;
}

async function startSidecar(
  t: { after(fn: () => unknown): void },
  env: Record<string, string>,
  wrapper: string[] = [],
  cli?: string,
): Promise<SidecarProcess> {
  const sidecar = new SidecarProcess({ env: { DEBOUNCE, ...env }, wrapper, ...(cli === undefined ? {} : { cli }) });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  return sidecar;
}

test('a name longer than the 15-character comm is found through argv[0]', async (t) => {
  const name = `reloadable-application-with-a-long-name-${process.pid}`;
  const dir = configDir(t);
  const app = await NamedApp.start(t, name);
  await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
});

test('only the master of a process tree is signalled, never its workers', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `tree-app-${process.pid}`, { workers: 2 });
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `tree-app-${process.pid}` });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
  await sleep(300);
  assert.equal(app.signals('master').length, 1, sidecar.transcript());
  assert.equal(app.signals('worker').length, 0, sidecar.transcript());
});

test('SIGNAL_ALL signals the workers too', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `all-app-${process.pid}`, { workers: 2 });
  await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `all-app-${process.pid}`, SIGNAL_ALL: 'true' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
  await app.waitForSignals(2, 'worker');
});

test('never signals a process that has not installed its handler yet: waits, then delivers', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `late-handler-${process.pid}`, { handlerDelayMs: 1500 });
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `late-handler-${process.pid}`, HANDLER_WAIT: '10s' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitForMessage('waiting for the target to install its signal handler');
  await app.waitForSignals(1);
  assert.ok(app.alive, 'the app survived');
  const handler = app.events.find((event) => event.what === 'handler');
  const [signal] = app.signals();
  assert.ok(handler !== undefined && signal !== undefined && signal.t > handler.t, 'the signal came after the handler');
});

test('gives up rather than kill an app whose handler never comes, and keeps running', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `no-handler-${process.pid}`, { handlerDelayMs: 600_000 });
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `no-handler-${process.pid}`, HANDLER_WAIT: '300ms' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitFor('the handler timeout', (lines) =>
    lines.some((line) => line.msg === 'reload not sent' && /has still not installed a handler/.test(String(line['reason']))));
  assert.ok(app.alive, 'the app was not killed');
  assert.equal(sidecar.child.exitCode, null, 'the sidecar keeps running');
});

test('follows a restart: the next reload goes to the new process', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `restarting-${process.pid}`);
  await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `restarting-${process.pid}` });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
  const firstPid = app.pid;
  await app.restart();
  assert.notEqual(app.pid, firstPid);
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await app.waitForSignals(2);
  assert.equal(app.signals()[1]?.pid, app.pid);
});

test('without a shared PID namespace it says the Pod needs shareProcessNamespace, and keeps running', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `other-ns-${process.pid}`);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `other-ns-${process.pid}` }, ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child']);
  // Said at start-up, not only at the first update, which may come days later.
  const [atStart] = sidecar.messages('no target can be seen');
  assert.match(String(atStart?.['reason']), /shareProcessNamespace: true/, sidecar.transcript());
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitFor('the target-not-found diagnosis', (lines) =>
    lines.some((line) => line.msg === 'target not found' && /shareProcessNamespace: true/.test(String(line['reason']))));
  assert.equal(app.signals().length, 0);
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await sidecar.waitForMessage('target not found', 2);
});

test('a uid mismatch is explained with both uids and both fixes, and the sidecar keeps running', async (t) => {
  const dir = configDir(t);
  const app = await NamedApp.start(t, `root-owned-${process.pid}`);
  const sidecar = await startSidecar(
    t,
    { CONFIG_DIR: dir, PROCESS_NAME: `root-owned-${process.pid}` },
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    join(copyPackageReadableByAll(t), CLI_IN_PACKAGE),
  );
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitFor('the permission diagnosis', (lines) =>
    lines.some((line) => line.msg === 'reload not sent' && /uid 0\).*uid 65534 without CAP_KILL.*runAsUser: 0.*add \[KILL\]/.test(String(line['reason']))));
  assert.equal(app.signals().length, 0);
  assert.equal(sidecar.child.exitCode, null);
});

test('a target that ignores the signal is a failed reload, named with the reason, and is not signalled', async (t) => {
  const dir = configDir(t);
  const bin = mkdtempSync(join(tmpdir(), 'ignorer-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  symlinkSync('/bin/sleep', join(bin, `ignoring-app-${process.pid}`));
  // SIG_IGN survives exec: the app starts with SIGHUP ignored, as under nohup.
  const app = await spawnTracked(t, 'sh', ['-c', `trap '' HUP; exec ${join(bin, `ignoring-app-${process.pid}`)} 600`]);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: `ignoring-app-${process.pid}` });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await sidecar.waitFor('the ignored-signal failure', (lines) =>
    lines.some((line) => line.msg === 'reload not sent' && line.level === 'error' && /ignores SIGHUP, so it will not reload/.test(String(line['reason']))));
  assert.deepEqual(sidecar.messages('reload sent'), []);
  assert.equal(app.exitCode, null, 'the app is still running');
});

test('after a reload given up with only some targets signalled, going back to the content before reloads them, not skips', async (t) => {
  const name = `half-reached-${process.pid}`;
  const dir = configDir(t);
  const ready = await NamedApp.start(t, name);
  const stuck = await NamedApp.start(t, name, { handlerDelayMs: 600_000 });
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '300ms', RELOAD_RETRIES: '0' });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await ready.waitForSignals(1); // this one has v1; the other never installs its handler
  await sidecar.waitForMessage('reload failed; giving up until the next change');
  writeFileSync(join(dir, 'app.conf'), 'v0');
  await ready.waitForSignals(2);
  assert.deepEqual(sidecar.messages('skipped: content unchanged'), []);
  assert.ok(stuck.alive, 'the app without a handler was not killed');
});

test('a second instance started after a reload gets the next reload too, and the first is not signalled twice', async (t) => {
  const name = `two-masters-${process.pid}`;
  const dir = configDir(t);
  const first = await NamedApp.start(t, name);
  await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await first.waitForSignals(1);
  const second = await NamedApp.start(t, name);
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await first.waitForSignals(2);
  await second.waitForSignals(1);
  await sleep(300);
  assert.equal(first.signals().length, 2);
  assert.equal(second.signals().length, 1);
});

// An app that re-executes itself when it reloads, as HAProxy's master does:
// the new image starts without the handler, and installs it only after
// 1.5 s. Each image prints "started GEN PID", "handler GEN PID" and, on
// SIGHUP, "signal GEN PID" before exec'ing the next generation.
const REEXEC_SCRIPT = `
gen=\${1:-0}
echo "started $gen $$"
if [ "$gen" -gt 0 ]; then sleep 1.5; fi
trap 'echo "signal $gen $$"; exec "$APP" -c "$SCRIPT" "$APP" $((gen + 1))' HUP
echo "handler $gen $$"
while :; do sleep 0.05; done
`;

test('an app that re-executes itself on reload is not signalled again until its new image installs the handler', async (t) => {
  const name = `reexec-${process.pid}`;
  const dir = configDir(t);
  const binDir = mkdtempSync(join(tmpdir(), 'reexec-'));
  t.after(() => rmSync(binDir, { recursive: true, force: true }));
  const path = join(binDir, name);
  symlinkSync('/bin/bash', path); // comm, argv[0]: the name; the same after every exec
  const app = await spawnTracked(t, path, ['-c', REEXEC_SCRIPT, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, APP: path, SCRIPT: REEXEC_SCRIPT },
  });
  const lines: string[] = [];
  app.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => line !== '')));
  const seen = async (line: string): Promise<void> => {
    await waitFor(() => `"${line}" from the app (got ${JSON.stringify(lines)})`, () => {
      if (app.exitCode !== null || app.signalCode !== null) throw new Error(`the app died (${String(app.signalCode)}): ${lines.join('; ')}`);
      return lines.includes(`${line} ${app.pid}`);
    }, { timeoutMs: 15_000 });
  };
  await seen('handler 0');
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, HANDLER_WAIT: '10s' });

  writeFileSync(join(dir, 'app.conf'), 'v1');
  await seen('signal 0');
  await seen('started 1');
  // The second image is running but has no handler yet: a reload now must wait.
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await sidecar.waitForMessage('waiting for the target to install its signal handler');
  await seen('signal 1');
  const expected = ['started 0', 'handler 0', 'signal 0', 'started 1', 'handler 1', 'signal 1'];
  assert.deepEqual(lines.slice(0, expected.length), expected.map((line) => `${line} ${app.pid}`), 'one process, each signal after its handler');
  assert.equal(app.exitCode, null, 'the app is alive');
});

test('holds two descriptors on the process it reloaded, moves them to a restarted app, and lets go when the app is gone', async (t) => {
  const name = `held-fds-${process.pid}`;
  const dir = configDir(t);
  const app = await NamedApp.start(t, name);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });
  const sidecarPid = sidecar.child.pid;
  assert.ok(sidecarPid !== undefined);
  // Found at start-up, but not held: its parent (this test) is visible and
  // could in principle come to match; only a container's first process is
  // held before the first reload (test/sidecar-nginx.test.ts).
  assert.deepEqual(sidecar.messages('target found')[0]?.['targets'], [`${app.pid} ${name}`]);
  assert.deepEqual(processHandleDescriptors(sidecarPid), []);

  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
  await sidecar.waitForMessage('reload sent');
  assert.deepEqual(processHandleDescriptors(sidecarPid), [`/proc/${app.pid}/status`, 'anon_inode:[pidfd]']);

  await app.restart();
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await app.waitForSignals(2);
  await sidecar.waitFor('the second reload', (lines) => lines.filter((line) => line.msg === 'reload sent').length === 2);
  assert.deepEqual(processHandleDescriptors(sidecarPid), [`/proc/${app.pid}/status`, 'anon_inode:[pidfd]']);

  await app.kill();
  writeFileSync(join(dir, 'app.conf'), 'v3');
  await sidecar.waitForMessage('target not found');
  assert.deepEqual(processHandleDescriptors(sidecarPid), []);
});

// An app found by a name longer than comm holds (so through argv[0]) that,
// on reload, execs a program with the same comm under another argv[0]: it
// no longer answers to the name, and must not be signalled again.
const RENAMING_SCRIPT = `
gen=\${1:-0}
echo "started $gen $$"
trap 'echo "signal $gen $$"; exec -a "$OTHER" "$APP" -c "$SCRIPT" "$APP" $((gen + 1))' HUP
echo "handler $gen $$"
while :; do sleep 0.05; done
`;

test('a process that execs under another name, keeping its comm, is left to the scan and not signalled again', async (t) => {
  const name = `renaming-application-${process.pid}`; // longer than comm's 15 characters
  const dir = configDir(t);
  const binDir = mkdtempSync(join(tmpdir(), 'renaming-'));
  t.after(() => rmSync(binDir, { recursive: true, force: true }));
  const path = join(binDir, name);
  symlinkSync('/bin/bash', path);
  const app = await spawnTracked(t, path, ['-c', RENAMING_SCRIPT, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, APP: path, SCRIPT: RENAMING_SCRIPT, OTHER: `other-${process.pid}` },
  });
  const lines: string[] = [];
  app.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => line !== '')));
  const seen = async (line: string): Promise<void> => {
    await waitFor(() => `"${line}" from the app (got ${JSON.stringify(lines)})`, () => lines.includes(`${line} ${app.pid}`));
  };
  await seen('handler 0');
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });

  writeFileSync(join(dir, 'app.conf'), 'v1');
  await seen('signal 0');
  await seen('handler 1');
  writeFileSync(join(dir, 'app.conf'), 'v2');
  await sidecar.waitForMessage('target not found');
  await sleep(200);
  assert.ok(!lines.includes(`signal 1 ${app.pid}`), `the renamed process got a reload: ${lines.join('; ')}`);
});

test('starting before the app is not a fault: it says the target is not running yet, then reloads the app once it runs', async (t) => {
  const name = `late-app-${process.pid}`;
  const dir = configDir(t);
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name });
  const [notYet] = sidecar.messages('target not running yet');
  // The reason lists what is visible, so a misspelt PROCESS_NAME shows at once.
  assert.match(String(notYet?.['reason']), new RegExp(`no process named '${name}'.* among the \\d+ visible processes: \\d+ `), sidecar.transcript());
  assert.deepEqual(sidecar.messages('no target can be seen'), [], 'other processes are visible: no warning');
  const app = await NamedApp.start(t, name);
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
});

test(`with SIGNAL_ALL and more matches than it holds (${MAX_HELD}), every match is signalled on every reload`, async (t) => {
  const name = `many-${process.pid}`;
  const count = MAX_HELD + 8; // past the 20 the start-up line lists, too
  const dir = configDir(t);
  const binDir = mkdtempSync(join(tmpdir(), 'many-'));
  t.after(() => rmSync(binDir, { recursive: true, force: true }));
  const path = join(binDir, name);
  symlinkSync('/bin/bash', path);
  const lines: string[] = [];
  // No fork in the loop: a forked bash, before it execs sleep, carries the
  // name too, and the scan would find it as one more match. read -t on a
  // pipe this shell holds both ends of waits without one.
  const script = 'exec 3<> <(:); trap \'echo "signal $$"\' HUP; echo "handler $$"; while :; do read -t 0.05 -u 3; done';
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const child = await spawnTracked(t, path, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => line !== '')));
    pids.push(child.pid);
  }
  const signalled = (pid: number): number => lines.filter((line) => line === `signal ${pid}`).length;
  await waitFor('every copy to install its handler', () => pids.every((pid) => lines.includes(`handler ${pid}`)));
  const sidecar = await startSidecar(t, { CONFIG_DIR: dir, PROCESS_NAME: name, SIGNAL_ALL: 'true' });
  const sidecarPid = sidecar.child.pid;
  assert.ok(sidecarPid !== undefined);
  const found = (sidecar.messages('target found')[0]?.['targets'] as string[] | undefined) ?? [];
  assert.equal(found.length, 21, 'twenty listed and a count of the rest');
  assert.equal(found[20], `... and ${count - 20} more`);
  assert.ok(found.slice(0, 20).every((entry) => pids.some((pid) => entry === `${pid} ${name}`)), found.join(', '));

  for (const [round, content] of ['v1', 'v2'].entries()) {
    writeFileSync(join(dir, 'app.conf'), content);
    await waitFor(() => `${count} copies signalled ${round + 1} time(s) (${pids.map(signalled).join(',')})`, () =>
      pids.every((pid) => signalled(pid) === round + 1));
    assert.equal(processHandleDescriptors(sidecarPid).length, 2 * MAX_HELD);
  }
});
