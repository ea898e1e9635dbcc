// The addon hands over each wakeup's events as one batch (numbers in one
// typed array, names joined into one string, raw bytes only for malformed
// names) and lib/inotify.ts rebuilds the events from it. These tests put many
// events of different shapes into one batch and check that each comes out
// exactly as if it had been decoded on its own.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

import type { InotifyEvent } from '../lib/inotify';
import { IN_ATTRIB, IN_CREATE } from '../lib/inotify-flags';
import { collectUntil, describeEvents, memoryBase, openInotify, tempDir } from './helpers/inotify-kit';

function create(path: string | Buffer): void {
  closeSync(openSync(path, 'w'));
}

test('well-formed, malformed and missing names in one batch each decode as they would alone', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE | IN_ATTRIB);
  const batches: InotifyEvent[][] = [];
  inotify.on('batch', (events) => batches.push(events));
  // A truncated sequence right before the separator, then a name that starts
  // with a continuation byte: the cases where decoding the joined string
  // could differ from decoding each name alone.
  const names: Buffer[] = [
    Buffer.from('plain'),
    Buffer.from([0x78, 0xe2, 0x82]),
    Buffer.from([0x80, 0x79]),
    Buffer.from('é-✓-😀'),
    Buffer.from([0x61, 0xff, 0x62]),
    Buffer.from([0xf0, 0x9f, 0x98]),
    Buffer.from('last'),
  ];
  const done = collectUntil(inotify, (events) => events.some((e) => e.name === 'last'), 'the last create');
  // All queued before the event loop reads any, so they arrive in one batch,
  // with an event about the watched directory itself (no name) in between.
  for (const [index, name] of names.entries()) {
    create(Buffer.concat([Buffer.from(`${dir}/`), name]));
    if (index === 2) chmodSync(dir, 0o750);
  }
  const events = await done;
  assert.equal(batches.length, 1, `one batch, got ${batches.map((b) => b.length).join(', ')}`);
  assert.equal(events.length, names.length + 1, describeEvents(events));

  const own = events[3];
  assert.ok(own !== undefined);
  assert.equal(own.kind, 'attrib');
  assert.equal(own.isDir, true);
  assert.equal(own.name, undefined);
  assert.equal(own.rawName, undefined);
  assert.equal(own.path, dir);

  const creates = events.filter((e) => e !== own);
  for (const [index, bytes] of names.entries()) {
    const event = creates[index];
    assert.ok(event !== undefined);
    const label = bytes.toString('hex');
    assert.equal(event.kind, 'create', label);
    assert.equal(event.name, bytes.toString('utf8'), `${label}: name is the decoding of its own bytes`);
    assert.equal(event.path, join(dir, bytes.toString('utf8')), label);
    if (Buffer.from(bytes.toString('utf8')).equals(bytes)) {
      assert.equal(event.rawName, undefined, label);
    } else {
      assert.ok(event.rawName !== undefined && bytes.equals(event.rawName), `${label}: rawName ${event.rawName?.toString('hex')}`);
    }
  }
});

test('event paths equal path.join of the watched path and the name, however the path was written', async (t) => {
  const inotify = await openInotify(t);
  const root = tempDir(t);
  const spellings: ReadonlyArray<(dir: string, name: string) => string> = [
    (dir) => `${dir}/`,
    (dir) => `${dir}//`,
    (dir) => `${dir}/./`,
    (dir, name) => `${dir}/../${name}`,
    (dir) => relative(process.cwd(), dir),
    (dir) => `${relative(process.cwd(), dir)}/.`,
  ];
  const watched: Array<{ spelled: string; dir: string }> = [];
  for (const [index, spell] of spellings.entries()) {
    // One directory per spelling: a second path to the same inode would share the first one's watch.
    const dir = join(root, `d${index}`);
    mkdirSync(dir);
    const spelled = spell(dir, `d${index}`);
    assert.equal(inotify.watch(spelled, IN_CREATE | IN_ATTRIB).path, spelled);
    watched.push({ spelled, dir });
  }
  const done = collectUntil(inotify, (events) => events.length === watched.length * 2, 'a create and an attrib per watch');
  for (const { dir } of watched) {
    create(join(dir, 'conf'));
    chmodSync(dir, 0o750);
  }
  const events = await done;
  for (const { spelled } of watched) {
    const mine = events.filter((e) => e.watch?.path === spelled);
    assert.equal(mine.length, 2, `${spelled}: ${describeEvents(events)}`);
    assert.equal(mine.find((e) => e.kind === 'create')?.path, join(spelled, 'conf'), spelled);
    // An event on the watched inode itself carries the path as it was given.
    assert.equal(mine.find((e) => e.kind === 'attrib')?.path, spelled, spelled);
  }
});

test('a burst larger than one read arrives complete, in order, as one batch', async (t) => {
  const count = 6000;
  const inotify = await openInotify(t, count + 1024);
  const dir = tempDir(t, 'inotify-batch-', memoryBase());
  inotify.watch(dir, IN_CREATE);
  let batches = 0;
  inotify.on('batch', () => batches++);
  // Names of every length up to 40, so records of many sizes follow one another.
  const names = Array.from({ length: count }, (_, i) => `${i}-${'n'.repeat(i % 40)}`);
  const done = collectUntil(inotify, (events) => events.length === count, `${count} creates`);
  // 6,000 records of 32 to 80 bytes each are more than 64 KiB, one read()'s worth.
  for (const name of names) create(join(dir, name));
  const events = await done;
  assert.deepEqual(events.map((e) => e.name), names);
  assert.ok(events.every((e, i) => e.path === join(dir, names[i] ?? '') && e.kind === 'create' && e.rawName === undefined));
  // A wakeup reads up to 16 x 64 KiB, and every event was queued before it.
  assert.equal(batches, 1, 'the reads of one wakeup are delivered as one batch');
});

test('events with the same mask share one frozen kinds array', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE);
  const done = collectUntil(inotify, (events) => events.length === 3, 'three creates');
  create(join(dir, 'a'));
  create(join(dir, 'b'));
  mkdirSync(join(dir, 'c'));
  const [a, b, c] = await done;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  assert.deepEqual(a.kinds, ['create']);
  assert.ok(Object.isFrozen(a.kinds), 'a consumer cannot change what other events report');
  assert.equal(a.kinds, b.kinds);
  // IN_ISDIR is not a kind: a directory's create has the same kinds.
  assert.equal(c.isDir, true);
  assert.deepEqual(c.kinds, ['create']);
});
