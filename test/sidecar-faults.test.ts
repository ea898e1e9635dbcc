// The sidecar under faults, run as the real command: as another uid before
// a directory it may not read and a Secret it may not read, at the inotify
// limits in a user namespace, with a directory missing, with a key
// directory of a kubelet volume, and with keyed fingerprints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import type { CheckReport } from '../lib/sidecar/cli/check-report';
import { fingerprintSync } from '../lib/fingerprint';
import { AtomicWriter, secretPayload } from '../lib/testing';
import { describeResult, runCommand } from './helpers/child-process';
import { userNamespacesWork } from './helpers/inotify-limits';
import { NamedApp } from './helpers/named-app';
import { NestedVolume } from './helpers/nested-volume';
import { copyPackageReadableByAll } from './helpers/package-copy';
import { CLI, SidecarProcess } from './helpers/sidecar-process';
import { waitFor } from './helpers/wait-for';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const isRoot = process.getuid?.() === 0;
const DEBOUNCE_MS = 60;
const QUIET_MS = 500;

/** A directory anyone may enter, removed after the test. */
function openDir(t: { after(fn: () => unknown): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function sample(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.text();
  return response.status;
}

function checkAs(cli: string, wrapper: readonly string[], args: readonly string[]) {
  const [command = process.execPath, ...rest] = [...wrapper, process.execPath, cli, 'check', ...args];
  return runCommand(command, rest, { env: ENV });
}

test('run as another uid, a subdirectory it may not read is a warning with the fix, a gauge and a check line; changes beside it reload', { skip: !isRoot && 'needs root to run as nobody' }, async (t) => {
  const root = openDir(t, 'faults-lostfound-');
  const dir = join(root, 'config');
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, 'app.conf'), 'v0');
  mkdirSync(join(dir, 'lost+found'), { mode: 0o700 }); // root's, as mkfs leaves it
  const pkg = copyPackageReadableByAll(t);
  const cli = join(pkg, 'dist', 'bin', 'config-reloader.js');
  const name = `faults-lf-${process.pid}`;
  const app = await NamedApp.start(t, name, { wrapper: NOBODY });
  const sidecar = new SidecarProcess({ cli, wrapper: NOBODY, env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: `${DEBOUNCE_MS}ms` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const [warning] = sidecar.messages('cannot watch a directory; watching the rest');
  assert.equal(warning?.['path'], join(dir, 'lost+found'), sidecar.transcript());
  assert.match(String(warning?.['reason']), /EACCES/);
  assert.match(String(warning?.['fix']), /fsGroup/);

  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1);
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());

  // The same at run time: a private directory and a private file appear.
  mkdirSync(join(dir, 'private'), { mode: 0o700 });
  await sidecar.waitFor('the warning for the new directory', (lines) => lines.some((line) => line.msg === 'cannot watch a directory; watching the rest' && line['path'] === join(dir, 'private')));
  writeFileSync(join(dir, 'secret.conf'), 'x', { mode: 0o600 });
  await sidecar.waitFor('the warning for the new file', (lines) => lines.some((line) => line.msg === 'cannot read some configuration files' && JSON.stringify(line['paths']).includes('secret.conf')));
  assert.equal(sidecar.child.exitCode, null, 'still running');

  const result = await checkAs(cli, NOBODY, ['--config-dir', dir, '--process-name', name]);
  assert.equal(result.code, 0, describeResult(result));
  assert.match(result.stdout, new RegExp(`^warning: cannot watch ${join(dir, 'lost\\+found')}: the sidecar \\(uid 65534\\) may not read it\\. Fix: .*fsGroup`, 'm'));
});

