// `config-reloader-sidecar/testing` as an embedder gets it: resolved by
// package name through the "exports" map, from CommonJS and from ESM, in a
// node process of its own. Its writer must produce, on the real kernel, the
// events a watch on a kubelet volume receives; loading it must not load the
// native addon; and the main entry must not load it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import type { InotifyEventKind } from '../lib/inotify-flags';
import { describeResult, runCommand } from './helpers/child-process';
import { MODIFYING_KINDS } from './helpers/event-recorder';
import { PACKAGE_ROOT } from './helpers/package-copy';

const NAME = 'config-reloader-sidecar';

/** A directory whose node_modules holds this package under its name, as `npm install` would place it. */
function embedder(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'testing-entry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', NAME));
  return dir;
}

interface SeenEvent {
  readonly kinds: readonly InotifyEventKind[];
  readonly kind: InotifyEventKind;
  readonly name?: string;
  readonly isDir: boolean;
  readonly cookie: number;
}

interface Report {
  /** The modules loaded once the testing entry was. */
  readonly afterTesting: readonly string[];
  readonly events: readonly SeenEvent[];
  readonly content: string;
}

/**
 * The embedder's script after its imports, which bind AtomicWriter,
 * configMapPayload and Inotify, IN_ALL_EVENTS, IN_CREATE, and
 * `loaded` (the module paths loaded when the testing entry was). It writes v1,
 * watches the volume root as a sidecar does (not recursively), makes the
 * update with `update`, and reports the events. A second watched directory
 * takes a sentinel file after the update: the kernel queues an instance's
 * events in order, so once the sentinel is read every event of the update has been.
 */
function scriptBody(update: 'await writer.write(v2)' | 'writer.writeSync(v2)'): string {
  return `
    const fs = require('node:fs');
    const path = require('node:path');
    const root = process.argv[2];
    const volume = path.join(root, 'volume');
    const sentinel = path.join(root, 'sentinel');
    fs.mkdirSync(volume);
    fs.mkdirSync(sentinel);
    let next = 0;
    const writer = new AtomicWriter(volume, { timestampDirName: () => '..v' + ++next });
    writer.writeSync(configMapPayload({ 'app.conf': 'v1' }));
    const inotify = new Inotify();
    const watch = inotify.watch(volume, IN_ALL_EVENTS);
    const flush = inotify.watch(sentinel, IN_CREATE);
    const events = [];
    inotify.on('event', (event) => {
      if (event.wd === watch.wd) {
        events.push({ kinds: event.kinds, kind: event.kind, name: event.name, isDir: event.isDir, cookie: event.cookie });
        return;
      }
      if (event.wd !== flush.wd) return;
      inotify.close();
      const content = fs.readFileSync(path.join(volume, 'app.conf'), 'utf8');
      process.stdout.write(JSON.stringify({ afterTesting: loaded, events, content }));
    });
    const v2 = configMapPayload({ 'app.conf': 'v2' });
    (async () => {
      ${update};
      fs.writeFileSync(path.join(sentinel, 'flushed'), '');
    })();
  `;
}

const COMMONJS = `
  const { AtomicWriter, configMapPayload } = require('${NAME}/testing');
  const loaded = Object.keys(require.cache);
  const { Inotify, IN_ALL_EVENTS, IN_CREATE } = require('${NAME}');
  ${scriptBody('await writer.write(v2)')}
`;

// Static imports run in order, and the testing entry comes first, so `loaded`
// is taken before the main entry is evaluated; require.cache is the CommonJS
// loader's registry, which also holds CommonJS modules that ESM imported.
const ESM = `
  import { createRequire } from 'node:module';
  import { AtomicWriter, configMapPayload } from '${NAME}/testing';
  const require = createRequire(import.meta.url);
  const loaded = Object.keys(require.cache);
  const { Inotify, IN_ALL_EVENTS, IN_CREATE } = await import('${NAME}');
  ${scriptBody('writer.writeSync(v2)')}
`;

async function runEmbedder(t: TestContext, file: string, source: string): Promise<Report> {
  const dir = embedder(t);
  writeFileSync(join(dir, file), source);
  const work = mkdtempSync(join(tmpdir(), 'testing-entry-volume-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const result = await runCommand(process.execPath, [file, work], { cwd: dir });
  assert.equal(result.code, 0, describeResult(result));
  return JSON.parse(result.stdout) as Report;
}

/** 'create dir ..v2', 'moved_to ..data': the events that change something, in order. */
function modifying(events: readonly SeenEvent[]): string[] {
  return events
    .filter((event) => event.kinds.some((kind) => MODIFYING_KINDS.has(kind)))
    .map((event) => `${event.kind}${event.isDir ? ' dir' : ''} ${event.name ?? '.'}`);
}

function assertKubeletUpdate(report: Report): void {
  assert.deepEqual(modifying(report.events), [
    'create dir ..v2', 'attrib dir ..v2', 'create ..data_tmp', 'moved_from ..data_tmp', 'moved_to ..data', 'delete dir ..v1',
  ]);
  const from = report.events.find((event) => event.kind === 'moved_from');
  const to = report.events.find((event) => event.kind === 'moved_to');
  assert.ok(from !== undefined && to !== undefined);
  assert.notEqual(from.cookie, 0);
  assert.equal(from.cookie, to.cookie, 'IN_MOVED_FROM and IN_MOVED_TO share one cookie');
  assert.equal(report.content, 'v2');
}

/** Loaded modules of this package's build: 'lib/testing/index.js', 'lib/native.js'. */
function ownModules(paths: readonly string[]): string[] {
  const prefix = join(PACKAGE_ROOT, 'dist') + '/';
  return paths.filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length));
}

test('required by package name, the testing entry replays a kubelet update that a real inotify watch sees as one', async (t) => {
  const report = await runEmbedder(t, 'embedder.cjs', COMMONJS);

  assertKubeletUpdate(report);
});

test('named ESM imports of the testing entry work, and writeSync makes the same kubelet update', async (t) => {
  const report = await runEmbedder(t, 'embedder.mjs', ESM);

  assertKubeletUpdate(report);
});

test('the testing entry loads no native addon, and the main entry does not load the testing entry', async (t) => {
  const { afterTesting } = await runEmbedder(t, 'embedder.cjs', COMMONJS);
  assert.ok(ownModules(afterTesting).includes('lib/testing/index.js'), JSON.stringify(afterTesting));
  assert.deepEqual(afterTesting.filter((path) => path.endsWith('.node')), []);
  assert.ok(!ownModules(afterTesting).includes('lib/native.js'), JSON.stringify(afterTesting));

  const dir = embedder(t);
  const main = await runCommand(
    process.execPath,
    ['-e', `require('${NAME}'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`],
    { cwd: dir },
  );
  assert.equal(main.code, 0, describeResult(main));
  const loaded = ownModules(JSON.parse(main.stdout) as string[]);
  assert.ok(loaded.includes('lib/native.js'), 'the main entry was loaded');
  assert.deepEqual(loaded.filter((path) => path.startsWith('lib/testing/')), []);
});
