// End to end with a real nginx (a master and two workers) in a fresh PID
// namespace, its configuration included from a kubelet volume, and the real
// sidecar beside it, as in a Pod with shareProcessNamespace.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { setVolumeOwnership } from '../lib/testing';
import { processHandleDescriptors } from './helpers/descriptors';
import { servedBodyConf } from './helpers/nginx';
import { startNginxPod } from './helpers/nginx-pod';
import { CLI } from './helpers/sidecar-process';
import { waitFor } from './helpers/wait-for';

const UPDATES = 4;

test('N kubelet updates are N nginx reloads, each served; none for resyncs or chmod walks, none to a worker', async (t) => {
  const site = (body: string) => ({ 'site.conf': { data: servedBodyConf(body), mode: 0o644 } });
  const pod = await startNginxPod({ cleanup: t, files: site('v0'), nginx: { workers: 2 } });
  await pod.nginx.waitForBody('v0');

  const sidecar = await pod.spawn(process.execPath, [CLI], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CONFIG_DIR: pod.volumeDir, PROCESS_NAME: 'nginx', LOG_FORMAT: 'json' },
  });
  const log = (): string => `sidecar log:\n${sidecar.output.stdout}${sidecar.output.stderr}`;
  await waitFor('the sidecar to be ready', () => sidecar.output.stdout.includes('"msg":"ready"'));
  // The master is the container's first process (ppid 0 in the Pod): found
  // and held from start-up, so even the first reload takes the short path.
  assert.match(sidecar.output.stdout, new RegExp(`"msg":"target found","targets":\\["${pod.nginx.master.nsPid} nginx"\\]`), log());
  // Once each: the held handle's status and pidfd, and no copy of either.
  const held = [`/proc/${pod.nginx.master.nsPid}/status`, 'anon_inode:[pidfd]'];
  assert.deepEqual(processHandleDescriptors(sidecar.hostPid), held.sort(), log());

  for (let version = 1; version <= UPDATES; version++) {
    await pod.writer.write(site(`v${version}`));
    await pod.nginx.waitForBody(`v${version}`);
    await pod.nginx.waitForReloads(version);
    // Bookkeeping the kubelet does between updates: neither may reload nginx.
    await pod.writer.resync();
    await setVolumeOwnership(pod.volumeDir, 2000, true);
  }
  await sleep(500);

  const reloads = await pod.nginx.reloads();
  assert.equal(reloads.length, UPDATES, log());
  assert.ok(reloads.every((reload) => reload.from === sidecar.nsPid), `every SIGHUP came from the sidecar (ns pid ${sidecar.nsPid})`);
  assert.ok(reloads.every((reload) => reload.receiver === pod.nginx.master.nsPid), 'every SIGHUP went to the master');
  assert.deepEqual(await pod.nginx.ignoredSighups(), [], 'no SIGHUP reached a worker');
  assert.equal((sidecar.output.stdout.match(/"msg":"reload sent"/g) ?? []).length, UPDATES, log());
});
