// Every event kind, produced by real file operations on a real kernel, and the
// registry that attributes each event to its Watch.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import type { InotifyEvent } from '../lib/inotify';
import {
  IN_ALL_EVENTS,
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_IGNORED,
  IN_ISDIR,
  IN_MODIFY,
  IN_MOVE,
  IN_MOVE_SELF,
} from '../lib/inotify-flags';
import { barrier, describeEvents, openInotify, tempDir } from './helpers/inotify-kit';


function only(events: readonly InotifyEvent[], kind: string, name?: string): InotifyEvent {
  const matching = events.filter((e) => e.kind === kind && (name === undefined || e.name === name));
  assert.equal(matching.length, 1, `expected one ${kind} ${name ?? ''}, got: ${describeEvents(events)}`);
  const [event] = matching;
  assert.ok(event !== undefined);
  return event;
}

test('creating and writing a file reports create, modify and close_write with the joined path', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE);
  writeFileSync(join(dir, 'a.conf'), 'x');
  appendFileSync(join(dir, 'a.conf'), 'y');
  const events = await settled();

  const create = only(events, 'create', 'a.conf');
  assert.equal(create.watch, watch);
  assert.equal(create.wd, watch.wd);
  assert.equal(create.path, join(dir, 'a.conf'));
  assert.equal(create.isDir, false);
  assert.equal(create.cookie, 0);
  assert.equal(create.rawName, undefined);
  assert.deepEqual(create.kinds, ['create']);
  assert.ok(events.some((e) => e.kind === 'modify' && e.name === 'a.conf'));
  assert.equal(events.filter((e) => e.kind === 'close_write' && e.name === 'a.conf').length, 2, describeEvents(events));
});

test('chmod reports attrib, and a directory carries isDir', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), '');
  inotify.watch(dir, IN_ATTRIB | IN_CREATE);
  chmodSync(join(dir, 'f'), 0o600);
  mkdirSync(join(dir, 'sub'));
  const events = await settled();
  assert.equal(only(events, 'attrib', 'f').isDir, false);
  const mkdir = only(events, 'create', 'sub');
  assert.equal(mkdir.isDir, true);
  assert.equal(mkdir.mask, IN_CREATE | IN_ISDIR);
});

test('a rename inside the directory pairs moved_from and moved_to by one cookie', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'old'), '');
  inotify.watch(dir, IN_MOVE);
  renameSync(join(dir, 'old'), join(dir, 'new'));
  const events = await settled();
  const from = only(events, 'moved_from', 'old');
  const to = only(events, 'moved_to', 'new');
  assert.notEqual(from.cookie, 0);
  assert.equal(from.cookie, to.cookie);
  assert.equal(from.path, join(dir, 'old'));
  assert.equal(to.path, join(dir, 'new'));
});

test('a move out of the watched directory reports moved_from with no moved_to for its cookie', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const elsewhere = tempDir(t);
  writeFileSync(join(dir, 'leaving'), '');
  inotify.watch(dir, IN_MOVE);
  renameSync(join(dir, 'leaving'), join(elsewhere, 'leaving'));
  const events = await settled();
  const from = only(events, 'moved_from', 'leaving');
  assert.notEqual(from.cookie, 0);
  assert.deepEqual(events.filter((e) => e.cookie === from.cookie && e !== from), [], describeEvents(events));
});

test('unlinking a watched file reports delete in its directory, then delete_self and ignored on the file', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const file = join(dir, 'doomed');
  writeFileSync(file, '');
  const dirWatch = inotify.watch(dir, IN_DELETE);
  const fileWatch = inotify.watch(file, IN_DELETE_SELF);
  unlinkSync(file);
  const events = await settled();

  assert.equal(only(events, 'delete', 'doomed').watch, dirWatch);
  const self = only(events, 'delete_self');
  assert.equal(self.watch, fileWatch);
  assert.equal(self.name, undefined);
  assert.equal(self.path, file, 'an event on the watch itself carries the watch path');
  const ignored = only(events, 'ignored');
  assert.equal(ignored.watch, fileWatch);
  assert.ok(events.indexOf(self) < events.indexOf(ignored), 'ignored comes last');
  assert.equal(fileWatch.active, false);
  assert.equal(inotify.watches.has(fileWatch.wd), false);
  assert.equal(inotify.watchFor(file), undefined);
  assert.equal(dirWatch.active, true);
});