test('a Secret with defaultMode 0400 read by another uid is named at start-up and by check, and each kubelet update reloads exactly once', { skip: !isRoot && 'needs root to run as nobody' }, async (t) => {
  const root = openDir(t, 'faults-secret-');
  const dir = join(root, 'tls');
  mkdirSync(dir);
  const writer = new AtomicWriter(dir);
  await writer.write(secretPayload({ 'tls.crt': 'cert v0', 'tls.key': 'key v0' }, { defaultMode: 0o400 }));
  chmodSync(dir, 0o755);
  const pkg = copyPackageReadableByAll(t);
  const cli = join(pkg, 'dist', 'bin', 'config-reloader.js');
  const name = `faults-sec-${process.pid}`;
  const app = await NamedApp.start(t, name, { wrapper: NOBODY });
  const sidecar = new SidecarProcess({ cli, wrapper: NOBODY, env: { CONFIG_DIR: dir, PROCESS_NAME: name } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const [warning] = sidecar.messages('cannot read some configuration files');
  assert.deepEqual(warning?.['paths'], [join(dir, 'tls.crt'), join(dir, 'tls.key')], sidecar.transcript());
  assert.match(String(warning?.['fix']), /fsGroup.*runAsUser/);

  for (let version = 1; version <= 3; version++) {
    await writer.write(secretPayload({ 'tls.crt': `cert v${version}`, 'tls.key': 'key v0' }, { defaultMode: 0o400 }));
    await app.waitForSignals(version);
  }
  await writer.resync(); // nothing changed: the kubelet commits nothing
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 3, sidecar.transcript());
  assert.equal(sidecar.messages('skipped: content unchanged').length, 0);

  const result = await checkAs(cli, NOBODY, ['--config-dir', dir, '--process-name', name]);
  assert.match(result.stdout, new RegExp(`^warning: cannot read 2 files of ${dir} \\(${join(dir, 'tls.crt')}, ${join(dir, 'tls.key')}\\): the sidecar \\(uid 65534\\) may not read them`, 'm'), describeResult(result));
});

test('/readyz is 503 while a configured directory is missing, and 200 once it is back', async (t) => {
  const root = openDir(t, 'faults-readyz-');
  const dirs = [join(root, 'a'), join(root, 'b')];
  for (const dir of dirs) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.conf'), 'v0');
  }
  const port = await freePort();
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dirs.join(','), PROCESS_NAME: 'nothing-here', METRICS_ADDR: `127.0.0.1:${port}` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const readyz = `http://127.0.0.1:${port}/readyz`;
  assert.equal(await status(readyz), 200);
  rmSync(dirs[1] ?? '', { recursive: true });
  await sidecar.waitForMessage('config directory lost; keeping on and waiting for it to come back');
  assert.equal(await status(readyz), 503);
  mkdirSync(dirs[1] ?? '');
  await sidecar.waitForMessage('config directory is back; watching again');
  assert.equal(await status(readyz), 200);
});

/** The CLI in a user namespace whose inotify limit `sysctl` is lowered to `value`. */
function limitedWrapper(sysctl: string, value: number): string[] {
  return ['unshare', '--user', '--map-root-user', 'sh', '-c', `echo ${value} > /proc/sys/user/${sysctl} && exec "$@"`, '-'];
}

