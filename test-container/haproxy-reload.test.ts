// The other way a sidecar may signal its app: as the app's own uid, with no
// capability at all. HAProxy runs as uid 99 in master-worker mode, where
// SIGUSR2 to the master reloads; the sidecar runs as uid 99 too, read-only,
// every capability dropped, as examples/haproxy.yaml has it. The master's
// log is the witness: it prints "Reloading HAProxy" once per reload.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { waitFor } from '../test/helpers/wait-for';
import { freePort } from './nginx-container';
import { type AppContainer, AttachedContainer, containerName, Deferred, IMAGES, podmanOk, startApp } from './podman';
import { fetchLocal } from './probes';

const UPDATES = 3;

function haproxyConfig(port: number, version: number): string {
  return [
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend web',
    `  bind 127.0.0.1:${port}`,
    `  http-request return status 200 content-type text/plain string "v${version}\\n"`,
    '',
  ].join('\n');
}

const reloads = (log: string): number => log.split('\n').filter((line) => /\(1\) : Reloading HAProxy/.test(line)).length;

describe('HAProxy reloaded with SIGUSR2 by a sidecar of its own uid, without capabilities', () => {
  const deferred = new Deferred();
  after(() => deferred.run());
  let port = 0;
  let writer: AtomicWriter;
  let haproxy: AppContainer;
  let sidecar: AttachedContainer;

  before(async () => {
    const volume = mkdtempSync(join(tmpdir(), 'config-reloader-volume-'));
    deferred.add(async () => rmSync(volume, { recursive: true, force: true }));
    chmodSync(volume, 0o755);
    writer = new AtomicWriter(volume);
    port = await freePort();
    await writer.write(configMapPayload({ 'haproxy.cfg': haproxyConfig(port, 1) }));

    haproxy = await startApp(deferred.add, {
      image: IMAGES.haproxy,
      role: 'haproxy',
      volume,
      mountPath: '/usr/local/etc/haproxy',
      hostNetwork: true,
      ready: /Loading success/,
    });

    sidecar = new AttachedContainer(containerName(deferred.add, 'sidecar'), [
      '--pid', `container:${haproxy.name}`,
      '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL',
      '--user', '99:99', '--network', 'none',
      '--volume', `${volume}:/usr/local/etc/haproxy:ro`,
      '--env', 'CONFIG_DIR=/usr/local/etc/haproxy', '--env', 'PROCESS_NAME=haproxy',
      '--env', 'RELOAD_SIGNAL=SIGUSR2', '--env', 'LOG_FORMAT=json',
      IMAGES.sidecar,
    ]);
    deferred.add(async () => {
      sidecar.child.kill('SIGKILL');
    });
    await sidecar.waitForMessage('ready');
  });

  test('the sidecar has no capability, not even in its bounding set', async () => {
    const status = await podmanOk(['exec', sidecar.name, '/usr/local/bin/node', '-e',
      "process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))"]);
    for (const set of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      assert.match(status, new RegExp(`^${set}:\\s+0+$`, 'm'), `${set} is not empty`);
    }
    assert.match(status, /^Uid:\s+99\s+99\s+99\s+99$/m);
  });

  test('each update is served, with exactly one reload per update, sent to the master', async () => {
    for (let version = 2; version <= UPDATES + 1; version++) {
      await writer.write(configMapPayload({ 'haproxy.cfg': haproxyConfig(port, version) }));
      await waitFor(`HAProxy to serve v${version}`, async () => (await fetchLocal(port))?.body === `v${version}\n`, {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      await sidecar.waitForMessage('reload sent', version - 1);
      assert.equal(reloads(await haproxy.log()), version - 1, await haproxy.log());
    }
    const sent = sidecar.messages('reload sent');
    assert.deepEqual(sent.map((line) => [line['pid'], line['signal']]), Array.from({ length: UPDATES }, () => [1, 'SIGUSR2']));
  });
});
