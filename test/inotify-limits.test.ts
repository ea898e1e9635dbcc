// The kernel's limits, reached for real: a full event queue, the watch and
// instance limits, the descriptor limit, and ten thousand watches at once.
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { Inotify, type InotifyEvent } from '../lib/inotify';
import { IN_ATTRIB, IN_CREATE, IN_Q_OVERFLOW } from '../lib/inotify-flags';
import { describeResult } from './helpers/child-process';
import { barrier, collectUntil, makeDirs, memoryBase, openInotify, runNodeScript, tempDir } from './helpers/inotify-kit';
import { readLimit, rootInotifyUsage, runWithLoweredLimit, userNamespacesWork } from './helpers/inotify-limits';

const QUEUE_LIMIT = '/proc/sys/fs/inotify/max_queued_events';
const WATCH_LIMIT = '/proc/sys/fs/inotify/max_user_watches';
const INSTANCE_LIMIT = '/proc/sys/fs/inotify/max_user_instances';

/** Above this a burst at the current limit takes too long; the test lowers it instead. */
const LARGEST_QUEUE_TO_FILL = 65536;

/**
 * An instance whose kernel queue holds at most the returned number of events.
 * The limit is fixed when an instance is created, so lowering it is needed
 * only for that moment: it is restored at once, before any other process is
 * likely to create an instance.
 */
async function instanceWithSmallQueue(t: TestContext): Promise<{ inotify: Inotify; queueLimit: number }> {
  const current = readLimit(QUEUE_LIMIT);
  if (current <= LARGEST_QUEUE_TO_FILL) return { inotify: await openInotify(t, current), queueLimit: current };
  const lowered = 1024;
  let inotify: Inotify;
  try {
    writeFileSync(QUEUE_LIMIT, String(lowered));
    inotify = new Inotify();
  } finally {
    writeFileSync(QUEUE_LIMIT, String(current));
  }
  t.after(() => inotify.close());
  return { inotify, queueLimit: lowered };
}

test('a kernel queue overflow reaches the consumer as one overflow event with wd -1 and source kernel', async (t) => {
  const { inotify, queueLimit } = await instanceWithSmallQueue(t);
  const dir = tempDir(t);
  const files = [join(dir, 'a'), join(dir, 'b')];
  for (const file of files) writeFileSync(file, '');
  inotify.watch(dir, IN_ATTRIB);
  // Roomy enough that this iterator's own queue cannot be what overflows.
  const iterator = inotify.events({ capacity: queueLimit * 2 });
  const overflowEvents: InotifyEvent[] = [];
  inotify.on('overflow', (event) => overflowEvents.push(event));
  const arrived = collectUntil(inotify, (events) => events.some((e) => e.kind === 'overflow'), 'the overflow');

  // Synchronous, so nothing is read meanwhile. The kernel merges an event
  // identical to the last one queued, so the two names alternate.
  for (let i = 0; i < queueLimit + 100; i++) {
    const file = files[i % 2];
    assert.ok(file !== undefined);
    utimesSync(file, i, i);
  }
  const events = await arrived;

  const overflow = events.at(-1);
  assert.ok(overflow !== undefined);
  assert.equal(events.length, queueLimit + 1, 'the queue held exactly max_queued_events, then the overflow');
  assert.equal(overflow.wd, -1);
  assert.equal(overflow.mask, IN_Q_OVERFLOW);
  assert.equal(overflow.kind, 'overflow');
  assert.equal(overflow.overflowSource, 'kernel');
  assert.equal(overflow.watch, undefined);
  assert.equal(overflow.path, undefined);
  assert.deepEqual(overflowEvents, [overflow], "the 'overflow' event fired once");
  let fromIterator: InotifyEvent | undefined;
  for await (const event of iterator) {
    if (event.kind === 'overflow') {
      fromIterator = event;
      break;
    }
  }
  assert.equal(fromIterator, overflow, 'the iterator saw it too');

  const settled = barrier(inotify, t);
  utimesSync(join(dir, 'a'), 1, 1);
  assert.deepEqual((await settled()).map((e) => e.name), ['a'], 'events flow again after the overflow');
});

test("a slow for-await consumer past the iterator's capacity gets an overflow with source queue", async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE);
  const capacity = 4;
  const iterator = inotify.events({ capacity });
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, `f${i}`), '');
  await settled(); // every event has been pushed into the iterator, none consumed

  const first = await iterator.next();
  assert.equal(first.done, false);
  assert.equal(first.value.kind, 'overflow');
  assert.equal(first.value.overflowSource, 'queue');
  assert.equal(first.value.wd, -1);
  const rest: InotifyEvent[] = [];
  inotify.close();
  for await (const event of iterator) rest.push(event);
  assert.ok(rest.length < capacity, `at most capacity - 1 events follow the overflow, got ${rest.length}`);
  assert.ok(rest.every((e) => e.kind === 'create'));
  assert.equal(rest.filter((e) => e.watch === watch).at(-1)?.name, 'f49', 'the newest events are kept');
});

