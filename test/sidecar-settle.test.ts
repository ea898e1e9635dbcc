// One Pod sync across volumes: the kubelet commits a ConfigMap volume and a
// Secret volume on their own, some time apart. With SETTLE the app is
// reloaded once, and that reload already sees both new versions; without it,
// twice, the first time half-new. The reload command reads both files when
// it runs, which is what the app would read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { SidecarProcess } from './helpers/sidecar-process';
import { SyncVolume } from './helpers/sync-volume';
import { waitFor } from './helpers/wait-for';

/** How far apart the two commits of one sync land here. */
const APART_MS = 100;
const QUIET_MS = 1000;

/** What the app saw at each reload: one "conf|secret" line per reload. */
async function syncTwoVolumes(t: { after(fn: () => unknown): void }, settle: string | undefined): Promise<{ seen: () => string[]; sidecar: SidecarProcess }> {
  const configMap = SyncVolume.create(t, { 'app.conf': 'conf v0' });
  const secret = SyncVolume.create(t, { password: 'pw v0' });
  const seen = join(configMap.root, 'seen');
  const sidecar = new SidecarProcess({
    env: {
      CONFIG_DIR: `${configMap.dir},${secret.dir}`,
      RELOAD_COMMAND: JSON.stringify(['sh', '-c', 'echo "$(cat "$1")|$(cat "$2")" >> "$3"', 'reload', join(configMap.dir, 'app.conf'), join(secret.dir, 'password'), seen]),
      ...(settle === undefined ? {} : { SETTLE: settle }),
    },
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  configMap.commit({ 'app.conf': 'conf v1' });
  await sleep(APART_MS);
  secret.commit({ password: 'pw v1' });
  const read = (): string[] => {
    try {
      return readFileSync(seen, 'utf8').split('\n').filter((line) => line !== '');
    } catch {
      return [];
    }
  };
  await waitFor('a reload that sees the new Secret', () => read().at(-1) === 'conf v1|pw v1');
  await sleep(QUIET_MS);
  return { seen: read, sidecar };
}

test('a ConfigMap and a Secret committed 100 ms apart give one reload that sees both new versions', async (t) => {
  const { seen, sidecar } = await syncTwoVolumes(t, undefined); // the default SETTLE
  assert.deepEqual(seen(), ['conf v1|pw v1'], sidecar.transcript());
  const [changed] = sidecar.messages('change detected');
  assert.equal((changed?.['modified'] as unknown[]).length, 2);
});

test('with SETTLE=0 the same sync reloads twice, the first time with the old Secret', async (t) => {
  const { seen, sidecar } = await syncTwoVolumes(t, '0');
  assert.deepEqual(seen(), ['conf v1|pw v0', 'conf v1|pw v1'], sidecar.transcript());
});
