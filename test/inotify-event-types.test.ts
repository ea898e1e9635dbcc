// InotifyEvent is a union narrowed by `kind`, and these tests hold it to what
// the kernel sends.
//
// The type-level half is checked by the compiler: every line here must
// compile except those marked `@ts-expect-error`, which must stay errors, or
// `tsc` fails and with it `npm test`. The runtime half makes the kernel send
// every kind and checks each event against the shape its type promises.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspect } from 'node:util';

import type {
  InotifyEvent,
  InotifyFileEvent,
  InotifyNameEvent,
  InotifyOverflowEvent,
  InotifySelfEvent,
  InotifyWatchEvent,
  Watch,
} from '../lib/index';
import { IN_ALL_EVENTS, IN_CREATE, IN_ISDIR, type InotifyEventKind } from '../lib/inotify-flags';
import { barrier, describeEvents, openInotify, tempDir } from './helpers/inotify-kit';

// ---- Type level: what narrowing gives, and what it refuses ----------------

/** Compiles only if A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The union covers every kind, and no kind is in two members. */
const everyKindHasAMember: Same<InotifyEvent['kind'], InotifyEventKind> = true;
const kindsAreDisjoint: Same<
  | (InotifyNameEvent['kind'] & InotifyFileEvent['kind'])
  | (InotifyNameEvent['kind'] & InotifySelfEvent['kind'])
  | (InotifyFileEvent['kind'] & InotifySelfEvent['kind'])
  | (InotifyOverflowEvent['kind'] & InotifyWatchEvent['kind']),
  never
> = true;

/** What a newcomer writes first, and what each branch lets them read. */
export function readsAfterNarrowing(event: InotifyEvent): string {
  if (event.kind === 'overflow') {
    const source: 'kernel' | 'queue' = event.overflowSource;
    const wd: -1 = event.wd;
    const none: undefined = event.watch ?? event.path ?? event.name ?? event.rawName;
    return `${source} ${wd} ${String(none)}`;
  }
  // Every other event belongs to a watch and has a path...
  const watch: Watch = event.watch;
  const path: string = event.path;
  // ...but not necessarily a name: a file watch's events have none.
  // @ts-expect-error name may be undefined
  const unchecked: string = event.name;
  if (event.name !== undefined) {
    const name: string = event.name;
    return `${watch.path} ${path} ${name} ${unchecked}`;
  }
  return path;
}