test('10,000 watches on 10,000 directories route every event to its own Watch', async (t) => {
  const count = 10_000;
  const inotify = await openInotify(t, count + 100);
  const root = tempDir(t, 'inotify-10k-', memoryBase());
  const dirs = makeDirs(root, count);
  const watches = dirs.map((dir) => inotify.watch(dir, IN_CREATE));
  assert.equal(inotify.watches.size, count);
  assert.equal(new Set(watches.map((w) => w.wd)).size, count, 'every wd is distinct');

  const arrived = collectUntil(inotify, (events) => events.length >= count, `${count} create events`, 60_000);
  dirs.forEach((dir, i) => writeFileSync(join(dir, `file-${i}`), ''));
  const events = await arrived;

  const seen = new Set<number>();
  for (const event of events) {
    assert.equal(event.kind, 'create');
    const index = Number(event.name?.slice('file-'.length));
    assert.equal(event.watch, watches[index], `${String(event.name)} went to the wrong watch`);
    assert.equal(event.path, join(root, `d${index}`, `file-${index}`));
    seen.add(index);
  }
  assert.equal(seen.size, count, 'each directory reported its own file once');
});

test('the watch limit fails with ENOSPC naming fs.inotify.max_user_watches and its value', async (t) => {
  const namespace = await userNamespacesWork();
  const global = readLimit(WATCH_LIMIT);
  const lowered = namespace ? 5 : rootInotifyUsage().watches + 5;
  if (!namespace) t.after(() => writeFileSync(WATCH_LIMIT, String(global))); // even if the child was killed
  const dirs = makeDirs(tempDir(t), namespace ? 8 : 200);
  const result = await runWithLoweredLimit({
    sysctl: namespace ? '/proc/sys/user/max_inotify_watches' : WATCH_LIMIT,
    value: lowered,
    namespace,
    env: { DIRS: JSON.stringify(dirs) },
    body: `
      const { Inotify } = require(LIB + '/inotify');
      const inotify = new Inotify();
      let added = 0;
      try {
        for (const dir of JSON.parse(process.env.DIRS)) { inotify.watch(dir, ${IN_CREATE}); added++; }
        LIMIT_TEST_RESULT({ added });
      } catch (e) {
        LIMIT_TEST_RESULT({ added, code: e.code, syscall: e.syscall, path: e.path, message: e.message });
      }
      inotify.close();
    `,
  });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { added: number; code?: string; syscall?: string; path?: string; message?: string };
  assert.equal(outcome.code, 'ENOSPC', result.stdout);
  assert.equal(outcome.syscall, 'inotify_add_watch');
  assert.equal(outcome.path, dirs[outcome.added]);
  if (namespace) {
    assert.equal(outcome.added, lowered);
    assert.match(outcome.message ?? '', new RegExp(`fs\\.inotify\\.max_user_watches is ${global} `));
    assert.match(outcome.message ?? '', /this user namespace allows only 5 \(user\.max_inotify_watches\)/);
  } else {
    assert.match(outcome.message ?? '', new RegExp(`fs\\.inotify\\.max_user_watches is ${lowered} `));
  }
  assert.equal(readLimit(WATCH_LIMIT), global, 'the global limit is what it was');
});

test('the instance limit fails with EMFILE naming fs.inotify.max_user_instances and its value', async (t) => {
  const namespace = await userNamespacesWork();
  const global = readLimit(INSTANCE_LIMIT);
  const lowered = namespace ? 2 : rootInotifyUsage().instances + 2;
  if (!namespace) t.after(() => writeFileSync(INSTANCE_LIMIT, String(global)));
  const result = await runWithLoweredLimit({
    sysctl: namespace ? '/proc/sys/user/max_inotify_instances' : INSTANCE_LIMIT,
    value: lowered,
    namespace,
    body: `
      const { Inotify } = require(LIB + '/inotify');
      const open = [];
      try {
        for (let i = 0; i < 1000; i++) open.push(new Inotify());
        LIMIT_TEST_RESULT({ opened: open.length });
      } catch (e) {
        LIMIT_TEST_RESULT({ opened: open.length, code: e.code, syscall: e.syscall, message: e.message });
      }
      for (const inotify of open) inotify.close();
    `,
  });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { opened: number; code?: string; syscall?: string; message?: string };
  assert.equal(outcome.code, 'EMFILE', result.stdout);
  assert.equal(outcome.syscall, 'inotify_init1');
  assert.match(outcome.message ?? '', /every one is in use/);
  if (namespace) {
    assert.equal(outcome.opened, lowered);
    assert.match(outcome.message ?? '', new RegExp(`fs\\.inotify\\.max_user_instances is ${global} `));
    assert.match(outcome.message ?? '', /user\.max_inotify_instances/);
  } else {
    assert.match(outcome.message ?? '', new RegExp(`fs\\.inotify\\.max_user_instances is ${lowered} `));
  }
  assert.equal(readLimit(INSTANCE_LIMIT), global);
});

test('running out of file descriptors fails with EMFILE naming RLIMIT_NOFILE instead', async () => {
  // The descriptor limit is per process: lowering it for a child disturbs nobody.
  const script = `
    const fs = require('fs');
    const { Inotify } = require(LIB + '/inotify');
    // The addon is loaded on first use, and loading it takes descriptors too.
    new Inotify().close();
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {}
    let outcome;
    try { new Inotify().close(); outcome = { code: null }; } catch (e) { outcome = { code: e.code, message: e.message }; }
    // Printing needs descriptors of its own.
    for (const fd of held) fs.closeSync(fd);
    console.log(JSON.stringify(outcome));
  `;
  const result = await runNodeScript(script, { wrapper: ['prlimit', '--nofile=64:64', '--'] });
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { code: string | null; message?: string };
  assert.equal(outcome.code, 'EMFILE');
  assert.match(outcome.message ?? '', /RLIMIT_NOFILE, ulimit -n/);
});
