import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { diffFingerprints, fingerprint, fingerprintSync } from '../lib/fingerprint';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { libraryScript, runLibraryScript } from './helpers/library-script';
import { PACKAGE_ROOT } from './helpers/package-copy';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fingerprint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('identical content gives an identical fingerprint, different content a different one', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.conf'), 'one');
  const first = fingerprintSync([dir]);
  writeFileSync(join(dir, 'a.conf'), 'one');
  assert.equal(fingerprintSync([dir]).digest, first.digest);
  writeFileSync(join(dir, 'a.conf'), 'two');
  assert.notEqual(fingerprintSync([dir]).digest, first.digest);
});

test('permission and timestamp changes do not change the fingerprint', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.conf'), 'one');
  const before = fingerprintSync([dir]).digest;
  chmodSync(join(dir, 'a.conf'), 0o600);
  writeFileSync(join(dir, 'b'), '');
  rmSync(join(dir, 'b'));
  assert.equal(fingerprintSync([dir]).digest, before);
});

test('nested directories are included and renames are changes', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', 'site.conf'), 'x');
  const before = fingerprintSync([dir]);
  assert.deepEqual([...before.files.keys()], [join(dir, 'conf.d', 'site.conf')]);
  renameSync(join(dir, 'conf.d', 'site.conf'), join(dir, 'conf.d', 'other.conf'));
  const after = fingerprintSync([dir]);
  assert.deepEqual(diffFingerprints(before, after), {
    added: [join(dir, 'conf.d', 'other.conf')],
    removed: [join(dir, 'conf.d', 'site.conf')],
    modified: [],
  });
});

test('a kubelet volume is read through ..data and reported under user-visible names', (t) => {
  const dir = tempDir(t);
  const writer = new AtomicWriter(dir);
  writer.writeSync(configMapPayload({ 'nginx.conf': 'v1' }));
  const v1 = fingerprintSync([dir]);
  assert.deepEqual([...v1.files.keys()], [join(dir, 'nginx.conf')]);
  // A new key is part of the commit even before the kubelet creates its user-visible link.
  writer.swapSync(writer.stageSync(configMapPayload({ 'nginx.conf': 'v1', 'extra.conf': 'new' })));
  const v2 = fingerprintSync([dir]);
  assert.deepEqual(diffFingerprints(v1, v2), { added: [join(dir, 'extra.conf')], removed: [], modified: [] });
});

test('kubelet internals and symlink loops are not followed into', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'f'), 'x');
  symlinkSync('..', join(dir, 'sub', 'loop'));
  mkdirSync(join(dir, '..2026_01_01_00_00_00.000000001'));
  writeFileSync(join(dir, '..2026_01_01_00_00_00.000000001', 'hidden'), 'y');
  const result = fingerprintSync([dir]);
  assert.deepEqual([...result.files.keys()], [join(dir, 'sub', 'f')]);
});

test('FIFOs are skipped rather than read (reading one would block)', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a'), 'x');
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  assert.deepEqual([...fingerprintSync([dir]).files.keys()], [join(dir, 'a')]);
});

test('every file is hashed over all its bytes, from empty to larger than the shared read buffer', (t) => {
  const dir = tempDir(t);
  const contents = {
    'empty': Buffer.alloc(0),
    'small.conf': Buffer.from('worker_processes 2;\n'),
    'bundle.pem': Buffer.alloc(5 * 1024 * 1024 + 3, 'A'),
    'edge.bin': Buffer.alloc(64 * 1024, 'B'),
  };
  for (const [name, content] of Object.entries(contents)) writeFileSync(join(dir, name), content);
  const result = fingerprintSync([dir]);
  for (const [name, content] of Object.entries(contents)) {
    assert.equal(result.files.get(join(dir, name)), createHash('sha256').update(content).digest('hex'), name);
  }
  // A change in the last byte of the large file is a change.
  contents['bundle.pem'][contents['bundle.pem'].length - 1] = 0x42;
  writeFileSync(join(dir, 'bundle.pem'), contents['bundle.pem']);
  assert.deepEqual(diffFingerprints(result, fingerprintSync([dir])).modified, [join(dir, 'bundle.pem')]);
});

test('a keyed fingerprint is an HMAC: the same under one key, different under another, never the plain sha256', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'password'), 'hunter2');
  const plain = fingerprintSync([dir]);
  const keyed = fingerprintSync([dir], { key: 'k1' });
  assert.equal(fingerprintSync([dir], { key: 'k1' }).digest, keyed.digest);
  assert.notEqual(fingerprintSync([dir], { key: 'k2' }).digest, keyed.digest);
  assert.notEqual(keyed.digest, plain.digest);
  // The per-file digest is keyed too: a dictionary over sha256 finds nothing.
  assert.equal(plain.files.get(join(dir, 'password')), createHash('sha256').update('hunter2').digest('hex'));
  assert.equal(keyed.files.get(join(dir, 'password')), createHmac('sha256', 'k1').update('hunter2').digest('hex'));
});

test('links into /proc, /sys and /dev, or to a directory above, are not followed, and say so', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'x');
  symlinkSync('/proc/self', join(dir, 'proc'));
  symlinkSync('/sys', join(dir, 'sys'));
  symlinkSync('/', join(dir, 'root'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'up'));
  const started = performance.now();
  const result = await fingerprint([dir]);
  assert.ok(performance.now() - started < 2000, 'the walk ends at once');
  assert.deepEqual([...result.files.keys()], [join(dir, 'app.conf')]);
  assert.deepEqual(result.skipped.map((skip) => skip.path).sort(), ['proc', 'root', 'sub/up', 'sys'].map((name) => join(dir, name)));
  assert.match(result.skipped.find((skip) => skip.path === join(dir, 'root'))?.reason ?? '', /a directory above it/);
  assert.match(result.skipped.find((skip) => skip.path === join(dir, 'proc'))?.reason ?? '', /system filesystem/);
});

