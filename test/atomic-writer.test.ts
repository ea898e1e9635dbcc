// The AtomicWriter replay, checked against the real kernel: an inotify watch
// on the volume root (not recursive, as a sidecar watches it) must see what a
// watcher of a real kubelet volume sees.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import type { InotifyEvent } from '../lib/inotify';
import {
  AtomicWriter, configMapPayload, DATA_LINK, DATA_TMP_LINK, isTimestampDirName, kubeletTimestampDirName, projectedPayload,
  secretPayload, setVolumeOwnership, setVolumeOwnershipSync, validatePayload, type AtomicWriterOptions, type StagedWrite,
  type WriteResult, type WriterPhase, type WriterStep,
} from '../lib/testing';
import { describeEvent, EventRecorder, isModifying } from './helpers/event-recorder';

async function volume(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function recorder(t: TestContext, dir: string): Promise<EventRecorder> {
  const events = await EventRecorder.open(dir);
  t.after(() => events.close());
  return events;
}

/** Names timestamped directories ..v1, ..v2, ... so expected events can name them. */
function numberedDirs(): Pick<AtomicWriterOptions, 'timestampDirName'> {
  let next = 0;
  return { timestampDirName: () => `..v${++next}` };
}

function modifying(events: readonly InotifyEvent[]): string[] {
  return events.filter(isModifying).map(describeEvent);
}

function assertOneRename(events: readonly InotifyEvent[]): void {
  const from = events.filter((event) => event.kind === 'moved_from');
  const to = events.filter((event) => event.kind === 'moved_to');
  assert.equal(from.length, 1);
  assert.equal(to.length, 1);
  assert.equal(from[0]?.name, DATA_TMP_LINK);
  assert.equal(to[0]?.name, DATA_LINK);
  assert.notEqual(from[0]?.cookie, 0);
  assert.equal(from[0]?.cookie, to[0]?.cookie, 'moved_from and moved_to share one cookie');
}

/** The phases a write went through, consecutive repeats folded. */
function phases(steps: readonly { phase: WriterPhase; mutates: boolean }[]): WriterPhase[] {
  const order: WriterPhase[] = [];
  for (const step of steps) if (order.at(-1) !== step.phase) order.push(step.phase);
  return order;
}

test('the first write creates the data dir, swaps ..data in, then links the visible names', async (t) => {
  const dir = await volume(t);
  const events = await recorder(t, dir);
  const writer = new AtomicWriter(dir, numberedDirs());

  const seen = await events.during(() => writer.write(configMapPayload({ 'app.conf': 'v1' })));

  assert.deepEqual(modifying(seen), [
    'create dir ..v1', 'attrib dir ..v1', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'create app.conf',
  ]);
  assertOneRename(seen);
  assert.equal(await readlink(join(dir, DATA_LINK)), '..v1');
  assert.equal(await readlink(join(dir, 'app.conf')), '..data/app.conf');
  assert.equal(await readFile(join(dir, 'app.conf'), 'utf8'), 'v1');
  assert.equal((await stat(join(dir, '..v1'))).mode & 0o7777, 0o755);
});

test('an update creates a new dir, swaps ..data with one cookie, then deletes the old dir', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  const events = await recorder(t, dir);

  const seen = await events.during(() => writer.write(configMapPayload({ 'app.conf': 'v2' })));

  assert.deepEqual(modifying(seen), [
    'create dir ..v2', 'attrib dir ..v2', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'delete dir ..v1',
  ]);
  assertOneRename(seen);
  assert.equal(await readFile(join(dir, 'app.conf'), 'utf8'), 'v2');
  assert.deepEqual((await readdir(dir)).sort(), ['..data', '..v2', 'app.conf']);
});

