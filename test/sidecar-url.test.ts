// The URL action against a real HTTP(S) server: what is sent (method, path,
// headers from the file, basic auth from the URL), that no credential reaches
// the log, how refused connections and error answers are retried, TLS with a
// CA of our own, and the order of the three actions together.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { scrape } from './helpers/metrics-scrape';
import { NamedApp } from './helpers/named-app';
import { freePort } from './helpers/free-port';
import { type ReloadTarget, startReloadTarget } from './helpers/reload-target';
import { SidecarProcess } from './helpers/sidecar-process';
import { SyncVolume } from './helpers/sync-volume';
import { makeThrowawayCa } from './helpers/throwaway-ca';
import { waitFor } from './helpers/wait-for';

/** Long enough for a request, if one were coming, to have come. */
const QUIET_MS = 500;

function sidecar(t: { after(fn: () => unknown): void }, env: Readonly<Record<string, string>>): SidecarProcess {
  const process = new SidecarProcess({ env });
  t.after(() => process.stop());
  return process;
}

test('POSTs once per change with the headers from the file and the URL\'s basic auth, and logs neither', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const target = await startReloadTarget(t);
  const headersFile = join(volume.root, 'headers');
  writeFileSync(headersFile, '# from a Secret\nX-Api-Token: tok-SECRET-123\n\nX-Reload-Source:  config-reloader  \n');
  const port = await freePort();
  const reloader = sidecar(t, {
    CONFIG_DIR: volume.dir,
    RELOAD_URL: `http://reloader:pw-SECRET-456@127.0.0.1:${target.port}/-/reload?token=q-SECRET-789`,
    RELOAD_HEADERS_FILE: headersFile,
    METRICS_ADDR: `127.0.0.1:${port}`,
  });
  await reloader.waitForMessage('ready');
  for (let version = 1; version <= 3; version++) {
    volume.commit({ 'app.conf': `v${version}` });
    await target.waitForReloads(version);
  }
  await sleep(QUIET_MS);
  assert.equal(target.requests.length, 3, reloader.transcript());
  for (const request of target.requests) {
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/-/reload?token=q-SECRET-789');
    assert.equal(request.headers['x-api-token'], 'tok-SECRET-123');
    assert.equal(request.headers['x-reload-source'], 'config-reloader');
    assert.equal(request.headers['authorization'], `Basic ${Buffer.from('reloader:pw-SECRET-456').toString('base64')}`);
  }
  const succeeded = reloader.messages('reload request succeeded');
  assert.equal(succeeded.length, 3);
  assert.equal(succeeded[0]?.['url'], `http://***:***@127.0.0.1:${target.port}/-/reload?token=***`);
  assert.equal(succeeded[0]?.['status'], 200);
  assert.doesNotMatch(reloader.transcript(), /SECRET/);

  const samples = await scrape(`http://127.0.0.1:${port}`);
  assert.equal(samples.get('config_reloader_action_runs_total{action="url",result="success"}'), 3);
  assert.equal(samples.get('config_reloader_action_runs_total{action="url",result="failure"}'), 0);
  assert.equal(samples.get('config_reloader_reloads_total{result="success"}'), 3);
  assert.equal(samples.get('config_reloader_last_reload_successful'), 1);
  assert.equal(samples.get('reloader_reloads_total'), 3);
  assert.equal(samples.get('reloader_reloads_failed_total'), 0);
  assert.equal(samples.get('reloader_last_reload_successful'), 1);
  assert.ok((samples.get('reloader_last_reload_success_timestamp_seconds') ?? 0) > Date.now() / 1000 - 60);
  assert.equal(samples.has('config_reloader_action_runs_total{action="signal",result="success"}'), false, 'only the configured actions');
});

