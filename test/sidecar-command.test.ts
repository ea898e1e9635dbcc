// The command action with real commands: run without a shell, told what
// changed, its output logged within bounds, retried with backoff when it
// fails, killed with its process group when it overruns, and cancelled by a
// newer change.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { fingerprintSync } from '../lib/fingerprint';
import { SidecarProcess } from './helpers/sidecar-process';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

/** Long enough for a run, if one were coming, to have come. */
const QUIET_MS = 500;

/** A shell script in the volume's temporary directory (beside the volume, not in it). */
function script(volume: SyncVolume, name: string, body: string): string {
  const path = join(volume.root, name);
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}

function sidecar(t: { after(fn: () => unknown): void }, env: Readonly<Record<string, string>>): SidecarProcess {
  const process = new SidecarProcess({ env });
  t.after(() => process.stop());
  return process;
}

const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []);

test('runs the command with its arguments and no shell, and tells it the changed files and the fingerprint', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0', 'same.conf': 's' });
  const record = join(volume.root, 'record');
  const recorder = script(volume, 'recorder.sh', `
for arg in "$@"; do echo "arg:$arg"; done >> "${record}"
printf 'changed:%s\\n' "$CONFIG_RELOADER_CHANGED_FILES" >> "${record}"
echo "fingerprint:$CONFIG_RELOADER_FINGERPRINT" >> "${record}"
`);
  // A key of its own, so that the fingerprint the command is told can be computed here too.
  const keyFile = join(volume.root, 'fingerprint.key');
  writeFileSync(keyFile, 'command-test-key');
  const reloader = sidecar(t, {
    CONFIG_DIR: volume.dir, RELOAD_COMMAND: JSON.stringify([recorder, 'two words', '$HOME', '*']), FINGERPRINT_KEY_FILE: keyFile,
  });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'v1', 'same.conf': 's', 'new.conf': 'n' });
  await reloader.waitForMessage('reload command succeeded');
  assert.deepEqual(lines(record), [
    'arg:two words', 'arg:$HOME', 'arg:*',
    `changed:${join(volume.dir, 'app.conf')}`, join(volume.dir, 'new.conf'),
    `fingerprint:${fingerprintSync([volume.dir], { key: 'command-test-key' }).digest}`,
  ]);
  const [starting] = reloader.messages('starting');
  assert.deepEqual(starting?.['actions'], ['command']);
  assert.equal(starting?.['reload_command'], recorder, 'the program is logged, never its arguments');
  assert.ok(!reloader.transcript().includes('two words'), reloader.transcript());
});

test('a command that fails is retried after 1 s, then 2 s, with its last 20 lines logged, until it succeeds', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const runs = join(volume.root, 'runs');
  const flaky = script(volume, 'flaky.sh', `
echo run >> "${runs}"
i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i + 1)); done
printf '%02000d\\n' 0 >&2
[ "$(wc -l < "${runs}")" -ge 3 ]
`);
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, RELOAD_COMMAND: flaky });
  await reloader.waitForMessage('ready');
  const started = performance.now();
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reloaded after retrying', 1, 15_000);
  const took = performance.now() - started;
  assert.ok(took >= 2900, `three runs 1 s and 2 s apart took ${Math.round(took)} ms`);
  await sleep(QUIET_MS);
  assert.equal(lines(runs).length, 3);
  const retries = reloader.messages('reload attempt failed; retrying');
  assert.deepEqual(retries.map((line) => [line['action'], line['attempt'], line['retry_in_ms']]), [['command', 1, 1000], ['command', 2, 2000]]);
  assert.match(String(retries[0]?.['reason']), /flaky\.sh exited with status 1$/);
  assert.equal(reloader.messages('reload command failed').length, 2);
  assert.equal(reloader.messages('change detected').length, 1, 'one change, however many attempts');
  // Each run: 31 lines of output, the last 20 logged, the long one cut.
  const output = reloader.messages('reload command output').map((line) => String(line['line']));
  assert.equal(output.length, 3 * 20);
  assert.equal(output[0], 'line 12');
  assert.match(output[19] ?? '', /^0{500}\.\.\. \(1500 more characters\)$/);
  assert.equal(reloader.messages('reload command succeeded')[0]?.['output_lines_dropped'], 11);
});

test('a command that overruns RELOAD_TIMEOUT is killed with its process group; with RELOAD_RETRIES=0 it is given up', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const pidFile = join(volume.root, 'child.pid');
  const reloader = sidecar(t, {
    CONFIG_DIR: volume.dir,
    RELOAD_COMMAND: JSON.stringify(['sh', '-c', `sleep 60 & echo $! > "${pidFile}"; wait`]),
    RELOAD_TIMEOUT: '300ms',
    RELOAD_RETRIES: '0',
  });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload failed; giving up until the next change');
  const [failed] = reloader.messages('reload command failed');
  assert.equal(failed?.['reason'], 'sh did not finish within 300ms (RELOAD_TIMEOUT); its process group was killed');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await waitFor(`the background sleep (pid ${pid}) to be killed`, () => !isRunning(pid));
  assert.equal(reloader.messages('reload attempt failed; retrying').length, 0);
  // The sidecar keeps watching: the next change runs the command again.
  volume.commit({ 'app.conf': 'v2' });
  await reloader.waitForMessage('reload failed; giving up until the next change', 2);
});

test('a newer change cancels the retry in progress and is reloaded instead', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const runs = join(volume.root, 'runs');
  // Refuses v1, accepts anything else: like an app that rejects a bad file.
  const picky = script(volume, 'picky.sh', `
cat "${join(volume.dir, 'app.conf')}" >> "${runs}"; echo >> "${runs}"
! grep -qx v1 "${join(volume.dir, 'app.conf')}"
`);
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, RELOAD_COMMAND: picky });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload attempt failed; retrying');
  volume.commit({ 'app.conf': 'v2' });
  await reloader.waitForMessage('reload command succeeded');
  await sleep(1500); // past the cancelled retry's time
  assert.deepEqual(lines(runs), ['v1', 'v2'], reloader.transcript());
  assert.equal(reloader.messages('retry cancelled: a newer change supersedes it').length, 1, reloader.transcript());
});

test('a command that cannot be found is warned about at start-up, and fails each attempt naming PATH', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, RELOAD_COMMAND: 'no-such-reload-program --now', RELOAD_RETRIES: '0' });
  await reloader.waitForMessage('ready');
  const [warning] = reloader.messages('reload command not found');
  assert.match(String(warning?.['reason']), /no-such-reload-program is not found on PATH/);
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload command failed');
  assert.match(String(reloader.messages('reload command failed')[0]?.['reason']), /^cannot run no-such-reload-program \(ENOENT\): .*not found on PATH/);
});

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

