// The Pod harness itself: a real nginx, master and workers, in a fresh PID
// namespace behind a pause process, configured from a kubelet volume. What
// the sidecar's tests will rely on is checked here with real signals.
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import type { Payload } from '../lib/testing';
import { servedBodyConf } from './helpers/nginx';
import { ignoredSighups, nginxSignals, parseNginxLog, reloads } from './helpers/nginx-log';
import { startNginxPod, type NginxPod } from './helpers/nginx-pod';
import { waitFor } from './helpers/wait-for';

function site(body: string): Payload {
  return { 'site.conf': { data: servedBodyConf(body), mode: 0o644 } };
}

async function pod(t: TestContext, files: Payload = site('v1')): Promise<NginxPod> {
  return startNginxPod({ cleanup: t, files });
}

test('nginx runs as master and 2 workers in a fresh PID namespace, behind a pause process as pid 1', async (t) => {
  const { namespace, nginx } = await pod(t);

  const members = namespace.members();
  assert.notEqual(namespace.id, readlinkSync('/proc/self/ns/pid'));
  assert.equal(members[0]?.nsPid, 1);
  assert.equal(members[0]?.comm, 'pause');
  assert.notEqual(nginx.master.nsPid, 1);
  assert.equal(namespace.hostPidOf(nginx.master.nsPid), nginx.master.hostPid);
  assert.match(members.find((member) => member.nsPid === nginx.master.nsPid)?.title ?? '', /^nginx: master process/);
  const workers = nginx.workers();
  assert.equal(workers.length, 2);
  for (const worker of workers) {
    assert.notEqual(worker.hostPid, worker.nsPid);
    assert.equal(worker.hostPpid, nginx.master.hostPid);
  }
  assert.equal((await nginx.get('/')).body, 'v1');
});

test('one SIGHUP from the host to the master: one reload, logged without a sender, and the new config is served', async (t) => {
  const { nginx, writer } = await pod(t);
  await writer.write(site('v2'));
  // The configuration is read at reload only: v1 stays live until the signal.
  assert.equal((await nginx.get('/')).body, 'v1');

  process.kill(nginx.master.hostPid, 'SIGHUP');

  await nginx.waitForBody('v2');
  const seen = await nginx.reloads();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.receiver, nginx.master.nsPid);
  assert.equal(seen[0]?.from, undefined, 'a sender outside the namespace has no pid inside it');
  assert.deepEqual(await nginx.ignoredSighups(), []);
});

test('a SIGHUP sent from inside the namespace is logged with its sender namespace pid', async (t) => {
  const { namespace, nginx } = await pod(t);

  const result = await namespace.run('sh', ['-c', `kill -HUP ${nginx.master.nsPid} && echo $$`]);

  assert.equal(result.code, 0, result.stderr);
  const [reload] = await nginx.waitForReloads(1);
  assert.equal(reload?.from, Number(result.stdout.trim()));
});

test('a SIGHUP to a worker is ignored: an "ignoring" line, no reload, the same workers', async (t) => {
  const { nginx } = await pod(t);
  const before = nginx.workers().map((worker) => worker.hostPid).sort();
  const worker = nginx.workers()[0];
  assert.ok(worker !== undefined);

  process.kill(worker.hostPid, 'SIGHUP');

  const ignored = await waitFor('the worker to log the SIGHUP', async () => {
    const seen = await nginx.ignoredSighups();
    return seen.length > 0 ? seen : undefined;
  });
  assert.equal(ignored.length, 1);
  assert.equal(ignored[0]?.receiver, worker.nsPid);
  assert.deepEqual(await nginx.reloads(), []);
  assert.deepEqual(nginx.workers().map((entry) => entry.hostPid).sort(), before);
});

test('files served from the volume as files change at the swap, without a reload', async (t) => {
  const { nginx, writer } = await pod(t, { ...site('v1'), 'page.txt': { data: 'page 1', mode: 0o644 } });
  assert.equal((await nginx.get('/volume/page.txt')).body, 'page 1');

  await writer.write({ ...site('v1'), 'page.txt': { data: 'page 2', mode: 0o644 } });

  assert.equal((await nginx.get('/volume/page.txt')).body, 'page 2');
  assert.deepEqual(await nginx.reloads(), []);
});