test('a refused connection while the app starts is retried with backoff until the app answers', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const port = await freePort();
  const metricsPort = await freePort();
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, RELOAD_URL: `http://127.0.0.1:${port}/reload`, METRICS_ADDR: `127.0.0.1:${metricsPort}` });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload attempt failed; retrying');
  const [failed] = reloader.messages('reload request failed');
  assert.match(String(failed?.['reason']), new RegExp(`^connection refused by 127\\.0\\.0\\.1:${port}: nothing listens there \\(yet\\)`));
  let samples = await scrape(`http://127.0.0.1:${metricsPort}`);
  assert.equal(samples.get('config_reloader_last_reload_successful'), 0);
  assert.equal(samples.get('reloader_last_reload_successful'), 0);
  assert.equal(samples.get('config_reloader_reloads_total{result="failure"}'), 1);
  assert.equal(samples.get('config_reloader_action_runs_total{action="url",result="failure"}'), 1);
  // The app comes up.
  const target = await startReloadTarget(t, { port });
  await target.waitForReloads(1);
  await reloader.waitForMessage('reloaded after retrying');
  samples = await scrape(`http://127.0.0.1:${metricsPort}`);
  assert.equal(samples.get('config_reloader_last_reload_successful'), 1);
  assert.equal(samples.get('reloader_reloads_total'), (samples.get('reloader_reloads_failed_total') ?? 0) + 1);
});

test('an error answer is reported with its body and retried; a newer change cancels the retry', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  // The app rejects the first two requests, as an app rejects a bad file.
  const target = await startReloadTarget(t, {
    answer: (_request, index) => (index < 2 ? { status: 500, body: 'failed to reload config:\nline 3: bad value\n' } : { status: 200 }),
  });
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, RELOAD_URL: `${target.origin}/-/reload` });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'bad' });
  await reloader.waitForMessage('reload attempt failed; retrying', 2);
  const [first, second] = target.reloads();
  const apart = Number((second?.t ?? 0n) - (first?.t ?? 0n)) / 1e6;
  assert.ok(apart >= 950 && apart < 2500, `the retry came ${Math.round(apart)} ms after the first attempt`);
  const [failure] = reloader.messages('reload request failed');
  assert.equal(failure?.['status'], 500);
  assert.equal(failure?.['reason'], `${target.origin}/-/reload answered 500 Internal Server Error: failed to reload config: line 3: bad value`);
  assert.deepEqual(reloader.messages('reload attempt failed; retrying').map((line) => line['retry_in_ms']), [1000, 2000]);
  // Fixed during the 2 s wait: the fix is loaded at once, and the wait is not kept.
  volume.commit({ 'app.conf': 'good' });
  await target.waitForReloads(3);
  await reloader.waitForMessage('reload request succeeded');
  await sleep(2500);
  assert.equal(target.reloads().length, 3, reloader.transcript());
  assert.equal(reloader.messages('retry cancelled: a newer change supersedes it').length, 1);
  assert.equal(reloader.messages('change detected').length, 2);
});

test('over TLS: trusts the CA in RELOAD_CA_FILE, refuses an unknown CA, and skips verification only when told to', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const ca = makeThrowawayCa(t);
  const target = await startReloadTarget(t, { tls: { key: ca.serverKey, cert: ca.serverCert } });
  const url = `${target.origin}/-/reload`;
  let version = 0;
  const run = async (env: Readonly<Record<string, string>>, outcome: string): Promise<SidecarProcess> => {
    const reloader = new SidecarProcess({ env: { CONFIG_DIR: volume.dir, RELOAD_URL: url, RELOAD_RETRIES: '0', ...env } });
    try {
      await reloader.waitForMessage('ready');
      volume.commit({ 'app.conf': `v${++version}` });
      await reloader.waitForMessage(outcome);
    } finally {
      await reloader.stop();
    }
    return reloader;
  };

  await run({ RELOAD_CA_FILE: ca.caFile }, 'reload request succeeded');
  assert.equal(target.reloads().length, 1);

  const untrusted = await run({}, 'reload failed; giving up until the next change');
  assert.match(String(untrusted.messages('reload request failed')[0]?.['reason']), /^TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted \(\w+\); set RELOAD_CA_FILE/);
  assert.equal(target.reloads().length, 1, 'no request got through');

  const unverified = await run({ RELOAD_INSECURE_SKIP_VERIFY: 'true' }, 'reload request succeeded');
  assert.equal(unverified.messages('TLS verification of the reload URL is off').length, 1);
  assert.equal(target.reloads().length, 2);
});

