import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { forEachEntry, SMALL_DIRECTORY_BYTES } from '../lib/dir-entries';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dir-entries-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function listed(dir: string, size?: number): string[] {
  const names: string[] = [];
  forEachEntry(dir, (entry) => names.push(`${entry.name}:${entry.isFile() ? 'f' : entry.isDirectory() ? 'd' : entry.isSymbolicLink() ? 'l' : '?'}`), size);
  return names.sort();
}

test('a small directory, read at once, lists every entry with its type, as opendir does', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.conf'), 'a');
  mkdirSync(join(dir, 'conf.d'));
  symlinkSync('app.conf', join(dir, 'link'));
  const size = statSync(dir).size;
  assert.ok(size <= SMALL_DIRECTORY_BYTES, `precondition: st_size ${size} is small`);
  assert.deepEqual(listed(dir, size), ['app.conf:f', 'conf.d:d', 'link:l']);
  assert.deepEqual(listed(dir, size), listed(dir));
});

test('a directory past the small size lists every one of its entries', (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 3000; i++) writeFileSync(join(dir, `file-with-a-longer-name-${i}.conf`), '');
  const size = statSync(dir).size;
  assert.ok(size > SMALL_DIRECTORY_BYTES, `precondition: st_size ${size} is past ${SMALL_DIRECTORY_BYTES}`);
  const names = listed(dir, size);
  assert.equal(names.length, 3000);
  assert.deepEqual(names, readdirSync(dir).map((name) => `${name}:f`).sort());
});