test('delete_self for a file waits for its last link: a hard link keeps the watch alive', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a'), '');
  linkSync(join(dir, 'a'), join(dir, 'b'));
  const watch = inotify.watch(join(dir, 'a'), IN_DELETE_SELF | IN_ATTRIB);
  unlinkSync(join(dir, 'a'));
  let events = await settled();
  assert.ok(events.some((e) => e.kind === 'attrib'), 'the link count changed');
  assert.equal(events.some((e) => e.kind === 'delete_self'), false, describeEvents(events));
  assert.equal(watch.active, true);
  unlinkSync(join(dir, 'b'));
  events = await settled();
  assert.equal(only(events, 'delete_self').watch, watch);
  only(events, 'ignored');
});

test('renaming a watched directory reports move_self; the watch follows the inode', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const root = tempDir(t);
  mkdirSync(join(root, 'before'));
  const watch = inotify.watch(join(root, 'before'), IN_MOVE_SELF | IN_CREATE);
  renameSync(join(root, 'before'), join(root, 'after'));
  writeFileSync(join(root, 'after', 'inside'), '');
  const events = await settled();
  const self = only(events, 'move_self');
  assert.equal(self.watch, watch);
  assert.equal(self.isDir, false, 'IN_ISDIR is not set for events on the watched directory itself');
  // The kernel does not say where it went: the path a Watch remembers is the old one.
  assert.equal(only(events, 'create', 'inside').path, join(root, 'before', 'inside'));
});

test('removing a watched directory reports delete_self and ignored, with IN_ISDIR on the parent delete', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const root = tempDir(t);
  mkdirSync(join(root, 'gone'));
  inotify.watch(root, IN_DELETE);
  const watch = inotify.watch(join(root, 'gone'), IN_ALL_EVENTS);
  rmdirSync(join(root, 'gone'));
  const events = await settled();
  assert.equal(only(events, 'delete', 'gone').isDir, true);
  assert.equal(only(events, 'delete_self').watch, watch);
  const ignored = only(events, 'ignored');
  assert.equal(ignored.mask, IN_IGNORED);
  assert.equal(watch.active, false);
});

// Linux names are bytes. Each row is a name and whether it is well-formed
// UTF-8; the malformed ones must arrive byte-exact in rawName.
const NAMES: ReadonlyArray<readonly [string, Buffer, boolean]> = [
  ['ASCII', Buffer.from('plain.conf'), true],
  ['two-, three- and four-byte sequences', Buffer.from('é-✓-😀'), true],
  ['a lone 0xff', Buffer.from([0x61, 0xff, 0x62]), false],
  ['Latin-1 é (0xe9)', Buffer.from([0x63, 0x61, 0x66, 0xe9]), false],
  ['an overlong "/" (0xc0 0xaf)', Buffer.from([0x78, 0xc0, 0xaf]), false],
  ['a UTF-16 surrogate (0xed 0xa0 0x80)', Buffer.from([0x78, 0xed, 0xa0, 0x80]), false],
  ['a code point above U+10FFFF', Buffer.from([0x78, 0xf4, 0x90, 0x80, 0x80]), false],
  ['a truncated sequence at the end', Buffer.from([0x78, 0xe2, 0x82]), false],
  ['a stray continuation byte', Buffer.from([0x78, 0x80]), false],
];