test('the caps: past maxFiles the walk stops, past maxBytes files count by identity, past maxDepth nothing is read', (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), 'x'.repeat(100));
  const capped = fingerprintSync([dir], { limits: { maxFiles: 3 } });
  assert.equal(capped.files.size, 3);
  assert.match(capped.skipped[0]?.reason ?? '', /more than 3 files/);

  const byIdentity = fingerprintSync([dir], { limits: { maxBytes: 250 } });
  assert.deepEqual([...byIdentity.files.values()].map((value) => value.startsWith('identity:')), [false, false, true, true, true]);
  assert.match(byIdentity.skipped[0]?.reason ?? '', /past 250 bytes/);
  // Still a change when such a file changes.
  writeFileSync(join(dir, 'f4'), 'y'.repeat(100));
  assert.notEqual(fingerprintSync([dir], { limits: { maxBytes: 250 } }).digest, byIdentity.digest);

  const deep = tempDir(t);
  mkdirSync(join(deep, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(deep, 'a', 'b', 'c', 'deep.conf'), 'x');
  writeFileSync(join(deep, 'a', 'shallow.conf'), 'x');
  const shallow = fingerprintSync([deep], { limits: { maxDepth: 2 } });
  assert.deepEqual([...shallow.files.keys()], [join(deep, 'a', 'shallow.conf')]);
  assert.deepEqual(shallow.skipped.map((skip) => skip.path), [join(deep, 'a', 'b', 'c')]);
});

test('directories reached through links are reported for watching: a linked directory, the directory of a linked file', (t) => {
  const root = tempDir(t);
  const dir = join(root, 'config');
  mkdirSync(join(root, 'shared', 'nested'), { recursive: true });
  mkdirSync(join(root, 'elsewhere'));
  mkdirSync(dir);
  writeFileSync(join(root, 'shared', 'nested', 'x.conf'), 'x');
  writeFileSync(join(root, 'elsewhere', 'one.conf'), '1');
  symlinkSync('../shared', join(dir, 'conf.d'));
  symlinkSync(join(root, 'elsewhere', 'one.conf'), join(dir, 'one.conf'));
  const result = fingerprintSync([dir]);
  assert.deepEqual([...result.files.keys()].sort(), [join(dir, 'conf.d', 'nested', 'x.conf'), join(dir, 'one.conf')]);
  assert.deepEqual(result.linkedDirs, [join(root, 'elsewhere'), join(root, 'shared'), join(root, 'shared', 'nested')]);
});

test('a large file is hashed in slices: the event loop keeps turning while the fingerprint is taken', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'small.conf'), 'x');
  // Sparse: no disk is used, and every byte is still read and hashed.
  execFileSync('truncate', ['-s', '160M', join(dir, 'big.bin')]);
  let longestGap = 0;
  let ticks = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 1);
  const started = performance.now();
  try {
    const result = await fingerprint([dir], { limits: { maxBytes: 1024 * 1024 * 1024 } });
    assert.equal(result.files.get(join(dir, 'big.bin'))?.length, 64, 'hashed, not counted by identity');
  } finally {
    clearInterval(ticker);
  }
  const took = performance.now() - started;
  // Hashed in one go, the longest gap would be the whole walk. Other tests
  // may share the machine, so the bound is relative, not a fixed number.
  assert.ok(ticks >= 10 && longestGap < took / 3, `${ticks} turns of the event loop in ${Math.round(took)} ms, the longest gap ${Math.round(longestGap)} ms`);
});

test('a 2 GB file past the byte budget is counted by identity, not read', async (t) => {
  const dir = tempDir(t);
  execFileSync('truncate', ['-s', '2G', join(dir, 'huge.bin')]);
  const started = performance.now();
  const result = await fingerprint([dir]);
  assert.ok(performance.now() - started < 1000, 'not read');
  assert.match(result.files.get(join(dir, 'huge.bin')) ?? '', /^identity:/);
});

test('running out of descriptors (EMFILE) rejects with a FingerprintReadError, never a partial fingerprint', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `f${i}.conf`), `${i}`);
  const script = libraryScript(PACKAGE_ROOT, { fingerprint: ['fingerprint', 'fingerprintSync'] }, `
    const fs = require('node:fs');
    const complete = fingerprintSync([${JSON.stringify(dir)}]).files.size;
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {}
    let outcome;
    try {
      const partial = await fingerprint([${JSON.stringify(dir)}]);
      outcome = { result: partial.files.size };
    } catch (error) {
      outcome = { code: error.code, syscall: error.syscall, message: error.name + ': ' + error.message };
    }
    for (const fd of held) fs.closeSync(fd);
    outcomes.complete = { result: complete };
    outcomes.starved = outcome;
    outcomes.after = { result: (await fingerprint([${JSON.stringify(dir)}])).files.size };
  `);
  const outcomes = await runLibraryScript(['prlimit', '--nofile=64:64', '--'], script);
  assert.equal(outcomes['complete']?.result, 3);
  assert.equal(outcomes['starved']?.code, 'EMFILE', JSON.stringify(outcomes));
  assert.match(String(outcomes['starved']?.message), /^FingerprintReadError: EMFILE/);
  assert.equal(outcomes['after']?.result, 3);
});