test('a no-op resync only reads: no modifying event, no mutating step', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  await writer.write(configMapPayload({ 'app.conf': 'v1', 'other.conf': 'x' }));
  const events = await recorder(t, dir);

  let result: Awaited<ReturnType<AtomicWriter['resync']>> | undefined;
  const seen = await events.during(async () => {
    result = await writer.resync();
  });

  assert.equal(result?.changed, false);
  assert.deepEqual(result?.steps.filter((step) => step.mutates), []);
  assert.ok(result?.steps.some((step) => step.op === 'readFile'), 'the resync compared the content');
  assert.deepEqual(modifying(seen), []);
  // The comparison's readdir of the data dir is visible as reads.
  assert.ok(seen.length > 0, 'the watch saw the resync read the data directory');
  for (const event of seen) assert.ok(['open', 'access', 'close_nowrite'].includes(event.kind), describeEvent(event));
  assert.equal(await readlink(join(dir, DATA_LINK)), '..v1');
});

test('readers see the old content until the rename and the new content right after it', async (t) => {
  const dir = await volume(t);
  const reads: Array<[WriterPhase, string]> = [];
  let watching = false;
  const writer = new AtomicWriter(dir, {
    ...numberedDirs(),
    beforeStep: async (step) => {
      if (watching && (step.phase === 'swap' || step.phase === 'visible-links')) {
        reads.push([step.phase, await readFile(join(dir, 'app.conf'), 'utf8')]);
      }
    },
  });
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  watching = true;

  await writer.write(configMapPayload({ 'app.conf': 'v2' }));

  assert.deepEqual(reads, [['swap', 'v1'], ['visible-links', 'v2']]);
});

test('nested keys are linked once, by their top-level directory, and update through ..data', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  const items = [
    { key: 'site', path: 'conf.d/site.conf' },
    { key: 'extra', path: 'conf.d/extra.conf' },
    { key: 'main', path: 'nginx.conf' },
  ];
  const first = await writer.write(configMapPayload({ site: 's1', extra: 'e1', main: 'm1' }, { items }));
  assert.deepEqual(first.linked, ['conf.d', 'nginx.conf']);
  assert.equal(await readlink(join(dir, 'conf.d')), '..data/conf.d');
  const events = await recorder(t, dir);

  const seen = await events.during(() => writer.write(configMapPayload({ site: 's2', extra: 'e1', main: 'm1' }, { items })));

  assert.deepEqual(modifying(seen), [
    'create dir ..v2', 'attrib dir ..v2', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'delete dir ..v1',
  ]);
  assert.equal(await readFile(join(dir, 'conf.d', 'site.conf'), 'utf8'), 's2');
  assert.equal(await readFile(join(dir, 'conf.d', 'extra.conf'), 'utf8'), 'e1');
});