for (const [label, bytes, wellFormed] of NAMES) {
  test(`a file name with ${label} arrives ${wellFormed ? 'as an exact string' : 'with its exact bytes in rawName'}`, async (t) => {
    const inotify = await openInotify(t);
    const settled = barrier(inotify, t);
    const dir = tempDir(t);
    inotify.watch(dir, IN_CREATE);
    const path = Buffer.concat([Buffer.from(`${dir}/`), bytes]);
    closeSync(openSync(path, 'w'));
    const events = await settled();
    const create = only(events, 'create');
    if (wellFormed) {
      assert.equal(create.rawName, undefined);
      assert.equal(create.name, bytes.toString('utf8'));
    } else {
      assert.ok(create.rawName !== undefined, 'rawName is present');
      assert.ok(bytes.equals(create.rawName), `rawName ${create.rawName.toString('hex')} != ${bytes.toString('hex')}`);
      assert.equal(create.name, bytes.toString('utf8'), 'name is the lossy decoding');
      assert.ok(create.name?.includes('\uFFFD'));
    }
  });
}

test('a watch added by a Buffer path works like one added by a string', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(Buffer.from(dir), IN_CREATE);
  assert.equal(watch.path, dir);
  writeFileSync(join(dir, 'x'), '');
  assert.equal(only(await settled(), 'create', 'x').path, join(dir, 'x'));
});

test('the same inode watched through two paths gives the same wd and the same Watch', async (t) => {
  const inotify = await openInotify(t);
  const root = tempDir(t);
  mkdirSync(join(root, 'real'));
  symlinkSync(join(root, 'real'), join(root, 'alias'));
  writeFileSync(join(root, 'real', 'f'), '');
  linkSync(join(root, 'real', 'f'), join(root, 'hardlink'));

  const direct = inotify.watch(join(root, 'real'), IN_CREATE);
  const viaSymlink = inotify.watch(join(root, 'alias'), IN_CREATE);
  assert.equal(viaSymlink, direct);
  assert.deepEqual([...direct.paths], [join(root, 'real'), join(root, 'alias')]);
  assert.equal(inotify.watchFor(join(root, 'alias')), direct);

  const file = inotify.watch(join(root, 'real', 'f'), IN_ATTRIB);
  assert.equal(inotify.watch(join(root, 'hardlink'), IN_ATTRIB), file);
  assert.notEqual(file.wd, direct.wd);
  assert.equal(inotify.watches.size, 2);
});

test('events queued before IN_IGNORED are still attributed to the removed watch', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE);
  // All synchronous: the events are queued in the kernel before the removal
  // and have not been read yet.
  writeFileSync(join(dir, 'one'), '');
  writeFileSync(join(dir, 'two'), '');
  inotify.unwatch(watch);
  assert.equal(inotify.watches.get(watch.wd), watch, 'inotify_rm_watch alone does not retire the wd');
  assert.equal(watch.active, true);

  const events = await settled();
  assert.deepEqual(
    events.map((e) => [e.kind, e.name, e.watch === watch, e.path]),
    [
      ['create', 'one', true, join(dir, 'one')],
      ['create', 'two', true, join(dir, 'two')],
      ['ignored', undefined, true, dir],
    ],
  );
  assert.equal(watch.active, false);
  assert.equal(inotify.watches.has(watch.wd), false);
  assert.equal(inotify.watchFor(dir), undefined);

  const again = inotify.watch(dir, IN_CREATE);
  assert.notEqual(again, watch, 'a re-added path gets a fresh Watch');
  assert.notEqual(again.wd, watch.wd);
  assert.equal(again.active, true);
  assert.equal(inotify.watchFor(dir), again);
  writeFileSync(join(dir, 'three'), '');
  assert.equal(only(await settled(), 'create', 'three').watch, again);
});

test('unwatch by wd, by path, twice, or of a stale Watch is harmless', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const first = inotify.watch(dir, IN_CREATE);
  inotify.unwatch(first.wd);
  inotify.unwatch(first.wd);
  inotify.unwatch(dir);
  await settled();
  assert.equal(first.active, false);
  const second = inotify.watch(dir, IN_CREATE);
  inotify.unwatch(first);
  inotify.unwatch(12345);
  inotify.unwatch('/never/watched');
  await settled();
  assert.equal(second.active, true, 'unwatch(staleWatch) did not remove the newer watch');
});
