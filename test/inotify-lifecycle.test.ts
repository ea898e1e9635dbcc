// Every way an instance can end: close(), a Worker terminated or exiting
// with live watches, a process exiting with them, the garbage collector,
// unref(), an exception from a listener, an aborted or finished iterator.
// Processes that might crash run as children, so a crash is a clear failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Inotify, type Watch } from '../lib/inotify';
import { IN_CREATE } from '../lib/inotify-flags';
import { describeResult } from './helpers/child-process';
import { barrier, DIST_LIB, openInotify, runNodeScript, tempDir } from './helpers/inotify-kit';

const WORKER_ROUNDS = `
  const { Worker } = require('worker_threads');
  const fs = require('fs');
  const path = require('path');
  const dir = process.env.DIR;
  const inotifyFds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
    try { return fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:inotify'; } catch { return false; }
  }).length;
  const allFds = () => fs.readdirSync('/proc/self/fd').length;

  // In the Worker: watches, a listener, a for-await loop, and events it makes itself.
  const workerSource = \`
    const { parentPort, workerData } = require('worker_threads');
    const fs = require('fs');
    const { Inotify } = require(workerData.lib + '/inotify');
    const inotify = new Inotify();
    inotify.watch(workerData.dir, 0xfff);
    let seen = 0;
    inotify.on('event', () => { seen++; });
    (async () => { for await (const event of inotify.events()) {} })();
    if (workerData.mode === 'end') {
      inotify.unref(); // nothing else keeps the Worker alive: it ends with the watch open
    } else {
      setInterval(() => fs.writeFileSync(workerData.dir + '/from-worker', String(seen)), 1);
    }
    if (workerData.mode === 'exit') inotify.once('event', () => process.exit(0));
    parentPort.postMessage(inotify.fd);
  \`;

  async function round(mode) {
    const worker = new Worker(workerSource, { eval: true, workerData: { lib: LIB, dir, mode } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    // A flood from this thread too, so the Worker's poll is firing as it goes.
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(dir, 'f' + (i % 7)), String(i));
    if (mode === 'terminate') await worker.terminate();
    await exited;
  }

  (async () => {
    await round('terminate'); // warm-up: the first Worker loads what later ones reuse
    const before = { inotify: inotifyFds(), all: allFds() };
    const modes = ['terminate', 'exit', 'end'];
    for (let i = 0; i < 30; i++) await round(modes[i % modes.length]);
    const after = { inotify: inotifyFds(), all: allFds() };
    // A second round in the same process still works end to end.
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify();
    inotify.watch(dir, 0x100);
    const event = new Promise((resolve) => inotify.once('event', resolve));
    fs.writeFileSync(path.join(dir, 'after-workers'), '');
    const { name } = await event;
    inotify.close();
    console.log(JSON.stringify({ before, after, name }));
  })();
`;

test('Workers terminated or exiting with live watches neither crash the process nor leak descriptors', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(WORKER_ROUNDS, { env: { ...process.env, DIR: dir }, timeoutMs: 60_000 });
  assert.equal(result.code, 0, describeResult(result));
  assert.equal(result.stderr, '');
  const { before, after, name } = JSON.parse(result.stdout) as {
    before: { inotify: number; all: number };
    after: { inotify: number; all: number };
    name: string;
  };
  assert.equal(after.inotify, before.inotify, 'every Worker closed its inotify descriptor');
  assert.equal(after.all, before.all, 'no descriptor of any kind was left behind');
  assert.equal(name, 'after-workers');
});

