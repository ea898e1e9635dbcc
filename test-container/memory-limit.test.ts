// The sidecar image held to the README's advice: a container whose memory
// limit is the memory the README tells users to request, swap included so
// that none can hide usage, watching a plain tree of 10,000 files (the
// fingerprint's file cap, so every file is read). It must start, stay up and
// reload nginx once per update.
//
// As in a Pod: nginx in one container, the sidecar in another sharing its
// PID namespace, both mounting the tree read-only, the sidecar as root with
// every capability dropped and metrics on, as the README's Pod example runs
// it. The limit figure is read from that example, not copied, so the advice
// cannot change without this test holding the sidecar to the new figure.
//
// The image's files are dropped from the page cache first, so the sidecar
// pays for the node binary's pages as the first sidecar on a node does;
// otherwise the containers of earlier tests would have paid for them. The
// kernel may drop those pages under the limit and read them again, so a
// limit too small shows less as an OOM kill than as thrashing: the sidecar
// stays up re-reading its own binary, and is not ready or does not reload in
// time. The deadlines below catch that as surely as the checks catch a kill.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { reloads } from '../test/helpers/nginx-log';
import type { LogLine } from '../test/helpers/sidecar-process';
import { readmeSidecarMemoryRequest } from '../test/helpers/readme-resources';
import { waitFor } from '../test/helpers/wait-for';
import { type MemoryCgroup, memoryCgroupOf } from './memory-cgroup';
import { freePort, type NginxContainer, startNginx } from './nginx-container';
import { evictImageFromPageCache } from './page-cache';
import { AttachedContainer, containerName, Deferred, hostPid, IMAGES, podmanOk } from './podman';
import { fetchLocal, namespacePid, rssMiB } from './probes';

const REQUEST = readmeSidecarMemoryRequest();
const FILES = 10_000;
const FILES_PER_DIR = 100;
const UPDATES = 5;
/** Several times the default DEBOUNCE: a second reload for one update would come within it. */
const PAUSE_MS = 1_000;
const CONFIG_DIR = '/etc/nginx/conf.d';

const MiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function siteConfig(port: number, version: number): string {
  return `server {\n  listen 127.0.0.1:${port};\n  location / {\n    default_type text/plain;\n    return 200 "v${version}\\n";\n  }\n}\n`;
}

/**
 * site.conf, which nginx includes, and the other files in subdirectories,
 * which nginx's conf.d/*.conf does not include but the sidecar watches and
 * fingerprints all the same.
 */
function writeTree(root: string, port: number): void {
  writeFileSync(join(root, 'site.conf'), siteConfig(port, 0));
  for (let index = 0; index < FILES - 1; index++) {
    const dir = join(root, `dir-${Math.floor(index / FILES_PER_DIR)}`);
    if (index % FILES_PER_DIR === 0) mkdirSync(dir);
    writeFileSync(join(dir, `key-${index % FILES_PER_DIR}`), `value ${index}\n`);
  }
}

interface ContainerState {
  readonly Running: boolean;
  readonly OOMKilled: boolean;
  readonly ExitCode: number;
}

interface HostConfig {
  readonly Memory: number;
  readonly MemorySwap: number;
}

async function inspect<T>(name: string, field: string): Promise<T> {
  return JSON.parse(await podmanOk(['inspect', '--format', `{{json ${field}}}`, name])) as T;
}

/** Seconds between two of the sidecar's log lines, by their time fields. */
function secondsBetween(from: LogLine | undefined, to: LogLine | undefined): string {
  const at = (line: LogLine | undefined): number => Date.parse(String(line?.['time']));
  return ((at(to) - at(from)) / 1000).toFixed(1);
}

const hasSwap = (): boolean => readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;

