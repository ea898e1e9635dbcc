// End to end, as in a Pod: nginx in one container, the sidecar image in
// another that shares nginx's PID namespace, both mounting one directory that
// a replay of the kubelet's AtomicWriter updates. The sidecar runs as a Pod
// would lock it down: read-only root filesystem, every capability dropped but
// KILL. nginx's own log is the witness: it names each signal, its sender and
// whether the master reconfigured or a worker ignored it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { ignoredSighups, reloads } from '../test/helpers/nginx-log';
import { waitFor } from '../test/helpers/wait-for';
import { freePort, type NginxContainer, startNginx } from './nginx-container';
import { AttachedContainer, containerName, Deferred, hostPid, IMAGES } from './podman';
import { fetchLocal, namespacePid, rssMiB } from './probes';

const UPDATES = 4;

function siteConfig(port: number, version: number): string {
  return `server {\n  listen 127.0.0.1:${port};\n  location / {\n    default_type text/plain;\n    return 200 "v${version}\\n";\n  }\n}\n`;
}

describe('nginx reloaded by the sidecar image through a kubelet-style volume', () => {
  const deferred = new Deferred();
  after(() => deferred.run());
  let volume = '';
  let port = 0;
  let metricsPort = 0;
  let writer: AtomicWriter;
  let nginx: NginxContainer;
  let sidecar: AttachedContainer;
  let sidecarPid = 0;

  before(async () => {
    volume = mkdtempSync(join(tmpdir(), 'config-reloader-volume-'));
    deferred.add(async () => rmSync(volume, { recursive: true, force: true }));
    // A kubelet volume directory is world-traversable; mkdtemp makes 0700.
    chmodSync(volume, 0o755);
    writer = new AtomicWriter(volume);
    port = await freePort();
    metricsPort = await freePort();
    await writer.write(configMapPayload({ 'site.conf': siteConfig(port, 1) }));

    nginx = await startNginx(deferred.add, volume, port);
    await waitFor('nginx to serve v1', async () => (await fetchLocal(port))?.body === 'v1\n', { timeoutMs: 20_000, intervalMs: 50 });

    const name = containerName(deferred.add, 'sidecar');
    sidecar = new AttachedContainer(name, [
      '--pid', `container:${nginx.name}`,
      '--read-only', '--read-only-tmpfs=false',
      '--cap-drop', 'ALL', '--cap-add', 'KILL', '--user', '0',
      // Host network only so the test can reach the health endpoint on 127.0.0.1.
      '--network', 'host',
      '--volume', `${volume}:/config:ro`,
      '--env', 'CONFIG_DIR=/config', '--env', 'PROCESS_NAME=nginx',
      '--env', 'LOG_FORMAT=json', '--env', `METRICS_ADDR=127.0.0.1:${metricsPort}`,
      IMAGES.sidecar,
    ]);
    deferred.add(async () => {
      sidecar.child.kill('SIGKILL');
    });
    await sidecar.waitForMessage('ready');
    sidecarPid = await hostPid(name);
  });

  test('starting up sends no signal', async () => {
    assert.deepEqual(await nginx.sighups(), []);
  });

  test('the health endpoint answers from the read-only container', async () => {
    const ready = await waitFor('/readyz to answer', async () => fetchLocal(metricsPort, '/readyz'), { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(ready.status, 200, ready.body);
  });

  test('each update is served, with exactly one reload per update', async (t) => {
    for (let version = 2; version <= UPDATES + 1; version++) {
      const result = await writer.write(configMapPayload({ 'site.conf': siteConfig(port, version) }));
      assert.equal(result.changed, true);
      await waitFor(`nginx to serve v${version}`, async () => (await fetchLocal(port))?.body === `v${version}\n`, { timeoutMs: 20_000, intervalMs: 50 });
      await sidecar.waitForMessage('reload sent', version - 1);
      // A second reload for an earlier update would show here, as the
      // sidecar handles changes in order.
      assert.equal(reloads(await nginx.sighups()).length, version - 1, `after update ${version - 1}:\n${await nginx.log()}`);
    }
    t.diagnostic(`sidecar resident memory after ${UPDATES} reloads: ${rssMiB(sidecarPid).toFixed(1)} MiB`);
  });

  test('a kubelet resync that changes nothing reloads nothing', async () => {
    const before = (await nginx.sighups()).length;
    const resync = await writer.resync();
    assert.equal(resync.changed, false);
    // A real update after it: its reload comes after any the resync caused.
    const version = UPDATES + 2;
    await writer.write(configMapPayload({ 'site.conf': siteConfig(port, version) }));
    await waitFor(`nginx to serve v${version}`, async () => (await fetchLocal(port))?.body === `v${version}\n`, { timeoutMs: 20_000, intervalMs: 50 });
    await sidecar.waitForMessage('reload sent', UPDATES + 1);
    assert.equal((await nginx.sighups()).length, before + 1, await nginx.log());
  });

  test('every signal went to the master, from the sidecar; the workers got none', async () => {
    const signals = await nginx.sighups();
    assert.deepEqual(ignoredSighups(signals), [], await nginx.log());
    assert.equal(reloads(signals).length, signals.length);
    // The master is the container's first process: pid 1 in the shared namespace.
    const sender = namespacePid(sidecarPid);
    for (const signal of signals) {
      assert.deepEqual([signal.receiver, signal.from], [1, sender], await nginx.log());
    }
  });
});
