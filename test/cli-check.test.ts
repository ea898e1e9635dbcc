// `config-reloader check` against real directories and real processes: what
// it reports, and that it exits 0 only when a reload would really work.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { CheckReport } from '../lib/sidecar/cli/check-report';
import { fingerprintSync } from '../lib/fingerprint';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { describeResult, runCommand, spawnTracked } from './helpers/child-process';
import { CLI_IN_PACKAGE } from './helpers/cli-bundle';
import { NamedApp } from './helpers/named-app';
import { copyPackageReadableByAll } from './helpers/package-copy';
import { CLI, SidecarProcess } from './helpers/sidecar-process';
import { waitFor } from './helpers/wait-for';

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const isRoot = process.getuid?.() === 0;

interface Dirs {
  readonly volume: string;
  readonly plain: string;
  /** FINGERPRINT_KEY_FILE, so that check's fingerprints compare with the sidecar's and the tests'. */
  readonly keyFile: string;
}

const KEY = 'check-test-key';

/** A kubelet-style volume with one key and a plain directory with two files, readable by anyone. */
function makeDirs(t: { after(fn: () => void): void }): Dirs {
  const root = mkdtempSync(join(tmpdir(), 'cli-check-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const volume = join(root, 'volume');
  mkdirSync(volume);
  new AtomicWriter(volume).writeSync(configMapPayload({ 'app.conf': 'listen 80;\n' }));
  const plain = join(root, 'plain');
  mkdirSync(plain);
  writeFileSync(join(plain, 'a.conf'), 'a\n');
  writeFileSync(join(plain, 'b.conf'), 'b\n');
  const keyFile = join(root, 'fingerprint.key');
  writeFileSync(keyFile, `${KEY}\n`);
  return { volume, plain, keyFile };
}

/** Runs `check`; `cli` is another copy of the command, for a uid that cannot read this checkout. */
function check(dirs: Dirs, name: string, extra: readonly string[] = [], wrapper: readonly string[] = [], cli = CLI) {
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, cli, 'check', '--config-dir', `${dirs.volume},${dirs.plain}`, '--process-name', name, '--fingerprint-key-file', dirs.keyFile, ...extra];
  return runCommand(command, args, { env: ENV });
}


/** The command in a copy of the package that any uid can read, wherever this checkout sits (a clone under /root or a 0700 directory). */
const readableCli = (t: { after(fn: () => unknown): void }): string => join(copyPackageReadableByAll(t), CLI_IN_PACKAGE);

test('check shows each directory with its kind, file count and fingerprint, and the target, and exits 0', async (t) => {
  const dirs = makeDirs(t);
  const name = `check-ok-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const result = await check(dirs, name);
  assert.equal(result.code, 0, describeResult(result));
  const out = result.stdout;
  assert.ok(out.includes(`watch ${dirs.volume}: kubelet volume, 1 file, fingerprint ${fingerprintSync([dirs.volume], { key: KEY }).digest.slice(0, 16)}\n`), out);
  assert.ok(out.includes(`watch ${dirs.plain}: plain directory, 2 files, fingerprint ${fingerprintSync([dirs.plain], { key: KEY }).digest.slice(0, 16)}\n`), out);
  assert.ok(out.includes(`config fingerprint: ${fingerprintSync([dirs.volume, dirs.plain], { key: KEY }).digest} (keyed with FINGERPRINT_KEY_FILE)\n`), out);
  assert.doesNotMatch(out, /^warning:/m);
  assert.match(out, new RegExp(`^ {2}pid ${app.pid} .*answers to .*${name}.*catches SIGHUP yes, ignores it no, may signal yes -> ok$`, 'm'));
  assert.match(out, new RegExp(`^ok: a change now would send SIGHUP to pid ${app.pid}$`, 'm'));
  assert.doesNotMatch(out, /^problem:/m);
});

test('check with --log-format json prints one JSON report', async (t) => {
  const dirs = makeDirs(t);
  const name = `check-json-${process.pid}`;
  const app = await NamedApp.start(t, name, { signal: 'SIGUSR1' });
  const result = await check(dirs, name, ['--log-format', 'json', '--signal', 'USR1']);
  assert.equal(result.code, 0, describeResult(result));
  const report = JSON.parse(result.stdout) as CheckReport;
  assert.equal(report.ok, true);
  assert.equal(report.signal, 'SIGUSR1');
  assert.deepEqual(report.directories.map((dir) => [dir.dir, dir.kind, dir.files]), [
    [dirs.volume, 'kubelet volume', 1],
    [dirs.plain, 'plain directory', 2],
  ]);
  assert.deepEqual(report.targets.map((target) => [target.pid, target.catches, target.permitted, target.problem]), [[app.pid, true, true, null]]);
  assert.deepEqual(report.problems, []);
});

test('check reports the fingerprint the running sidecar starts from', async (t) => {
  const dirs = makeDirs(t);
  const result = await check(dirs, 'nothing-here', ['--log-format', 'json']);
  const report = JSON.parse(result.stdout) as CheckReport;
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: `${dirs.volume},${dirs.plain}`, PROCESS_NAME: 'nothing-here', FINGERPRINT_KEY_FILE: dirs.keyFile } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  const ready = sidecar.messages('ready')[0];
  assert.ok(typeof ready?.['fingerprint'] === 'string' && report.fingerprint.startsWith(ready['fingerprint']), sidecar.transcript());
});

test('check names the workers it would skip and signals only their parent', async (t) => {
  const dirs = makeDirs(t);
  const name = `check-wrk-${process.pid}`;
  const app = await NamedApp.start(t, name, { workers: 2 });
  const result = await check(dirs, name);
  assert.equal(result.code, 0, describeResult(result));
  const workers = /^workers skipped \(their parent reloads them\): (.*)$/m.exec(result.stdout)?.[1] ?? '';
  assert.equal(workers.split(', ').length, 2, result.stdout);
  assert.ok(!workers.includes(`${app.pid} `), result.stdout);
  assert.match(result.stdout, new RegExp(`^ok: a change now would send SIGHUP to pid ${app.pid}$`, 'm'));
});

test('check fails with the diagnosis when no process has the name', async (t) => {
  const dirs = makeDirs(t);
  const result = await check(dirs, `absent-${process.pid}`);
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stdout, /^targets: none$/m);
  assert.match(result.stdout, new RegExp(`^problem: no process named 'absent-${process.pid}'`, 'm'));
  assert.match(result.stdout, /^not ok: a reload would not work/m);
});

test('check fails when the target has no handler and the signal would kill it', async (t) => {
  const dirs = makeDirs(t);
  const name = `check-noh-${process.pid}`;
  const app = await NamedApp.start(t, name, { handlerDelayMs: 600_000 });
  const result = await check(dirs, name, ['--handler-wait', '2s']);
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stdout, new RegExp(`^ {2}pid ${app.pid} .*catches SIGHUP no, .* -> PROBLEM$`, 'm'));
  assert.match(result.stdout, new RegExp(`^problem: .*\\(pid ${app.pid}\\) has no handler for SIGHUP, whose default action would terminate it; .*HANDLER_WAIT \\(2s\\)`, 'm'));
  assert.ok(app.alive, 'check never sends the signal');
});

test('check fails when the target ignores the signal', async (t) => {
  const dirs = makeDirs(t);
  const name = `check-ign-${process.pid}`;
  // SIG_IGN survives exec, so sleep starts with SIGHUP ignored, under argv[0] = name.
  const child = await spawnTracked(t, 'bash', ['-c', `trap '' HUP; exec -a ${name} sleep 600`]);
  await waitFor('sleep to be exec\'d under its new name', () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith(`${name}\0`));
  const result = await check(dirs, name);
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stdout, new RegExp(`^problem: sleep \\(pid ${child.pid}\\) ignores SIGHUP, so it will not reload`, 'm'));
});

test('check run as another uid without CAP_KILL predicts EPERM, with the fix', { skip: !isRoot && 'needs root to run as nobody' }, async (t) => {
  const dirs = makeDirs(t);
  const name = `check-uid-${process.pid}`;
  const app = await NamedApp.start(t, name); // runs as root
  const result = await check(dirs, name, [], NOBODY, readableCli(t));
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stdout, new RegExp(`^ {2}pid ${app.pid} .*uid 0: catches SIGHUP yes, .*may signal no -> PROBLEM$`, 'm'));
  assert.match(result.stdout, /^problem: likely to fail: cannot send SIGHUP to .* uid 0\): operation not permitted; this sidecar runs as uid 65534 without CAP_KILL\. Fix: /m);
});

test('check run as the target\'s own uid needs no capability', { skip: !isRoot && 'needs root to run as nobody' }, async (t) => {
  const dirs = makeDirs(t);
  const name = `check-same-${process.pid}`;
  const app = await NamedApp.start(t, name, { wrapper: NOBODY });
  const result = await check(dirs, name, [], NOBODY, readableCli(t));
  assert.equal(result.code, 0, describeResult(result));
  assert.match(result.stdout, new RegExp(`^ {2}pid ${app.pid} .*uid 65534: catches SIGHUP yes, .*may signal yes -> ok$`, 'm'));
});
