// `config-reloader check` for the command and URL actions: it resolves the
// command on PATH, sends the URL a HEAD (never the reload itself) with the
// configured headers, and exits 1 when either would not work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { CheckReport } from '../lib/sidecar/cli/check-report';
import { describeResult, runCommand } from './helpers/child-process';
import { freePort } from './helpers/free-port';
import { startReloadTarget } from './helpers/reload-target';
import { CLI } from './helpers/sidecar-process';

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function configDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-check-actions-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.conf'), 'v0\n');
  return dir;
}

test('check finds the command on PATH and sends the URL a HEAD with its headers, never the reload', async (t) => {
  const dir = configDir(t);
  const target = await startReloadTarget(t);
  const headers = join(dir, '..', `${process.pid}-headers`);
  writeFileSync(headers, 'Authorization: Bearer check-SECRET\n');
  t.after(() => rmSync(headers, { force: true }));
  const result = await runCommand(process.execPath, [CLI, 'check'], {
    env: { ...ENV, CONFIG_DIR: dir, RELOAD_COMMAND: 'true --reload', RELOAD_URL: `${target.origin}/-/reload`, RELOAD_HEADERS_FILE: headers },
  });
  assert.equal(result.code, 0, describeResult(result));
  assert.match(result.stdout, /^settings: actions command, url; debounce 250ms, settle 500ms, reload timeout 10s, retries 10$/m);
  assert.match(result.stdout, /^command: true \(\/\S+\/true\) -> ok$/m);
  assert.match(result.stdout, new RegExp(`^url: POST ${target.origin}/-/reload: answers HEAD with 200 OK -> ok$`, 'm'));
  assert.match(result.stdout, new RegExp(`^ok: a change now would run true, then POST ${target.origin}/-/reload$`, 'm'));
  assert.doesNotMatch(result.stdout, /^targets:/m, 'no signal action, no targets');
  assert.deepEqual(target.requests.map((request) => [request.method, request.headers['authorization']]), [['HEAD', 'Bearer check-SECRET']]);
  assert.doesNotMatch(result.stdout + result.stderr, /SECRET/);
});

test('check fails, naming both, when the command is not found and nothing listens at the URL', async (t) => {
  const dir = configDir(t);
  const port = await freePort();
  const result = await runCommand(process.execPath, [CLI, 'check', '--log-format', 'json'], {
    env: { ...ENV, CONFIG_DIR: dir, RELOAD_COMMAND: 'no-such-reload-program', RELOAD_URL: `http://127.0.0.1:${port}/reload` },
  });
  assert.equal(result.code, 1, describeResult(result));
  const report = JSON.parse(result.stdout) as CheckReport;
  assert.equal(report.ok, false);
  assert.deepEqual(report.actions, ['command', 'url']);
  assert.equal(report.processName, null);
  assert.equal(report.command?.path, null);
  assert.equal(report.url?.status, null);
  assert.equal(report.problems.length, 2, result.stdout);
  assert.match(report.problems[0] ?? '', /^the reload command cannot be run: no-such-reload-program is not found on PATH/);
  assert.match(report.problems[1] ?? '', new RegExp(`^the reload URL does not answer: connection refused by 127\\.0\\.0\\.1:${port}`));
});
