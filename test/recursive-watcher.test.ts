// RecursiveWatcher against the real kernel: a tree watched as it grows, and
// events that name each entry where it is now.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { RecursiveWatcher, type RecursiveEvent } from '../lib';
import { waitFor } from './helpers/wait-for';

function tempTree(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'recursive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(t: { after(fn: () => unknown): void }, dir: string): Promise<{ watcher: RecursiveWatcher; events: RecursiveEvent[] }> {
  const watcher = await RecursiveWatcher.open(dir);
  t.after(() => watcher.close());
  const events: RecursiveEvent[] = [];
  watcher.on('event', (event) => events.push(event));
  return { watcher, events };
}

function written(events: readonly RecursiveEvent[]): string[] {
  return events.filter((event) => event.kind === 'close_write').map((event) => event.path);
}

test('watches the directories that exist at open and those created later, at any depth', async (t) => {
  const dir = tempTree(t);
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  const { watcher, events } = await open(t, dir);
  assert.equal(watcher.watchCount, 3);
  writeFileSync(join(dir, 'a', 'b', 'one'), '1');
  mkdirSync(join(dir, 'new', 'deeper'), { recursive: true });
  // Written at once, before the watcher has seen the directories appear: their listing finds them.
  writeFileSync(join(dir, 'new', 'deeper', 'two'), '2');
  await waitFor('both writes', () => written(events).length === 2 || watcher.watchCount === 5);
  writeFileSync(join(dir, 'new', 'deeper', 'three'), '3');
  await waitFor('the write in the new directory', () => written(events).includes(join(dir, 'new', 'deeper', 'three')));
  assert.ok(written(events).includes(join(dir, 'a', 'b', 'one')));
  assert.equal(watcher.watchCount, 5);
});

test('what was made in a new directory before its watch was in place is reported as found', async (t) => {
  const dir = tempTree(t);
  const { events } = await open(t, dir);
  // Synchronous: all of it exists before this event loop reads the first creation.
  mkdirSync(join(dir, 'new', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'new', 'deeper', 'early.conf'), 'x');
  await waitFor('the file to be found', () => events.some((event) => event.path === join(dir, 'new', 'deeper', 'early.conf')));
  const found = events.filter((event) => event.found === true).map((event) => [event.kind, event.path, event.isDir]);
  assert.deepEqual(found, [
    ['create', join(dir, 'new', 'deeper'), true],
    ['create', join(dir, 'new', 'deeper', 'early.conf'), false],
  ]);
  const created = events.filter((event) => event.kind === 'create' && event.found !== true).map((event) => event.path);
  assert.deepEqual(created, [join(dir, 'new')], 'the kernel reported only what happened under a watch');
});

test('after a directory is renamed, events below it name the new path, at every depth', async (t) => {
  const dir = tempTree(t);
  mkdirSync(join(dir, 'old', 'inner'), { recursive: true });
  const { watcher, events } = await open(t, dir);
  renameSync(join(dir, 'old'), join(dir, 'renamed'));
  await waitFor('the rename', () => events.some((event) => event.kind === 'moved_to'));
  writeFileSync(join(dir, 'renamed', 'top'), 'x');
  writeFileSync(join(dir, 'renamed', 'inner', 'deep'), 'y');
  await waitFor('both writes', () => written(events).length === 2);
  assert.deepEqual(written(events).sort(), [join(dir, 'renamed', 'inner', 'deep'), join(dir, 'renamed', 'top')]);
  const moves = events.filter((event) => event.kind === 'moved_from' || event.kind === 'moved_to');
  assert.deepEqual(moves.map((event) => [event.kind, event.path]), [['moved_from', join(dir, 'old')], ['moved_to', join(dir, 'renamed')]]);
  assert.equal(moves[0]?.cookie, moves[1]?.cookie);
  assert.equal(watcher.watchCount, 3, 'the same watches, not new ones');
});

test('a directory moved into another directory of the tree keeps its watches under its new path', async (t) => {
  const dir = tempTree(t);
  mkdirSync(join(dir, 'a', 'sub'), { recursive: true });
  mkdirSync(join(dir, 'b'));
  const { watcher, events } = await open(t, dir);
  renameSync(join(dir, 'a', 'sub'), join(dir, 'b', 'sub'));
  await waitFor('the move', () => events.some((event) => event.kind === 'moved_to'));
  writeFileSync(join(dir, 'b', 'sub', 'file'), 'z');
  await waitFor('the write', () => written(events).length === 1);
  assert.deepEqual(written(events), [join(dir, 'b', 'sub', 'file')]);
  assert.equal(watcher.watchCount, 4);
});

test('a directory moved out of the tree is let go, and one moved in is watched with everything below it', async (t) => {
  const outside = tempTree(t);
  const dir = tempTree(t);
  mkdirSync(join(dir, 'leaving', 'x'), { recursive: true });
  mkdirSync(join(outside, 'arriving', 'y'), { recursive: true });
  const { watcher, events } = await open(t, dir);
  assert.equal(watcher.watchCount, 3);
  renameSync(join(dir, 'leaving'), join(outside, 'left'));
  renameSync(join(outside, 'arriving'), join(dir, 'arrived'));
  await waitFor('both moves', () => events.filter((event) => event.kind === 'moved_from' || event.kind === 'moved_to').length === 2);
  await waitFor('the watches to follow', () => watcher.watchCount === 3);
  writeFileSync(join(outside, 'left', 'x', 'unseen'), '');
  writeFileSync(join(dir, 'arrived', 'y', 'seen'), '');
  await waitFor('the write inside the tree', () => written(events).length > 0);
  await sleep(50);
  assert.deepEqual(written(events), [join(dir, 'arrived', 'y', 'seen')]);
});

test('reports a kernel queue overflow, and still sees directories created during it', async (t) => {
  const dir = tempTree(t);
  const { watcher, events } = await open(t, dir);
  let overflows = 0;
  watcher.on('overflow', () => overflows++);
  // More events than fs.inotify.max_queued_events (16384 by default) while
  // this event loop cannot read any of them.
  for (let i = 0; i < 9000; i++) writeFileSync(join(dir, `f${i}`), '');
  mkdirSync(join(dir, 'made-during-overflow'));
  await waitFor('the overflow', () => overflows > 0);
  writeFileSync(join(dir, 'made-during-overflow', 'after'), '');
  await waitFor('the write in the directory found by the rescan', () => written(events).includes(join(dir, 'made-during-overflow', 'after')));
});

test('open() rejects for a root that does not exist, and close() stops every event', async (t) => {
  const dir = tempTree(t);
  await assert.rejects(RecursiveWatcher.open(join(dir, 'absent')), { code: 'ENOENT' });
  const { watcher, events } = await open(t, dir);
  await watcher.close();
  await watcher.close();
  writeFileSync(join(dir, 'after-close'), '');
  await sleep(50);
  assert.deepEqual(events, []);
});

test('the root deleted is reported as lost', async (t) => {
  const dir = tempTree(t);
  const root = join(dir, 'root');
  mkdirSync(root);
  const watcher = await RecursiveWatcher.open(root);
  t.after(() => watcher.close());
  const lost: string[] = [];
  watcher.on('lost', (why) => lost.push(why));
  rmSync(root, { recursive: true });
  await waitFor('the loss', () => lost.length === 1);
  assert.equal(lost[0], 'it was deleted');
  assert.equal(watcher.watchCount, 0);
});
