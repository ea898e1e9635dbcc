import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { readFileShared, readRecordFileShared } from '../lib/read-file-shared';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'read-file-shared-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('reads a file many times the size of the initial buffer byte for byte, then small files again', (t) => {
  const dir = tempDir(t);
  const big = randomBytes(3 * 1024 * 1024 + 7);
  writeFileSync(join(dir, 'big'), big);
  writeFileSync(join(dir, 'small'), 'small\n');
  assert.ok(readFileShared(join(dir, 'big')).equals(big));
  assert.equal(readFileShared(join(dir, 'small')).toString(), 'small\n');
  assert.ok(readFileShared(join(dir, 'big')).equals(big));
});

test('a view read before a buffer is let go keeps its bytes', (t) => {
  const dir = tempDir(t);
  const big = randomBytes(200 * 1024);
  writeFileSync(join(dir, 'big'), big);
  writeFileSync(join(dir, 'small'), 'small');
  const first = readFileShared(join(dir, 'big'));
  readFileShared(join(dir, 'small'));
  assert.ok(first.equals(big), 'the grown buffer is replaced, not overwritten, by the next call');
});

test('reads an empty file as zero bytes', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'empty'), '');
  assert.equal(readFileShared(join(dir, 'empty')).length, 0);
});

test('reads a /proc file, which reports size 0, completely', () => {
  const text = readFileShared('/proc/self/status').toString('utf8');
  assert.match(text, /^Name:/);
  assert.match(text, /\nSigCgt:\t[0-9a-f]{16}\n/);
  assert.equal(text.split('\n').length, readFileSync('/proc/self/status', 'utf8').split('\n').length);
});

test('fails as readFileSync does: code and syscall of the failing call', (t) => {
  const dir = tempDir(t);
  assert.throws(() => readFileShared(join(dir, 'missing')), { code: 'ENOENT', syscall: 'open' });
  assert.throws(() => readFileShared(dir), { code: 'EISDIR', syscall: 'read' });
});

test('reads /proc/<pid>/status and stat, one seq_file record each, as readFileSync has them', () => {
  const status = readRecordFileShared('/proc/self/status').toString('utf8');
  assert.match(status, /^Name:/);
  assert.match(status, /\nSigCgt:\t[0-9a-f]{16}\n/);
  assert.deepEqual(status.split('\n').map((line) => line.split(':')[0]), readFileSync('/proc/self/status', 'utf8').split('\n').map((line) => line.split(':')[0]));
  const stat = readRecordFileShared(`/proc/${process.pid}/stat`).toString('utf8');
  assert.equal(stat.split(' ')[0], String(process.pid));
  assert.equal(stat.trimEnd().split(' ').length, readFileSync(`/proc/${process.pid}/stat`, 'utf8').trimEnd().split(' ').length);
});

test('a record that fills the buffer is read on until the end', (t) => {
  const dir = tempDir(t);
  const exact = randomBytes(16 * 1024);
  const larger = randomBytes(40 * 1024 + 3);
  writeFileSync(join(dir, 'exact'), exact);
  writeFileSync(join(dir, 'larger'), larger);
  assert.ok(readRecordFileShared(join(dir, 'exact')).equals(exact));
  assert.ok(readRecordFileShared(join(dir, 'larger')).equals(larger));
});
