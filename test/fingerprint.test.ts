import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { diffFingerprints, fingerprintSync } from '../lib/fingerprint';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fingerprint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A kubelet-style volume: payload in ..v1, ..data -> ..v1, name -> ..data/name. */
function kubeletVolume(dir: string, version: string, files: Record<string, string>): void {
  const payload = join(dir, `..${version}`);
  mkdirSync(payload);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(payload, name), content);
  symlinkSync(`..${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch {
      // already linked by an earlier version
    }
  }
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
  kubeletVolume(dir, 'v1', { 'nginx.conf': 'v1' });
  const v1 = fingerprintSync([dir]);
  assert.deepEqual([...v1.files.keys()], [join(dir, 'nginx.conf')]);
  // A new key is part of the commit even before the kubelet creates its user-visible link.
  mkdirSync(join(dir, '..v2'));
  writeFileSync(join(dir, '..v2', 'nginx.conf'), 'v1');
  writeFileSync(join(dir, '..v2', 'extra.conf'), 'new');
  symlinkSync('..v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
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