/** Each kind's member, as a switch sees it. */
export function readsByKind(event: InotifyEvent): string {
  switch (event.kind) {
    case 'create':
    case 'delete':
    case 'moved_from':
    case 'moved_to': {
      // A name inside a watched directory: always there.
      const name: string = event.name;
      return `${name} ${event.cookie}`;
    }
    case 'access':
    case 'modify':
    case 'attrib':
    case 'open':
    case 'close_write':
    case 'close_nowrite': {
      // @ts-expect-error the watched file (or directory) itself has no name
      const name: string = event.name;
      return `${name} ${event.path}`;
    }
    case 'delete_self':
    case 'move_self':
    case 'unmount':
    case 'ignored': {
      const name: undefined = event.name;
      const rawName: undefined = event.rawName;
      // @ts-expect-error the watched inode itself never has a name
      event.name.length;
      return `${String(name ?? rawName)} ${event.watch.wd}`;
    }
    case 'overflow':
      return event.overflowSource;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** What is refused before narrowing. */
export function refusedBeforeNarrowing(event: InotifyEvent): unknown[] {
  return [
    // @ts-expect-error an overflow event has no watch
    event.watch.path,
    // @ts-expect-error an overflow event has no path
    event.path.length,
    // @ts-expect-error not every event has a name
    event.name.length,
    // @ts-expect-error only overflow events are sure to have an overflowSource
    ((source: 'kernel' | 'queue') => source)(event.overflowSource),
    // Reading overflowSource is allowed on any event, and narrows to overflow.
    event.overflowSource === 'queue' ? ((overflow: InotifyOverflowEvent) => overflow.wd)(event) : undefined,
  ];
}

/** Fields are read-only. */
export function refusesWrites(event: InotifyNameEvent): void {
  // @ts-expect-error readonly
  event.name = 'other';
  // @ts-expect-error readonly
  event.kind = 'delete';
}

// ---- Runtime: the kernel's events have the shapes their types promise -----

const NAME_KINDS: ReadonlySet<string> = new Set<InotifyNameEvent['kind']>(['create', 'delete', 'moved_from', 'moved_to']);
const FILE_KINDS: ReadonlySet<string> = new Set<InotifyFileEvent['kind']>([
  'access', 'modify', 'attrib', 'open', 'close_write', 'close_nowrite',
]);
const SELF_KINDS: ReadonlySet<string> = new Set<InotifySelfEvent['kind']>(['delete_self', 'move_self', 'unmount', 'ignored']);

/** Fails unless `event` has exactly the shape the union member for its kind describes. */
function assertShape(event: InotifyEvent): void {
  const label = describeEvents([event]);
  assert.equal(event.kinds[0], event.kind, label);
  assert.equal(event.isDir, (event.mask & IN_ISDIR) !== 0, label);
  if (event.kind === 'overflow') {
    assert.equal(event.wd, -1, label);
    assert.equal(event.watch, undefined, label);
    assert.equal(event.path, undefined, label);
    assert.equal(event.name, undefined, label);
    assert.equal(event.rawName, undefined, label);
    assert.ok(event.overflowSource === 'kernel' || event.overflowSource === 'queue', label);
    return;
  }
  assert.equal(event.overflowSource, undefined, label);
  assert.equal(event.wd, event.watch.wd, label);
  if (SELF_KINDS.has(event.kind) || (FILE_KINDS.has(event.kind) && event.name === undefined)) {
    assert.equal(event.name, undefined, label);
    assert.equal(event.rawName, undefined, label);
    assert.equal(event.path, event.watch.path, label);
    return;
  }
  assert.ok(NAME_KINDS.has(event.kind) || FILE_KINDS.has(event.kind), label);
  assert.equal(typeof event.name, 'string', label);
  assert.notEqual(event.name, '', label);
  assert.equal(event.path, join(event.watch.path, event.name ?? ''), label);
}

function kindsOf(events: readonly InotifyEvent[]): Set<InotifyEventKind> {
  return new Set(events.map((e) => e.kind));
}

test("a file watch's events carry no name, and their path is the watched file's", async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const file = join(tempDir(t), 'app.conf');
  writeFileSync(file, 'a');
  const watch = inotify.watch(file, IN_ALL_EVENTS);
  writeFileSync(file, 'b');
  readFileSync(file);
  chmodSync(file, 0o600);
  const events = await settled();

  for (const event of events) assertShape(event);
  assert.deepEqual(
    [...kindsOf(events)].sort(),
    ['access', 'attrib', 'close_nowrite', 'close_write', 'modify', 'open'],
    describeEvents(events),
  );
  assert.ok(events.every((e) => e.name === undefined && e.path === file && e.watch === watch), describeEvents(events));
});

test("a directory watch names each entry's events, and not the directory's own", async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_ALL_EVENTS);
  writeFileSync(join(dir, 'a'), 'x');
  readFileSync(join(dir, 'a'));
  chmodSync(join(dir, 'a'), 0o600);
  renameSync(join(dir, 'a'), join(dir, 'b'));
  mkdirSync(join(dir, 'sub'));
  unlinkSync(join(dir, 'b'));
  readdirSync(dir);
  chmodSync(dir, 0o700);
  const events = await settled();

  for (const event of events) assertShape(event);
  const named = events.filter((e) => e.name !== undefined);
  const own = events.filter((e) => e.name === undefined);
  assert.deepEqual(
    [...kindsOf(named)].sort(),
    ['access', 'attrib', 'close_nowrite', 'close_write', 'create', 'delete', 'modify', 'moved_from', 'moved_to', 'open'],
    describeEvents(named),
  );
  // The directory itself was listed and changed: no name, its own path, IN_ISDIR.
  assert.deepEqual([...kindsOf(own)].sort(), ['access', 'attrib', 'close_nowrite', 'open'], describeEvents(own));
  assert.ok(own.every((e) => e.path === dir && e.isDir), describeEvents(own));
  const sub = events.find((e) => e.kind === 'create' && e.name === 'sub');
  assert.equal(sub?.isDir, true);
  assert.equal(sub?.path, join(dir, 'sub'));
});

