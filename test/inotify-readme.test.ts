// The README's Inotify example is code people copy: it must run as printed,
// report a change, and end cleanly when its AbortSignal fires.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { DIST_LIB, tempDir } from './helpers/inotify-kit';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

function libraryExample(): string {
  const section = readme.slice(readme.indexOf('\n### Raw inotify'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match?.[1] !== undefined, 'the raw inotify section has a js example');
  return match[1];
}

test('the README Library example reports a change and exits 0 when its AbortSignal aborts', async (t) => {
  const dir = tempDir(t);
  const example = libraryExample();
  assert.match(example, /events\(\{ signal \}\)/);
  assert.match(example, /event\.kind === 'overflow'/);
  const source = example
    .replace("require('config-reloader-sidecar')", `require(${JSON.stringify(join(DIST_LIB, 'index'))})`)
    .replace("'/etc/myapp'", JSON.stringify(dir));
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  // The example prints nothing until it sees a change, and cannot say when
  // its watch is in place: write until it reports one.
  const deadline = Date.now() + 10_000;
  while (!stdout.includes('close_write') && Date.now() < deadline && child.exitCode === null) {
    writeFileSync(join(dir, 'app.conf'), 'changed');
    await sleep(20);
  }
  assert.match(stdout, new RegExp(`^close_write ${join(dir, 'app.conf')}$`, 'm'), stderr);
  child.kill('SIGTERM');
  // Safety net: a loop the abort did not end would keep the process alive.
  const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  t.after(() => clearTimeout(guard));
  assert.equal(await exited, 0, `the abort ended the loop and the process; stderr: ${stderr}`);
  assert.equal(stderr, '');
});
