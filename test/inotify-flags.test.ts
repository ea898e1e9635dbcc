// The IN_* table against the kernel headers, and what each inotify_add_watch
// flag does on a real kernel.
import assert from 'node:assert/strict';
import { closeSync, lutimesSync, openSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import type { InotifyEvent } from '../lib/inotify';
import { primaryKind } from '../lib/inotify-event';
import * as flags from '../lib/inotify-flags';
import {
  decodeKinds,
  IN_ATTRIB,
  IN_CREATE,
  IN_DELETE,
  IN_DONT_FOLLOW,
  IN_EXCL_UNLINK,
  IN_IGNORED,
  IN_ISDIR,
  IN_MASK_ADD,
  IN_MASK_CREATE,
  IN_MODIFY,
  IN_ONESHOT,
  IN_ONLYDIR,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
} from '../lib/inotify-flags';
import { native } from '../lib/native';
import { barrier, describeEvents, openInotify, tempDir } from './helpers/inotify-kit';


const kinds = (events: readonly InotifyEvent[]): string[] => events.map((e) => `${e.kind}:${String(e.name)}`);

test('every IN_* constant equals the value in the kernel headers the addon was built with', () => {
  const table: Record<string, unknown> = { ...flags };
  const fromHeaders = Object.entries(native.constants);
  assert.ok(fromHeaders.length >= 24, 'the addon exports the whole table');
  for (const [name, value] of fromHeaders) {
    assert.equal(table[name], value, `${name}: lib has ${String(table[name])}, headers have ${value}`);
  }
  const ours = Object.keys(table).filter((name) => name.startsWith('IN_'));
  assert.deepEqual(ours.filter((name) => !(name in native.constants)), [], 'no constant lacks a kernel counterpart');
});

test('decodeKinds names every bit set, overflow first, and ignores IN_ISDIR', () => {
  const rows: ReadonlyArray<readonly [number, readonly string[]]> = [
    [IN_CREATE, ['create']],
    [IN_CREATE | IN_ISDIR, ['create']],
    [IN_Q_OVERFLOW, ['overflow']],
    [IN_IGNORED, ['ignored']],
    [IN_UNMOUNT, ['unmount']],
    [IN_MODIFY | IN_ATTRIB, ['modify', 'attrib']],
    [0, []],
  ];
  for (const [mask, expected] of rows) assert.deepEqual(decodeKinds(mask), expected, `mask 0x${mask.toString(16)}`);
});

test("an event's kind is the first kind decodeKinds names, for every mask of event bits, with or without IN_ISDIR", () => {
  for (let low = 0; low <= 0xffff; low++) {
    for (const mask of [low, (low | flags.IN_ISDIR) >>> 0]) {
      assert.equal(primaryKind(mask), flags.decodeKinds(mask)[0] ?? 'ignored', `mask 0x${mask.toString(16)}`);
    }
  }
});

test('IN_ONLYDIR on a regular file fails with ENOTDIR naming the path', async (t) => {
  const inotify = await openInotify(t);
  const file = join(tempDir(t), 'file');
  writeFileSync(file, '');
  assert.throws(() => inotify.watch(file, IN_CREATE | IN_ONLYDIR), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'ENOTDIR');
    assert.equal(error.syscall, 'inotify_add_watch');
    assert.equal(error.path, file);
    assert.match(error.message, /IN_ONLYDIR/);
    return true;
  });
  assert.equal(inotify.watches.size, 0);
  assert.ok(inotify.watch(file, IN_CREATE), 'the same file without IN_ONLYDIR is accepted');
});

test('IN_DONT_FOLLOW watches the symlink itself, not its target', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const target = join(dir, 'target');
  const link = join(dir, 'link');
  writeFileSync(target, '');
  symlinkSync(target, link);

  const onTarget = inotify.watch(target, IN_ATTRIB);
  assert.equal(inotify.watch(link, IN_ATTRIB), onTarget, 'without the flag the link is followed');
  const onLink = inotify.watch(link, IN_ATTRIB | IN_DONT_FOLLOW);
  assert.notEqual(onLink.wd, onTarget.wd);

  lutimesSync(link, new Date(1000), new Date(1000));
  let events = await settled();
  assert.deepEqual(events.map((e) => [e.kind, e.watch]), [['attrib', onLink]]);

  utimesSync(target, new Date(2000), new Date(2000));
  events = await settled();
  assert.deepEqual(events.map((e) => [e.kind, e.watch]), [['attrib', onTarget]]);
});