test('with no inotify instance to be had, the sidecar stays up, healthy and not ready, tries again, and stops cleanly', async (t) => {
  if (!(await userNamespacesWork())) {
    t.skip('user namespaces are not available');
    return;
  }
  const dir = openDir(t, 'faults-instances-');
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const port = await freePort();
  const sidecar = new SidecarProcess({
    wrapper: limitedWrapper('max_inotify_instances', 0),
    env: { CONFIG_DIR: dir, PROCESS_NAME: 'nothing-here', METRICS_ADDR: `127.0.0.1:${port}` },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('cannot watch the configuration', 2, 10_000);
  const [first, second] = sidecar.messages('cannot watch the configuration');
  assert.match(String(first?.['reason']), /^EMFILE: cannot create an inotify instance: .*max_user_instances/);
  assert.deepEqual([first?.['retry_in_ms'], second?.['retry_in_ms']], [1000, 2000]);
  assert.equal(await status(`http://127.0.0.1:${port}/healthz`), 200);
  assert.equal(await status(`http://127.0.0.1:${port}/readyz`), 503);
  const exit = await sidecar.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, sidecar.transcript());
});

test('at the watch limit the sidecar starts, names the directory and the fix, and still reloads', async (t) => {
  if (!(await userNamespacesWork())) {
    t.skip('user namespaces are not available');
    return;
  }
  const dir = openDir(t, 'faults-watches-');
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const name = `faults-enospc-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const port = await freePort();
  const sidecar = new SidecarProcess({
    wrapper: limitedWrapper('max_inotify_watches', 0),
    env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: `${DEBOUNCE_MS}ms`, METRICS_ADDR: `127.0.0.1:${port}` },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const [warning] = sidecar.messages('cannot watch a directory; watching the rest');
  assert.equal(warning?.['path'], dir, sidecar.transcript());
  assert.match(String(warning?.['reason']), /^ENOSPC: inotify watch limit reached/);
  assert.match(String(warning?.['fix']), /max_user_watches/);
  const base = `http://127.0.0.1:${port}`;
  assert.equal(await sample(base, 'config_reloader_watch_problems'), 1);
  assert.equal(await status(`${base}/readyz`), 200, 'looked at instead of watched, and ready');
  writeFileSync(join(dir, 'app.conf'), 'v1');
  await app.waitForSignals(1); // found by looking again, the watch being refused
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});

test('a key directory of a kubelet volume as CONFIG_DIR reloads once per update, with no lost or back lines', async (t) => {
  const volume = new NestedVolume(join(openDir(t, 'faults-nested-'), 'volume'));
  volume.commit({ 'app.conf': 'v0' });
  const name = `faults-nested-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: volume.keyDir, PROCESS_NAME: name } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  assert.equal(sidecar.messages('watching')[0]?.['kind'], 'kubelet volume');
  for (let version = 1; version <= 3; version++) {
    volume.commit({ 'app.conf': `v${version}` });
    await app.waitForSignals(version);
  }
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 3, sidecar.transcript());
  assert.deepEqual(sidecar.lines.filter((line) => line.level === 'warn' || line.level === 'error'), []);
});

test('fingerprints are keyed: different per process without FINGERPRINT_KEY_FILE, equal with it, never the plain sha256', async (t) => {
  const dir = openDir(t, 'faults-key-');
  writeFileSync(join(dir, 'password'), 'hunter2');
  const keyFile = join(dir, '..key'); // hidden from the fingerprint, as a kubelet name
  writeFileSync(keyFile, 'shared key\n');
  const fingerprintOf = async (extra: readonly string[]): Promise<string> => {
    const result = await checkAs(CLI, [], ['--config-dir', dir, '--process-name', 'nothing-here', '--log-format', 'json', ...extra]);
    return (JSON.parse(result.stdout) as CheckReport).fingerprint;
  };
  const [random1, random2] = [await fingerprintOf([]), await fingerprintOf([])];
  assert.notEqual(random1, random2);
  const [keyed1, keyed2] = [await fingerprintOf(['--fingerprint-key-file', keyFile]), await fingerprintOf(['--fingerprint-key-file', keyFile])];
  assert.equal(keyed1, keyed2);
  assert.equal(keyed1, fingerprintSync([dir], { key: 'shared key' }).digest, 'the trailing newline is not part of the key');
  assert.ok(![random1, keyed1].includes(fingerprintSync([dir]).digest));
  const missing = await checkAs(CLI, [], ['--config-dir', dir, '--process-name', 'x', '--fingerprint-key-file', join(dir, 'absent')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /FINGERPRINT_KEY_FILE \(--fingerprint-key-file\): invalid value .*cannot be read \(ENOENT\)/);
});

test('links to / and /proc/self in the configuration: the sidecar is ready at once, says what it does not read, and stops on SIGTERM', async (t) => {
  const dir = openDir(t, 'faults-links-');
  writeFileSync(join(dir, 'app.conf'), 'v0');
  symlinkSync('/', join(dir, 'root'));
  symlinkSync('/proc/self', join(dir, 'proc'));
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: 'nothing-here' } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready', 1, 5000);
  const [skipped] = sidecar.messages('some configuration paths are not read');
  assert.deepEqual((skipped?.['skipped'] as string[]).map((line) => line.split(':')[0]).sort(), [join(dir, 'proc'), join(dir, 'root')]);
  assert.equal(sidecar.messages('ready')[0]?.['files'], 1);
  const started = performance.now();
  assert.deepEqual(await sidecar.stop(), { code: 0, signal: null });
  assert.ok(performance.now() - started < 2000);
});

test('a 2 GB file in the configuration does not stall /healthz while a change is checked', async (t) => {
  const dir = openDir(t, 'faults-large-');
  writeFileSync(join(dir, 'app.conf'), 'v0');
  execFileSync('truncate', ['-s', '2G', join(dir, 'big.bin')]); // sparse: no disk used
  const port = await freePort();
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: 'nothing-here', DEBOUNCE: '0ms', METRICS_ADDR: `127.0.0.1:${port}` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  let slowest = 0;
  for (let i = 0; i < 20; i++) {
    if (i === 2) writeFileSync(join(dir, 'app.conf'), 'v1');
    const started = performance.now();
    assert.equal(await status(`http://127.0.0.1:${port}/healthz`), 200);
    slowest = Math.max(slowest, performance.now() - started);
    await sleep(20);
  }
  await sidecar.waitForMessage('change detected');
  assert.ok(slowest < 1000, `/healthz took ${Math.round(slowest)} ms`);
});