test('names removed from the payload disappear after the swap, before the old dir goes', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  await writer.write({ 'a.conf': { data: 'a', mode: 0o644 }, 'b.conf': { data: 'b', mode: 0o644 }, 'sub/x.conf': { data: 'x', mode: 0o644 } });
  const events = await recorder(t, dir);

  let removed: readonly string[] = [];
  const seen = await events.during(async () => {
    removed = (await writer.write({ 'a.conf': { data: 'a', mode: 0o644 } })).removed;
  });

  assert.deepEqual([...removed].sort(), ['b.conf', 'sub', 'sub/x.conf']);
  assert.deepEqual(modifying(seen), [
    'create dir ..v2', 'attrib dir ..v2', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`,
    'delete b.conf', 'delete sub', 'delete dir ..v1',
  ]);
  await assert.rejects(lstat(join(dir, 'b.conf')), { code: 'ENOENT' });
  await assert.rejects(lstat(join(dir, 'sub')), { code: 'ENOENT' });
});

test('an fsGroup walk sends IN_ATTRIB for the whole volume, old content included, before the swap', async (t) => {
  const dir = await volume(t);
  const naming = numberedDirs();
  await new AtomicWriter(dir, naming).write(configMapPayload({ 'app.conf': 'v1' }));
  const writer = new AtomicWriter(dir, { ...naming, fsGroup: 4321 });
  const events = await recorder(t, dir);

  const seen = await events.during(() => writer.write(configMapPayload({ 'app.conf': 'v2' })));

  const described = modifying(seen);
  const tmpLinked = described.indexOf(`create ${DATA_TMP_LINK}`);
  const attribs = described.filter((entry) => entry.startsWith('attrib'));
  for (const expected of ['attrib dir .', 'attrib dir ..v1', 'attrib dir ..v2', `attrib ${DATA_LINK}`, 'attrib app.conf']) {
    assert.ok(attribs.includes(expected), `expected "${expected}" among ${JSON.stringify(attribs)}`);
  }
  assert.ok(described.lastIndexOf('attrib app.conf') < tmpLinked, 'the walk runs before ..data_tmp is linked');
  assertOneRename(seen);
  const file = await stat(join(dir, 'app.conf'));
  assert.equal(file.gid, 4321);
  assert.equal(file.mode & 0o7777, 0o644 | 0o440);
  const dataDir = await stat(join(dir, '..v2'));
  assert.equal(dataDir.mode & 0o7777, 0o755 | 0o2000 | 0o110);
});

test('legacy order links a new name before the swap; the current order after it', async (t) => {
  for (const legacyOrder of [true, false]) {
    const dir = await volume(t);
    const writer = new AtomicWriter(dir, { ...numberedDirs(), legacyOrder });
    await writer.write(configMapPayload({ 'a.conf': 'a' }));
    const events = await recorder(t, dir);

    const seen = modifying(await events.during(() => writer.write(configMapPayload({ 'a.conf': 'a', 'b.conf': 'b' }))));

    const expected = legacyOrder
      ? ['create dir ..v2', 'attrib dir ..v2', 'create b.conf', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'delete dir ..v1']
      : ['create dir ..v2', 'attrib dir ..v2', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'create b.conf', 'delete dir ..v1'];
    assert.deepEqual(seen, expected, `legacyOrder: ${String(legacyOrder)}`);
    assert.equal(await readFile(join(dir, 'b.conf'), 'utf8'), 'b');
  }
});

test('the steps follow the phase order of the current writer and of the legacy one', async (t) => {
  const current = new AtomicWriter(await volume(t), { fsGroup: 4321 });
  await current.write(configMapPayload({ 'a.conf': 'a', 'b.conf': 'b' }));
  assert.deepEqual(phases((await current.write(configMapPayload({ 'a.conf': 'A' }))).steps), [
    'compare', 'create-dir', 'write-files', 'fs-group', 'link-tmp', 'swap', 'visible-links', 'prune', 'remove-old',
  ]);

  const legacy = new AtomicWriter(await volume(t), { fsGroup: 4321, legacyOrder: true });
  await legacy.write(configMapPayload({ 'a.conf': 'a', 'b.conf': 'b' }));
  assert.deepEqual(phases((await legacy.write(configMapPayload({ 'a.conf': 'A' }))).steps), [
    'compare', 'create-dir', 'write-files', 'visible-links', 'link-tmp', 'swap', 'prune', 'remove-old', 'fs-group',
  ]);
});

test('with fsGroup, a no-op resync is silent in the current order and an IN_ATTRIB storm in the legacy one', async (t) => {
  for (const legacyOrder of [false, true]) {
    const dir = await volume(t);
    const writer = new AtomicWriter(dir, { fsGroup: 4321, legacyOrder });
    await writer.write(configMapPayload({ 'app.conf': 'v1' }));
    const events = await recorder(t, dir);

    const seen = modifying(await events.during(() => writer.resync()));

    if (legacyOrder) {
      assert.ok(seen.length > 0 && seen.every((entry) => entry.startsWith('attrib')), JSON.stringify(seen));
    } else {
      assert.deepEqual(seen, []);
    }
  }
});

test('a mode-only change is not written, as in the kubelet, which compares bytes only', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir);
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));

  const result = await writer.write(configMapPayload({ 'app.conf': 'v1' }, { defaultMode: 0o600 }));

  assert.equal(result.changed, false);
  assert.equal((await stat(join(dir, 'app.conf'))).mode & 0o7777, 0o644);
});

test('a deleted visible link is recreated by the next resync, even with nothing else to do', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir);
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  await rm(join(dir, 'app.conf'));

  const result = await writer.resync();

  assert.equal(result.changed, false);
  assert.deepEqual(result.linked, ['app.conf']);
  assert.equal(await readFile(join(dir, 'app.conf'), 'utf8'), 'v1');
});

test('file modes are exact whatever the umask: a Secret mounted 0400, a ConfigMap 0644', async (t) => {
  const dir = await volume(t);
  const previous = process.umask(0o077);
  t.after(() => process.umask(previous));
  await new AtomicWriter(dir).write(
    projectedPayload([{ secret: { token: Buffer.from('s3cr3t') } }, { configMap: { 'app.conf': 'c' } }], { defaultMode: 0o644 }),
  );
  const secretDir = await volume(t);
  await new AtomicWriter(secretDir).write(secretPayload({ token: 'x' }, { defaultMode: 0o400 }));

  assert.equal((await stat(join(dir, 'app.conf'))).mode & 0o7777, 0o644);
  assert.equal((await stat(join(dir, 'token'))).mode & 0o7777, 0o644);
  assert.equal((await stat(join(secretDir, 'token'))).mode & 0o7777, 0o400);
  assert.equal((await readFile(join(dir, 'token'))).toString(), 's3cr3t');
});

test('invalid payload paths are rejected naming the rule they break', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['/etc/passwd', /must be relative/],
    ['a/../b', /must not contain '\.\.'/],
    ['..data', /must not start with '\.\.'/],
    [`${'x'.repeat(256)}`, /at most 255/],
  ];
  for (const [path, message] of cases) {
    assert.throws(() => validatePayload({ [path]: { data: '', mode: 0o644 } }), message, JSON.stringify(path));
  }
  assert.throws(() => validatePayload({ 'a.conf': { data: '', mode: 420.5 } }), /mode 420\.5 is invalid/);
});

test('the writer refuses a missing target and overlapping writes', async (t) => {
  await assert.rejects(new AtomicWriter('/nonexistent/volume').write({}), /does not exist/);
  const writer = new AtomicWriter(await volume(t));
  const first = writer.write(configMapPayload({ 'a.conf': 'a' }));
  await assert.rejects(writer.write(configMapPayload({ 'a.conf': 'b' })), /another write is in progress/);
  await first;
  await assert.rejects(new AtomicWriter(await volume(t)).resync(), /before any write/);
});

test('timestamped directory names follow the kubelet format', () => {
  const name = kubeletTimestampDirName(new Date(Date.UTC(2026, 10, 25, 12, 34, 56)));
  assert.match(name, /^\.\.2026_11_25_12_34_56\.\d+$/);
  assert.ok(isTimestampDirName(name));
  assert.ok(!isTimestampDirName(DATA_LINK));
  assert.ok(!isTimestampDirName(DATA_TMP_LINK));
});

test('payload helpers project keys as the API does', () => {
  assert.deepEqual(configMapPayload({ 'a.conf': 'a' }), { 'a.conf': { data: 'a', mode: 0o644 } });
  assert.deepEqual(secretPayload({ token: 't' }), { token: { data: 't', mode: 0o644 } });
  assert.deepEqual(
    configMapPayload({ site: 's', unused: 'u' }, { items: [{ key: 'site', path: 'conf.d/site.conf', mode: 0o600 }] }),
    { 'conf.d/site.conf': { data: 's', mode: 0o600 } },
  );
  assert.throws(() => configMapPayload({ 'conf.d/site.conf': 's' }), /key "conf\.d\/site\.conf" is invalid.*items/);
  assert.throws(() => configMapPayload({ a: 'a' }, { items: [{ key: 'b', path: 'b' }] }), /items lists key "b"/);
  assert.throws(() => projectedPayload([{ configMap: { a: '1' } }, { secret: { a: '2' } }]), /sources\[1\]\.secret projects "a"/);
});

/**
 * Events with consecutive repeats folded. The kernel drops an event identical
 * to the last one still unread (the chown and chmod of one entry are two
 * IN_ATTRIB), so how many arrive depends on when the reader read, not on the writer.
 */
function withoutRepeats(described: readonly string[]): string[] {
  return described.filter((entry, index) => entry !== described[index - 1]);
}

/** What a step did, without the flag that only says whether it was a read. */
function describeSteps(steps: readonly WriterStep[]): string[] {
  return steps.map((step) => `${step.phase} ${step.op} ${step.path}${step.target === undefined ? '' : ` -> ${step.target}`}`);
}

test('writeSync takes the same steps as write, and the kernel sees the same update', async (t) => {
  const sequences: string[][] = [];
  for (const sync of [false, true]) {
    const dir = await volume(t);
    const writer = new AtomicWriter(dir, { ...numberedDirs(), fsGroup: 4321 });
    const items = [{ key: 'site', path: 'conf.d/site.conf' }, { key: 'main', path: 'nginx.conf' }];
    await writer.write(configMapPayload({ site: 's1', main: 'm1', gone: 'g' }));
    const events = await recorder(t, dir);
    const next = configMapPayload({ site: 's2', main: 'm1' }, { items });

    let steps: readonly WriterStep[] = [];
    const seen = await events.during(async () => {
      steps = (sync ? writer.writeSync(next) : await writer.write(next)).steps;
    });

    assertOneRename(seen);
    sequences.push(describeSteps(steps), withoutRepeats(modifying(seen)));
  }
  const [asyncSteps, asyncEvents, syncSteps, syncEvents] = sequences;
  assert.deepEqual(syncSteps, asyncSteps);
  assert.deepEqual(syncEvents, asyncEvents);
});

test('stageSync changes nothing a reader sees, swapSync is the commit alone, tidySync the bookkeeping after it', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  writer.writeSync(configMapPayload({ 'a.conf': 'a1', 'b.conf': 'b1' }));
  const events = await recorder(t, dir);
  const next = configMapPayload({ 'a.conf': 'a2', 'c.conf': 'c2' });

  let staged: StagedWrite | undefined;
  const staging = modifying(await events.during(() => (staged = writer.stageSync(next))));
  assert.ok(staged !== undefined);
  assert.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'a1');
  const swapping = await events.during(() => writer.swapSync(staged as StagedWrite));
  assert.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'a2');
  let result: WriteResult | undefined;
  const tidying = modifying(await events.during(() => (result = writer.tidySync(staged as StagedWrite))));

  assert.deepEqual(staging, ['create dir ..v2', 'attrib dir ..v2']);
  assert.deepEqual(modifying(swapping), [`create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`]);
  assertOneRename(swapping);
  assert.deepEqual(tidying, ['create c.conf', 'delete b.conf', 'delete dir ..v1']);
  assert.deepEqual(result?.linked, ['c.conf']);
  assert.deepEqual(result?.removed, ['b.conf']);
  assert.deepEqual(phases(result?.steps ?? []), ['compare', 'create-dir', 'write-files', 'link-tmp', 'swap', 'visible-links', 'prune', 'remove-old']);
  assert.deepEqual(writer.payload, next);
});

test('two versions swapped in microseconds apart leave the last one, and one tidy removes both old directories', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  writer.writeSync(configMapPayload({ 'app.conf': 'v1' }));
  const events = await recorder(t, dir);

  const seen = modifying(await events.during(() => {
    const update = writer.stageSync(configMapPayload({ 'app.conf': 'v2' }));
    const revert = writer.stageSync(configMapPayload({ 'app.conf': 'v1' }), { force: true });
    writer.swapSync(update);
    writer.swapSync(revert);
    writer.tidySync(revert);
  }));

  assert.deepEqual(seen, [
    'create dir ..v2', 'attrib dir ..v2', 'create dir ..v3', 'attrib dir ..v3',
    `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`,
    `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`,
    'delete dir ..v1', 'delete dir ..v2',
  ]);
  assert.deepEqual(readdirSync(dir).sort(), ['..data', '..v3', 'app.conf']);
  assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'v1');
});

test('the staged-write methods refuse a write out of order', async (t) => {
  const writer = new AtomicWriter(await volume(t));
  writer.writeSync(configMapPayload({ 'a.conf': 'a' }));
  const staged = writer.stageSync(configMapPayload({ 'a.conf': 'b' }));
  assert.throws(() => writer.tidySync(staged), /never swapped in; call swapSync/);
  writer.swapSync(staged);
  assert.throws(() => writer.swapSync(staged), /already swapped in/);
  writer.tidySync(staged);
  assert.throws(() => writer.tidySync(staged), /not staged by this writer/);

  const unchanged = writer.stageSync(configMapPayload({ 'a.conf': 'b' }));
  assert.equal(unchanged.changed, false);
  assert.equal(writer.swapSync(unchanged), undefined, 'nothing to commit');
  assert.equal(writer.tidySync(unchanged).changed, false);
});

test('committedAt is read after ..data_tmp is linked and before the rename', async (t) => {
  let beforeSwap = 0n;
  const writer = new AtomicWriter(await volume(t), {
    beforeStep: (step) => {
      if (step.phase === 'swap') beforeSwap = process.hrtime.bigint();
    },
  });
  writer.writeSync(configMapPayload({ 'a.conf': 'a' }));

  const result = writer.writeSync(configMapPayload({ 'a.conf': 'b' }));
  const after = process.hrtime.bigint();

  assert.ok(result.committedAt !== undefined && result.committedAt >= beforeSwap && result.committedAt <= after,
    `committedAt ${String(result.committedAt)} outside [${beforeSwap}, ${after}]`);
  assert.equal(writer.writeSync(configMapPayload({ 'a.conf': 'b' })).committedAt, undefined, 'a no-op commits nothing');
});

test('force publishes identical bytes in a new directory, which a watcher sees as a full update', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, numberedDirs());
  await writer.write(configMapPayload({ 'app.conf': 'v1' }));
  const events = await recorder(t, dir);

  let changed: boolean | undefined;
  const seen = await events.during(async () => {
    changed = (await writer.write(configMapPayload({ 'app.conf': 'v1' }), { force: true })).changed;
  });

  assert.equal(changed, true);
  assert.deepEqual(modifying(seen), [
    'create dir ..v2', 'attrib dir ..v2', `create ${DATA_TMP_LINK}`, `moved_from ${DATA_TMP_LINK}`, `moved_to ${DATA_LINK}`, 'delete dir ..v1',
  ]);
});

test('the synchronous methods refuse an asynchronous beforeStep, having taken no step', async (t) => {
  const dir = await volume(t);
  const writer = new AtomicWriter(dir, { beforeStep: async () => undefined });

  assert.throws(() => writer.writeSync(configMapPayload({ 'a.conf': 'a' })), /beforeStep returned a promise/);
  assert.deepEqual(writer.steps, []);
  assert.deepEqual(readdirSync(dir), []);
});

test('write() lets the event loop run between any two steps', async (t) => {
  const writer = new AtomicWriter(await volume(t));
  let turns = 0;
  let writing = true;
  const count = (): void => {
    turns += 1;
    if (writing) setImmediate(count);
  };
  setImmediate(count);

  const result = await writer.write(configMapPayload({ 'a.conf': 'a', 'b.conf': 'b' }));
  writing = false;

  assert.ok(turns >= result.steps.length - 1, `${turns} turns of the event loop for ${result.steps.length} steps`);
});

test('setVolumeOwnership and setVolumeOwnershipSync make the same IN_ATTRIB storm, and change the group', async (t) => {
  const storms: string[][] = [];
  for (const walk of [setVolumeOwnership, setVolumeOwnershipSync]) {
    const dir = await volume(t);
    await new AtomicWriter(dir, { timestampDirName: () => '..v1' }).write(configMapPayload({ 'app.conf': 'v1' }));
    const events = await recorder(t, dir);

    storms.push(withoutRepeats(modifying(await events.during(() => walk(dir, 4321)))));

    assert.equal(statSync(join(dir, 'app.conf')).gid, 4321);
  }
  const [asynchronous, synchronous] = storms;
  assert.ok(asynchronous !== undefined && asynchronous.length > 0 && asynchronous.every((entry) => entry.startsWith('attrib')));
  assert.deepEqual(synchronous, asynchronous);
});
