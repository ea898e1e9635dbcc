// What the sidecar leaves resident once it is idle, seen from outside. The
// figures are the bench's (docs/benchmarks.md, "Footprint"); this proves the
// mechanism behind them: start-up's garbage is collected within seconds of
// ready by V8's memory reducer, which the CLI starts sooner than V8's
// default 8 s (lib/sidecar/cli/v8-flags.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';

import { V8_FLAGS } from '../lib/sidecar/cli/v8-flags';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { NamedApp } from './helpers/named-app';
import { type LogLine, SidecarProcess } from './helpers/sidecar-process';

/** V8's own wait before its memory reducer's first GC, when nothing shortens it. */
const V8_DEFAULT_DELAY_MS = 8000;

/** RssAnon of /proc/<pid>/status, kB: the heaps, where garbage lives. */
function rssAnonKb(pid: number | undefined): number {
  assert.ok(pid !== undefined);
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match?.[1] !== undefined, `no RssAnon in /proc/${pid}/status`);
  return Number(match[1]);
}

/** `--trace-gc-verbose` prints "[pid:isolate]   1234 ms: Memory reducer: ..." (ms since the isolate started). */
function reducerLine(lines: readonly LogLine[], what: string): { readonly ms: number } | undefined {
  for (const line of lines) {
    const match = /^\[[^\]]*\]\s+(\d+) ms: Memory reducer: (.*)$/.exec(line.level === 'raw' ? line.msg : '');
    if (match?.[1] !== undefined && match[2]?.startsWith(what) === true) return { ms: Number(match[1]) };
  }
  return undefined;
}

test('collects its start-up garbage within seconds of ready, not after V8\'s default 8 s: the memory reducer runs and RssAnon falls', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memory-volume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const writer = new AtomicWriter(dir);
  await writer.write(configMapPayload({ 'app.conf': 'v0' }));
  const name = `mem-app-${process.pid}`;
  const app = await NamedApp.start(t, name);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: name }, nodeArgs: ['--trace-gc-verbose'] });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');
  // A first reload, as a Pod's first update would bring: its garbage too.
  writer.writeSync(configMapPayload({ 'app.conf': 'v1' }));
  await app.waitForSignals(1);
  const before = rssAnonKb(sidecar.child.pid);

  // Waited for no longer than V8's default would take to start at all.
  await sidecar.waitFor('the memory reducer\'s first GC', (lines) => reducerLine(lines, 'finished GC #1') !== undefined, V8_DEFAULT_DELAY_MS - 2000);
  const started = reducerLine(sidecar.lines, 'started GC #1');
  assert.ok(started !== undefined && started.ms < V8_DEFAULT_DELAY_MS, `first memory-reducing GC at ${String(started?.ms)} ms`);
  // The pages it emptied go back to the kernel from a GC task just after.
  await sleep(300);
  const after = rssAnonKb(sidecar.child.pid);
  assert.ok(after < before, `RssAnon ${before} kB after the first reload, ${after} kB after the memory reducer's GC`);
  assert.equal(app.signals().length, 1, sidecar.transcript());
});

/** What the next tests hold RssAnon to; with the young generation left to grow it is past 50 MiB. */
const LARGE_TREE_ANON_LIMIT_KB = 40 * 1024;

let largeTree: string | undefined;
// Registered here, at the file's level: inside a test it would run when that test ends.
after(() => {
  if (largeTree !== undefined) rmSync(largeTree, { recursive: true, force: true });
});

/** 100,000 small files, made once for both ways of starting and removed when the file's tests end. */
function sharedLargeTree(): string {
  if (largeTree !== undefined) return largeTree;
  const dir = mkdtempSync(join(tmpdir(), 'memory-tree-'));
  largeTree = dir;
  for (let i = 0; i < 100_000; i++) writeFileSync(join(dir, `file-${i}.conf`), `key=${i}\n`);
  return dir;
}

for (const [how, nodeArgs] of [['as the image starts it (flags on node\'s command line)', V8_FLAGS], ['without node options, as the npm bin does (flags set at run time)', []]] as const) {
  test(`started ${how}, the first walk of 100,000 files leaves RssAnon under 40 MiB: the young generation is kept small`, async (t) => {
    const dir = sharedLargeTree();
    const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: `mem-none-${process.pid}` }, nodeArgs });
    t.after(() => sidecar.stop());
    await sidecar.waitForMessage('ready', 1, 60_000);
    const anonKb = rssAnonKb(sidecar.child.pid);
    assert.ok(anonKb < LARGE_TREE_ANON_LIMIT_KB, `RssAnon ${anonKb} kB after the walk`);
  });
}