describe(`the sidecar image under a memory limit of the README's request (${REQUEST.quantity}), on ${FILES.toLocaleString('en')} files`, () => {
  const deferred = new Deferred();
  after(() => deferred.run());
  let tree = '';
  let port = 0;
  let metricsPort = 0;
  let nginx: NginxContainer;
  let sidecar: AttachedContainer;
  let sidecarPid = 0;
  let cgroup: MemoryCgroup | undefined;
  let stillCachedBytes = 0;

  before(async () => {
    tree = mkdtempSync(join(tmpdir(), 'config-reloader-tree-'));
    deferred.add(async () => rmSync(tree, { recursive: true, force: true }));
    // mkdtemp makes 0700; a mounted ConfigMap is world-traversable.
    chmodSync(tree, 0o755);
    port = await freePort();
    metricsPort = await freePort();
    writeTree(tree, port);

    nginx = await startNginx(deferred.add, tree, port);
    await waitFor('nginx to serve v0', async () => (await fetchLocal(port))?.body === 'v0\n', { timeoutMs: 20_000, intervalMs: 50 });

    stillCachedBytes = await evictImageFromPageCache(IMAGES.sidecar);
    const name = containerName(deferred.add, 'sidecar');
    sidecar = new AttachedContainer(name, [
      '--pid', `container:${nginx.name}`,
      '--memory', `${REQUEST.bytes}b`, '--memory-swap', `${REQUEST.bytes}b`,
      '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--user', '0',
      // Host network only so the test can reach the health endpoint on 127.0.0.1.
      '--network', 'host',
      '--volume', `${tree}:${CONFIG_DIR}:ro`,
      '--env', `CONFIG_DIR=${CONFIG_DIR}`, '--env', 'PROCESS_NAME=nginx',
      '--env', 'LOG_FORMAT=json', '--env', `METRICS_ADDR=127.0.0.1:${metricsPort}`,
      IMAGES.sidecar,
    ]);
    deferred.add(async () => {
      sidecar.child.kill('SIGKILL');
    });
    await sidecar.waitForMessage('ready', 1, 60_000);
    sidecarPid = await hostPid(name);
    cgroup = memoryCgroupOf(sidecarPid);
  });

  test('the kernel enforces the request as the limit, and no swap lies beyond it', async () => {
    const hostConfig = await inspect<HostConfig>(sidecar.name, '.HostConfig');
    assert.deepEqual([hostConfig.Memory, hostConfig.MemorySwap], [REQUEST.bytes, REQUEST.bytes]);
    assert.ok(cgroup !== undefined, `no memory cgroup found for host pid ${sidecarPid}: ${readFileSync(`/proc/${sidecarPid}/cgroup`, 'utf8')}`);
    assert.equal(cgroup.limitBytes(), REQUEST.bytes, `${cgroup.dir}: cgroup v${cgroup.version} limit`);
    const withSwap = cgroup.limitWithSwapBytes();
    // Without swap accounting the kernel has no swap limit to show; then only a machine without swap is sure.
    if (withSwap === undefined) assert.equal(hasSwap(), false, `${cgroup.dir}: swap is on and the cgroup shows no swap limit`);
    else assert.equal(withSwap, REQUEST.bytes, `${cgroup.dir}: cgroup v${cgroup.version} memory plus swap limit`);
  });

  test(`starts within the limit with all ${FILES.toLocaleString('en')} files fingerprinted, and signals nothing`, async () => {
    assert.equal(sidecar.messages('ready')[0]?.['files'], FILES, sidecar.transcript());
    assert.deepEqual(await nginx.sighups(), []);
  });

  test(`each of ${UPDATES} updates, deep in the tree or served by nginx, reloads nginx's master exactly once`, async () => {
    const sender = namespacePid(sidecarPid);
    for (let update = 1; update <= UPDATES; update++) {
      // Odd updates change a file only the sidecar reads, two levels down;
      // even ones the server block, so nginx's answer shows the reload took.
      const served = update % 2 === 0;
      if (served) writeFileSync(join(tree, 'site.conf'), siteConfig(port, update));
      else writeFileSync(join(tree, `dir-${update * 7}`, 'key-3'), `changed by update ${update}\n`);
      await sidecar.waitForMessage('reload sent', update);
      await waitFor(`nginx to log reload ${update}`, async () => reloads(await nginx.sighups()).length >= update, { timeoutMs: 10_000, intervalMs: 50 });
      if (served) {
        await waitFor(`nginx to serve v${update}`, async () => (await fetchLocal(port))?.body === `v${update}\n`, { timeoutMs: 10_000, intervalMs: 50 });
      }
      await sleep(PAUSE_MS);
      const signals = await nginx.sighups();
      assert.equal(reloads(signals).length, update, `after update ${update}:\n${await nginx.log()}\n${sidecar.transcript()}`);
      assert.equal(signals.length, update, `a SIGHUP nginx did not reconfigure on:\n${await nginx.log()}`);
      assert.equal(sidecar.messages('reload sent').length, update, sidecar.transcript());
    }
    for (const signal of await nginx.sighups()) {
      assert.deepEqual([signal.receiver, signal.from], [1, sender], await nginx.log());
    }
  });

  test('is still running afterwards, never OOM-killed, and answers /healthz', async (t) => {
    const state = await inspect<ContainerState>(sidecar.name, '.State');
    assert.deepEqual([state.Running, state.OOMKilled], [true, false], `${JSON.stringify(state)}\n${sidecar.transcript()}`);
    assert.equal(sidecar.child.exitCode, null);
    assert.equal(cgroup?.oomKills(), 0, `${cgroup?.dir ?? 'no cgroup'}: the OOM killer ran`);
    const health = await fetchLocal(metricsPort, '/healthz');
    assert.equal(health?.status, 200, health?.body);

    const peak = cgroup?.peakBytes();
    const usage = cgroup?.usage();
    const charged = cgroup !== undefined && peak !== undefined && usage !== undefined
      ? `cgroup v${cgroup.version} peak ${MiB(peak)}; now anonymous ${MiB(usage.anonBytes)}, page cache ${MiB(usage.fileBytes)}, ` +
        `file pages read again after being dropped ${usage.fileRefaults ?? 'not counted'}`
      : `no cgroup peak readable; podman stats now: ${(await podmanOk(['stats', '--no-stream', '--format', '{{.MemUsage}}', sidecar.name])).trim()}`;
    const latencies = sidecar.messages('reload sent').map((line) => Number(line['latency_ms']));
    t.diagnostic(`limit ${REQUEST.quantity} (${MiB(REQUEST.bytes)}); image still in the page cache at start ${MiB(stillCachedBytes)}; ` +
      `ready ${secondsBetween(sidecar.messages('starting')[0], sidecar.messages('ready')[0])} s after starting; ` +
      `first event to signal at most ${Math.max(...latencies).toFixed(0)} ms (debounce included); ${charged}; ` +
      `sidecar VmRSS after ${UPDATES} reloads ${rssMiB(sidecarPid).toFixed(1)} MiB`);
  });
});