test('a process that calls process.exit() with live watches and events in flight exits 0', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const fs = require('fs');
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify();
    inotify.watch(process.env.DIR, 0xfff);
    inotify.events();
    inotify.on('event', (event) => {
      for (let i = 0; i < 100; i++) fs.writeFileSync(process.env.DIR + '/more' + i, '');
      process.exit(0);
    });
    fs.writeFileSync(process.env.DIR + '/first', '');
    `,
    { env: { ...process.env, DIR: dir } },
  );
  assert.equal(result.code, 0, describeResult(result));
  assert.equal(result.signal, null);
  assert.equal(result.stderr, '');
});

test('under --expose-gc, instances created and closed while events flow are collected and leak nothing', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const fs = require('fs');
    const path = require('path');
    const { Inotify } = require(LIB + '/inotify');
    const dir = process.env.DIR;
    const inotifyFds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
      try { return fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:inotify'; } catch { return false; }
    }).length;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const before = inotifyFds();
    let collected = 0;
    const registry = new FinalizationRegistry(() => { collected++; });

    // One long-lived instance keeps receiving events throughout.
    const steady = new Inotify();
    steady.watch(dir, 0x100 | 0x2);
    let steadyEvents = 0;
    steady.on('event', () => { steadyEvents++; });

    (async () => {
      const rounds = 200;
      for (let i = 0; i < rounds; i++) {
        const inotify = new Inotify();
        registry.register(inotify, i);
        inotify.watch(dir, 0x100);
        const got = new Promise((resolve) => inotify.once('event', resolve));
        fs.writeFileSync(path.join(dir, 'f' + i), '');
        await got;
        inotify.close();
        if (i % 10 === 0) gc();
      }
      for (let i = 0; i < 100 && collected < rounds; i++) { gc(); await tick(); }
      const lastSeen = steadyEvents;
      fs.writeFileSync(path.join(dir, 'last'), '');
      while (steadyEvents === lastSeen) await tick();
      const open = inotifyFds();
      steady.close();
      // The descriptor is closed in libuv's close callback, later in this loop iteration.
      for (let i = 0; i < 100 && inotifyFds() > before; i++) await tick();
      console.log(JSON.stringify({ rounds, collected, steadyEvents, extraFds: open - before, leftFds: inotifyFds() - before }));
    })();
    `,
    { env: { ...process.env, DIR: dir }, execArgv: ['--expose-gc'], timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as {
    rounds: number;
    collected: number;
    steadyEvents: number;
    extraFds: number;
    leftFds: number;
  };
  assert.ok(outcome.collected >= outcome.rounds * 0.9, `only ${outcome.collected} of ${outcome.rounds} closed instances were collected`);
  assert.ok(outcome.steadyEvents > outcome.rounds, 'the long-lived instance saw every round');
  assert.equal(outcome.extraFds, 1, 'only the long-lived instance is open at the end');
  assert.equal(outcome.leftFds, 0);
});

test('unref() lets a process exit while watching', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify().unref();
    inotify.watch(process.env.DIR, 0xfff);
    const unrefByOption = new Inotify({ ref: false });
    unrefByOption.watch(process.env.DIR, 0xfff);
    console.log('watching');
    `,
    { env: { ...process.env, DIR: dir }, timeoutMs: 10_000 },
  );
  assert.equal(result.code, 0, describeResult(result));
  assert.equal(result.signal, null, 'it exited by itself, not by the timeout');
  assert.equal(result.stdout, 'watching\n');
});

test('ref() after unref() keeps the process alive until an event arrives', async (t) => {
  const dir = tempDir(t);
  // The parent creates the file only after "ready": if ref() did not hold the
  // loop open, the child would already have exited without seeing it.
  const script = `
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify().unref().ref();
    inotify.watch(process.env.DIR, 0x100);
    inotify.on('event', (event) => { console.log('event ' + event.name); inotify.close(); });
    console.log('ready');
  `;
  const child = spawn(process.execPath, ['-e', `const LIB = ${JSON.stringify(DIST_LIB)};\n${script}`], {
    env: { ...process.env, DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve();
    });
  });
  writeFileSync(join(dir, 'kept-alive'), '');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.equal(stdout, 'ready\nevent kept-alive\n');
});

test('close() twice is safe; after it fd is -1, watch() throws EBADF and unwatch() is a no-op', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  const watch = inotify.watch(dir, IN_CREATE);
  assert.ok(inotify.fd >= 0);
  let closes = 0;
  inotify.on('close', () => closes++);
  inotify.close();
  inotify.close();
  assert.equal(closes, 1);
  assert.equal(inotify.closed, true);
  assert.equal(inotify.fd, -1);
  assert.equal(watch.active, false);
  assert.equal(inotify.watches.size, 0);
  assert.throws(() => inotify.watch(dir, IN_CREATE), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'EBADF');
    assert.equal(error.syscall, 'inotify_add_watch');
    assert.equal(error.path, dir);
    assert.match(error.message, /closed/);
    return true;
  });
  inotify.unwatch(watch);
  inotify.unref().ref();
  assert.deepEqual(await inotify.events().next(), { value: undefined, done: true });
});

test('a `using` declaration closes the instance, and its watches, when the block ends', async (t) => {
  const dir = tempDir(t);
  let escaped: Inotify | undefined;
  let watch: Watch | undefined;
  {
    using inotify = new Inotify();
    escaped = inotify;
    watch = inotify.watch(dir, IN_CREATE);
    assert.equal(inotify.closed, false);
  }
  assert.equal(escaped.closed, true);
  assert.equal(escaped.fd, -1);
  assert.equal(watch?.active, false);
});

test('Symbol.dispose is Node\'s own, and calling it closes an Inotify and a ProcessHandle as close() does', async (t) => {
  // Node 20.4 and later define Symbol.dispose even where their JavaScript
  // rejects `using`: TypeScript's compiled `using` looks it up at run time,
  // and plain JavaScript can call it by hand. A child process in plain
  // JavaScript, so that nothing this test process loaded can have supplied it.
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const { Inotify, openProcess, readProcess } = require(LIB + '/index');
    const inotify = new Inotify();
    const watch = inotify.watch(process.env.DIR, 0x100);
    const handle = openProcess(readProcess(process.pid));
    const found = { symbol: typeof Symbol.dispose, inotify: typeof inotify[Symbol.dispose], handle: typeof handle[Symbol.dispose] };
    inotify[Symbol.dispose]();
    handle[Symbol.dispose]();
    console.log(JSON.stringify({ found, closed: inotify.closed, fd: inotify.fd, active: watch.active, handleClosed: handle.closed, pidfd: handle.pidfd }));
    `,
    { env: { ...process.env, DIR: dir } },
  );
  assert.equal(result.code, 0, describeResult(result));
  assert.deepEqual(JSON.parse(result.stdout), {
    found: { symbol: 'symbol', inotify: 'function', handle: 'function' },
    closed: true,
    fd: -1,
    active: false,
    handleClosed: true,
    pidfd: -1,
  });
});