test('a process spawned in the Pod sees pause as pid 1 and nginx by namespace pid, and is signalled itself', async (t) => {
  const { namespace, nginx, spawn } = await pod(t);

  const look = await namespace.run('sh', ['-c', `cat /proc/1/comm; tr '\\0' ' ' < /proc/${nginx.master.nsPid}/cmdline`]);
  assert.match(look.stdout, /^pause\nnginx: master process/);

  const sidecar = await spawn('sleep', ['1000']);
  assert.equal(namespace.hostPidOf(sidecar.nsPid), sidecar.hostPid);
  assert.ok(sidecar.kill('SIGTERM'));
  assert.deepEqual(await sidecar.exited, { code: null, signal: 'SIGTERM' });
});

test('stop kills every process of the Pod and removes its directories', async (t) => {
  const started = await pod(t);
  const sidecar = await started.spawn('sleep', ['1000']);
  const hostPids = started.namespace.members().map((member) => member.hostPid);
  assert.ok(hostPids.length >= 5, `pause, master, 2 workers, sidecar: ${hostPids.join(' ')}`);

  await started.stop();

  for (const pid of hostPids) assert.ok(!existsSync(`/proc/${pid}`), `pid ${pid} is gone`);
  assert.deepEqual(started.namespace.members(), []);
  assert.ok(!sidecar.running);
  assert.ok(!existsSync(started.volumeDir));
  assert.ok(!existsSync(started.nginx.prefix));
  assert.ok(started.namespace.unshare.exitCode !== null || started.namespace.unshare.signalCode !== null);
  await assert.rejects(started.spawn('true'), /has been stopped/);
});

test('nginx.stop alone ends nginx and its workers and leaves the rest of the Pod running', async (t) => {
  const { namespace, nginx } = await pod(t);
  const workers = nginx.workers().map((worker) => worker.hostPid);

  await nginx.stop();

  assert.deepEqual(namespace.members().map((member) => member.comm), ['pause']);
  for (const pid of [nginx.master.hostPid, ...workers]) assert.ok(!existsSync(`/proc/${pid}`), `pid ${pid} is gone`);
  assert.ok(!existsSync(nginx.prefix));
});

test('the log parser reads real nginx 1.22 signal lines', () => {
  const log = [
    '2026/11/25 12:55:06 [notice] 3#3: start worker process 4',
    '2026/11/25 12:55:06 [notice] 3#3: signal 1 (SIGHUP) received, reconfiguring',
    '2026/11/25 12:55:06 [notice] 3#3: reconfiguring',
    '2026/11/25 12:55:06 [notice] 3#3: signal 17 (SIGCHLD) received from 4',
    '2026/11/25 12:55:06 [notice] 3#3: signal 29 (SIGIO) received',
    '2026/11/25 12:55:06 [notice] 3#3: signal 1 (SIGHUP) received from 9, reconfiguring',
    '2026/11/25 12:55:07 [notice] 11#11: signal 1 (SIGHUP) received from 9, ignoring',
    '2026/11/25 12:55:08 [emerg] 3#3: unknown directive "oops" in /v/site.conf:1',
    '',
  ].join('\n');

  const entries = parseNginxLog(log);
  const signals = nginxSignals(entries);

  assert.equal(entries.length, 8);
  assert.deepEqual(entries[7], { time: '2026/11/25 12:55:08', level: 'emerg', pid: 3, message: 'unknown directive "oops" in /v/site.conf:1' });
  assert.deepEqual(signals.map((signal) => [signal.receiver, signal.name, signal.from, signal.action]), [
    [3, 'SIGHUP', undefined, 'reconfiguring'],
    [3, 'SIGCHLD', 4, undefined],
    [3, 'SIGIO', undefined, undefined],
    [3, 'SIGHUP', 9, 'reconfiguring'],
    [11, 'SIGHUP', 9, 'ignoring'],
  ]);
  assert.equal(reloads(signals).length, 2);
  assert.deepEqual(ignoredSighups(signals).map((signal) => signal.receiver), [11]);
});

test('servedBodyConf quotes for nginx and refuses a body nginx would expand', () => {
  assert.equal(servedBodyConf('a "b"\n'), 'location / {\n    return 200 "a \\"b\\"\\n";\n}\n');
  assert.throws(() => servedBodyConf('$host'), /contains '\$'/);
});