test('the actions run in order, command then signal then URL, and a retry resumes at the action that failed', async (t) => {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const app = await NamedApp.start(t, `ordered-app-${process.pid}`);
  const runs = join(volume.root, 'runs');
  // The second change's first request is answered 503; every other 200.
  const target = await startReloadTarget(t, { answer: (_request, index) => ({ status: index === 1 ? 503 : 200 }) });
  const reloader = sidecar(t, {
    CONFIG_DIR: volume.dir,
    PROCESS_NAME: app.name,
    RELOAD_URL: `${target.origin}/reload`,
    RELOAD_COMMAND: JSON.stringify(['sh', '-c', `echo run >> "${runs}"`]),
  });
  await reloader.waitForMessage('ready');
  assert.deepEqual(reloader.messages('ready')[0]?.['actions'], ['command', 'signal', 'url']);

  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload request succeeded');
  const order = reloader.lines.map((line) => line.msg).filter((msg) => ['reload command succeeded', 'reload sent', 'reload request succeeded'].includes(msg));
  assert.deepEqual(order, ['reload command succeeded', 'reload sent', 'reload request succeeded']);
  // The order is the sidecar's: when the app's handler runs is up to the app.
  await app.waitForSignals(1);

  volume.commit({ 'app.conf': 'v2' });
  await reloader.waitForMessage('reloaded after retrying');
  await sleep(QUIET_MS);
  assert.equal(target.reloads().length, 3, 'the URL twice for v2');
  assert.equal(app.signals().length, 2, 'the signal once per change: the retry started at the URL');
  await waitFor('the command to have run once per change', () => readRuns(runs) === 2);
  const [retry] = reloader.messages('reload attempt failed; retrying');
  assert.equal(retry?.['action'], 'url');
});

function readRuns(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').length;
  } catch {
    return 0;
  }
}

/**
 * v1 committed with the signal then the URL, whose answer to v1 is 503 and
 * RELOAD_RETRIES=0: given up once the app has had v1's signal.
 */
async function givenUpAfterTheSignal(t: { after(fn: () => unknown): void }, appName: string): Promise<{
  volume: SyncVolume; app: NamedApp; target: ReloadTarget; reloader: SidecarProcess;
}> {
  const volume = SyncVolume.create(t, { 'app.conf': 'v0' });
  const app = await NamedApp.start(t, `${appName}-${process.pid}`.slice(0, 15));
  const target = await startReloadTarget(t, { answer: (_request, index) => ({ status: index === 0 ? 503 : 200 }) });
  const reloader = sidecar(t, { CONFIG_DIR: volume.dir, PROCESS_NAME: app.name, RELOAD_URL: `${target.origin}/reload`, RELOAD_RETRIES: '0' });
  await reloader.waitForMessage('ready');
  volume.commit({ 'app.conf': 'v1' });
  await reloader.waitForMessage('reload failed; giving up until the next change');
  await app.waitForSignals(1);
  return { volume, app, target, reloader };
}

test('a reload given up after its signal resumes at the URL when a later check finds the same content: one signal for the change', async (t) => {
  const { volume, app, target, reloader } = await givenUpAfterTheSignal(t, 'resume-app');
  volume.commit({ 'app.conf': 'v1' }); // a resync: the same content, written again
  await reloader.waitForMessage('reload request succeeded');
  await sleep(QUIET_MS);
  assert.equal(target.reloads().length, 2);
  assert.equal(app.signals().length, 1, reloader.transcript());
  assert.equal(reloader.messages('resuming a reload given up, at the action that failed')[0]?.['action'], 'url');
  assert.equal(reloader.messages('change detected').length, 1, 'the resync is no change');
});

test('after a reload given up with its signal sent, going back to the content before is reloaded, not skipped', async (t) => {
  const { volume, app, reloader } = await givenUpAfterTheSignal(t, 'revert-app'); // the app has v1
  volume.commit({ 'app.conf': 'v0' });
  await app.waitForSignals(2);
  await reloader.waitForMessage('reload request succeeded');
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 2, reloader.transcript());
  assert.deepEqual(reloader.messages('skipped: content unchanged'), []);
});