test('IN_MASK_CREATE fails with EEXIST for an inode this instance already watches', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  const first = inotify.watch(dir, IN_CREATE | IN_MASK_CREATE);
  assert.throws(() => inotify.watch(dir, IN_DELETE | IN_MASK_CREATE), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'EEXIST');
    assert.equal(error.path, dir);
    assert.match(error.message, /already watched/);
    return true;
  });
  assert.equal(first.mask, IN_CREATE | IN_MASK_CREATE, 'the failed call left the mask alone');
});

test('IN_MASK_ADD ORs into the existing mask; without it the mask is replaced', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE);
  assert.equal(inotify.watch(dir, IN_DELETE | IN_MASK_ADD), watch);
  assert.equal(watch.mask & (IN_CREATE | IN_DELETE), IN_CREATE | IN_DELETE);
  writeFileSync(join(dir, 'a'), '');
  unlinkSync(join(dir, 'a'));
  assert.deepEqual(kinds(await settled()), ['create:a', 'delete:a']);

  inotify.watch(dir, IN_DELETE);
  assert.equal(watch.mask, IN_DELETE);
  writeFileSync(join(dir, 'b'), '');
  unlinkSync(join(dir, 'b'));
  assert.deepEqual(kinds(await settled()), ['delete:b'], 'IN_CREATE was replaced away');
});

test('IN_ONESHOT reports one event, then IN_IGNORED retires the watch', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE | IN_ONESHOT);
  assert.equal(watch.mask, (IN_CREATE | IN_ONESHOT) >>> 0);
  writeFileSync(join(dir, 'first'), '');
  writeFileSync(join(dir, 'second'), '');
  const events = await settled();
  assert.deepEqual(kinds(events), ['create:first', 'ignored:undefined'], describeEvents(events));
  assert.equal(watch.active, false);
  assert.equal(inotify.watches.size, 1, 'only the barrier watch is left');
});

test('IN_EXCL_UNLINK stops events for a child once it is unlinked, though it is still open', async (t) => {
  const excluding = await openInotify(t);
  const plain = await openInotify(t);
  const excludingSettled = barrier(excluding, t);
  const plainSettled = barrier(plain, t);
  const dir = tempDir(t);
  const file = join(dir, 'scratch');
  writeFileSync(file, '');
  excluding.watch(dir, IN_MODIFY | IN_EXCL_UNLINK);
  plain.watch(dir, IN_MODIFY);

  const fd = openSync(file, 'w');
  try {
    unlinkSync(file);
    writeSync(fd, 'written after unlink');
  } finally {
    closeSync(fd);
  }
  assert.deepEqual(kinds(await plainSettled()), ['modify:scratch'], 'without the flag the write is reported');
  assert.deepEqual(kinds(await excludingSettled()), []);
});

test('an empty mask or an unknown bit is rejected with EINVAL explaining why; a bad argument with a TypeError', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  for (const mask of [0, 0x1000]) {
    assert.throws(() => inotify.watch(dir, mask), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, 'EINVAL');
      assert.equal(error.path, dir);
      assert.match(error.message, new RegExp(`mask 0x${mask.toString(16)} .*non-zero, hold only IN_\\* bits`));
      return true;
    });
  }
  assert.throws(() => inotify.watch(dir, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE), { code: 'EINVAL' });
  assert.throws(() => inotify.watch(dir, 1.5), { name: 'TypeError', message: /mask must be a 32-bit integer.*1\.5/ });
  assert.throws(() => inotify.watch(dir, Number.NaN), TypeError);
  assert.throws(() => inotify.watch(dir, 2 ** 32), TypeError);
  assert.throws(() => inotify.watch('', IN_CREATE), { name: 'TypeError', message: /must not be empty/ });
  assert.throws(() => inotify.watch(42 as unknown as string, IN_CREATE), { message: /string or a Buffer, got number/ });
  assert.throws(() => inotify.watch(`${dir}\0x`, IN_CREATE), { name: 'TypeError', message: /NUL/ });
  assert.throws(() => inotify.watch(join(dir, 'missing'), IN_CREATE), { code: 'ENOENT', path: join(dir, 'missing') });
  assert.equal(inotify.watch(dir, IN_CREATE | IN_ONESHOT).wd > 0, true, 'a mask with the top bit set is accepted');
});