test('events about the watched inode itself (delete_self, move_self, ignored) carry no name', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const root = tempDir(t);
  mkdirSync(join(root, 'moved'));
  mkdirSync(join(root, 'deleted'));
  const moved = inotify.watch(join(root, 'moved'), IN_ALL_EVENTS);
  const deleted = inotify.watch(join(root, 'deleted'), IN_ALL_EVENTS);
  renameSync(join(root, 'moved'), join(root, 'elsewhere'));
  rmdirSync(join(root, 'deleted'));
  const events = await settled();

  for (const event of events) assertShape(event);
  const self = events.filter((e) => e.kind === 'move_self' || e.kind === 'delete_self' || e.kind === 'ignored');
  assert.deepEqual(
    self.map((e) => [e.kind, e.watch?.wd, e.name, e.path]),
    [
      ['move_self', moved.wd, undefined, join(root, 'moved')],
      ['delete_self', deleted.wd, undefined, join(root, 'deleted')],
      ['ignored', deleted.wd, undefined, join(root, 'deleted')],
    ],
    describeEvents(events),
  );
});

test('an unmounted filesystem reports unmount, then ignored, without a name', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const mountPoint = tempDir(t);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    t.skip(`cannot mount a tmpfs here (needs CAP_SYS_ADMIN): ${String(error)}`);
    return;
  }
  let mounted = true;
  t.after(() => {
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
  });
  writeFileSync(join(mountPoint, 'f'), '');
  const watch = inotify.watch(join(mountPoint, 'f'), IN_ALL_EVENTS);
  execFileSync('umount', [mountPoint]);
  mounted = false;
  const events = await settled();

  for (const event of events) assertShape(event);
  assert.deepEqual(
    events.map((e) => [e.kind, e.watch?.wd, e.name, e.path]),
    [
      ['unmount', watch.wd, undefined, join(mountPoint, 'f')],
      ['ignored', watch.wd, undefined, join(mountPoint, 'f')],
    ],
    describeEvents(events),
  );
});

test("an overflow from the iterator's queue has wd -1, no watch, no path, and source queue", async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE);
  const iterator = inotify.events({ capacity: 1 });
  for (const name of ['a', 'b', 'c']) closeSync(openSync(join(dir, name), 'w'));
  await settled();

  const first = await iterator.next();
  assert.equal(first.done, false);
  const overflow = first.value;
  assertShape(overflow);
  assert.equal(overflow.kind, 'overflow');
  assert.equal(overflow.overflowSource, 'queue');
  await iterator.return?.();
});

test("an event's kinds, isDir and path, computed when first read, are the same on every read, in JSON and in inspect()", async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE);
  mkdirSync(join(dir, 'conf.d'));
  const [event] = await settled();

  assert.ok(event !== undefined && event.kind === 'create');
  assert.equal(event.path, join(dir, 'conf.d'));
  assert.equal(event.path, event.path);
  assert.equal(event.kinds, event.kinds, 'one frozen array, not a new one per read');
  assert.equal(event.isDir, true);
  const fields = {
    wd: watch.wd,
    mask: IN_CREATE | IN_ISDIR,
    cookie: 0,
    kind: 'create',
    kinds: ['create'],
    isDir: true,
    name: 'conf.d',
    rawName: undefined,
    watch,
    path: join(dir, 'conf.d'),
  };
  assert.equal(JSON.stringify(event), JSON.stringify(fields));
  assert.equal(inspect(event, { depth: 0 }), inspect(fields, { depth: 0 }));
});

// Referenced so that the compiler keeps checking them.
void everyKindHasAMember;
void kindsAreDisjoint;