test('an exception thrown in an event listener surfaces as uncaughtException; other listeners still get every event', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const fs = require('fs');
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify();
    inotify.watch(process.env.DIR, 0x100);
    const uncaught = [];
    const seen = [];
    process.on('uncaughtException', (error) => {
      uncaught.push(error.message);
      if (uncaught.length === 3) setImmediate(() => {
        console.log(JSON.stringify({ uncaught, seen }));
        inotify.close();
      });
    });
    inotify.on('event', (event) => { throw new Error('listener failed on ' + event.name); });
    inotify.on('event', (event) => { seen.push(event.name); });
    for (const name of ['a', 'b', 'c']) fs.writeFileSync(process.env.DIR + '/' + name, '');
    `,
    { env: { ...process.env, DIR: dir } },
  );
  assert.equal(result.code, 0, describeResult(result));
  const outcome = JSON.parse(result.stdout) as { uncaught: string[]; seen: string[] };
  assert.deepEqual(outcome.uncaught, ['listener failed on a', 'listener failed on b', 'listener failed on c']);
  assert.deepEqual(outcome.seen, ['a', 'b', 'c']);
});

test('without an uncaughtException handler, a throwing listener crashes the process with its error', async (t) => {
  const dir = tempDir(t);
  const result = await runNodeScript(
    `
    const fs = require('fs');
    const { Inotify } = require(LIB + '/inotify');
    const inotify = new Inotify();
    inotify.watch(process.env.DIR, 0x100);
    inotify.on('event', (event) => { throw new Error('not swallowed: ' + event.name); });
    fs.writeFileSync(process.env.DIR + '/x', '');
    `,
    { env: { ...process.env, DIR: dir } },
  );
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stderr, /Error: not swallowed: x/);
});

test('for await with an AbortSignal rejects with AbortError and removes every listener', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE);
  const baseline = inotify.eventNames().map((name) => [name, inotify.listenerCount(name)]);
  const controller = new AbortController();
  const seen: string[] = [];
  const loop = (async () => {
    for await (const event of inotify.events({ signal: controller.signal })) {
      if (event.name !== undefined && !event.name.startsWith('marker')) seen.push(event.name);
    }
  })();
  assert.ok(inotify.listenerCount('batch') > 0);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  writeFileSync(join(dir, 'before-abort'), '');
  await settled();
  controller.abort(new Error('shutting down'));
  await assert.rejects(loop, (error: Error) => {
    assert.equal(error.name, 'AbortError');
    assert.equal((error as NodeJS.ErrnoException).code, 'ABORT_ERR');
    assert.equal((error.cause as Error).message, 'shutting down');
    return true;
  });
  assert.deepEqual(seen, ['before-abort']);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  assert.deepEqual(inotify.eventNames().map((name) => [name, inotify.listenerCount(name)]), baseline);

  await assert.rejects(inotify.events({ signal: controller.signal }).next(), { name: 'AbortError' });
  assert.throws(() => inotify.events({ capacity: 0 }), { name: 'RangeError', message: /capacity must be a positive integer/ });
});

test('breaking out of for await detaches the iterator', async (t) => {
  const inotify = await openInotify(t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE);
  const before = inotify.listenerCount('batch');
  writeFileSync(join(dir, 'one'), '');
  for await (const event of inotify.events()) {
    assert.equal(event.name, 'one');
    break;
  }
  assert.equal(inotify.listenerCount('batch'), before);
  assert.equal(inotify.listenerCount('close'), 0);
  assert.equal(inotify.listenerCount('error'), 0);
});

test('the iterator yields what was queued, then ends when the instance closes', async (t) => {
  const inotify = await openInotify(t);
  const settled = barrier(inotify, t);
  const dir = tempDir(t);
  inotify.watch(dir, IN_CREATE);
  const iterator = inotify.events();
  writeFileSync(join(dir, 'queued'), '');
  await settled();
  const ending = (async () => {
    const names: string[] = [];
    for await (const event of iterator) if (event.name === 'queued' || event.name === 'late') names.push(event.name);
    return names;
  })();
  inotify.close();
  assert.deepEqual(await ending, ['queued']);
  assert.equal(inotify.listenerCount('batch'), 0);
});
