import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { readFileShared } from '../lib/read-file-shared';

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
