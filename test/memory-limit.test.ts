// The sidecar under a memory limit equal to the README's memory request, on a
// tree of 10,000 files: it must stay up and keep reloading.
//
// The limit is a memory cgroup made for the test as a child of this
// process's own (cgroup v2's memory.max, or v1's memory.limit_in_bytes where
// the memory controller is on v1), and the sidecar is moved into it by a
// shell that then execs it, so every page it touches from its first
// instruction is charged there. A child of our own cgroup keeps whatever
// limits the machine already set above us, and is removed after the test.
//
// What a cgroup here charges differs from a fresh container in one way: the
// page cache of the node binary and its libraries is charged to whoever read
// it first, here usually another process. In a container the first sidecar
// on a node pays for them. The bench's RssFile column has their size;
// test-container/memory-limit.test.ts runs the image itself under the same
// limit, with those pages charged to it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { NamedApp } from './helpers/named-app';
import { readmeSidecarMemoryRequest } from './helpers/readme-resources';
import { SidecarProcess } from './helpers/sidecar-process';

const REQUEST_BYTES = readmeSidecarMemoryRequest().bytes;
const FILES = 10_000;
const RELOADS = 5;

interface MemoryCgroup {
  readonly dir: string;
  readonly version: 1 | 2;
  /** Peak usage in bytes, where the kernel keeps one (v2 memory.peak needs Linux 5.19). */
  peakBytes(): number | undefined;
  /** Times the limit made the kernel kill a process of the group. */
  oomKills(): number;
}

/** This process's memory cgroup, from /proc/self/cgroup: the v1 memory hierarchy's line, else v2's. */
function ownMemoryCgroup(): { readonly dir: string; readonly version: 1 | 2 } | undefined {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.map((line) => line.split(':')).find(([, controllers]) => controllers?.split(',').includes('memory') === true);
  if (v1?.[2] !== undefined && existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
    return { dir: join('/sys/fs/cgroup/memory', v1[2]), version: 1 };
  }
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (v2 !== undefined) {
    const dir = join('/sys/fs/cgroup', v2.slice(3));
    if (readFileSync(join('/sys/fs/cgroup', 'cgroup.controllers'), 'utf8').split(' ').includes('memory')) return { dir, version: 2 };
  }
  return undefined;
}

function createMemoryCgroup(limitBytes: number): MemoryCgroup {
  const own = ownMemoryCgroup();
  if (own === undefined) throw new Error('no memory cgroup controller (neither v1 nor v2) on this machine');
  const dir = join(own.dir, `config-reloader-test-${process.pid}`);
  mkdirSync(dir);
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  if (own.version === 2) {
    // memory.max applies only where the parent delegates the controller.
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    return {
      dir, version: 2,
      peakBytes: () => (existsSync(join(dir, 'memory.peak')) ? Number(read('memory.peak')) : undefined),
      oomKills: () => Number(/^oom_kill (\d+)/m.exec(read('memory.events'))?.[1] ?? 0),
    };
  }
  writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
  // Without swap accounting the limit covers RAM only; with it, swap is capped too.
  if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
  return {
    dir, version: 1,
    peakBytes: () => Number(read('memory.max_usage_in_bytes')),
    oomKills: () => Number(/^oom_kill (\d+)/m.exec(read('memory.oom_control'))?.[1] ?? 0),
  };
}

test('under a memory limit equal to its request, on 10,000 files, the sidecar stays up and keeps reloading', async (t) => {
  let cgroup: MemoryCgroup;
  try {
    cgroup = createMemoryCgroup(REQUEST_BYTES);
  } catch (error) {
    t.skip(`cannot create a memory cgroup here: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  let sidecar: SidecarProcess | undefined;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'memory-limit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(dir, `dir-${d}`));
      for (let f = 0; f < FILES / 100; f++) writeFileSync(join(dir, `dir-${d}`, `file-${f}.conf`), `key=${d}.${f}\n`);
    }

    const app = await NamedApp.start(t, 'memlimitapp');
    sidecar = new SidecarProcess({
      env: { CONFIG_DIR: dir, PROCESS_NAME: app.name, DEBOUNCE: '100ms' },
      // $0 is the cgroup's procs file; the shell moves itself there, then becomes the sidecar.
      wrapper: ['sh', '-c', 'echo $$ > "$0" && exec "$@"', join(cgroup.dir, 'cgroup.procs')],
    });
    await sidecar.waitForMessage('ready', 1, 60_000);
    assert.equal(readFileSync(join(cgroup.dir, 'cgroup.procs'), 'utf8').trim(), String(sidecar.child.pid));

    for (let reload = 1; reload <= RELOADS; reload++) {
      writeFileSync(join(dir, `dir-${reload}`, 'file-0.conf'), `key=changed ${reload}\n`);
      await app.waitForSignals(reload);
      // Past the debounce, so the next write is a change of its own.
      await sleep(200);
    }
    assert.equal(sidecar.child.exitCode, null, sidecar.transcript());
    assert.equal(cgroup.oomKills(), 0);
    const peak = cgroup.peakBytes();
    t.diagnostic(`cgroup v${cgroup.version}, limit ${REQUEST_BYTES / 2 ** 20} MiB, peak ${peak === undefined ? 'not kept' : `${(peak / 2 ** 20).toFixed(1)} MiB`}`);
  } finally {
    // The group can be removed only once the sidecar has left it (by exiting).
    await sidecar?.stop();
    rmdirSync(cgroup.dir);
  }
});
