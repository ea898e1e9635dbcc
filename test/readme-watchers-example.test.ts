// The README's ConfigWatcher and RecursiveWatcher examples are code people
// copy, in CommonJS and in ESM: each must run as printed against the
// installed package name, report a real change, and end on SIGTERM. So
// must the examples of the testing subpath.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { PACKAGE_ROOT } from './helpers/package-copy';
import { waitFor } from './helpers/wait-for';

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');

/** The code blocks of one language under a heading, in order. */
function examples(heading: string, language: 'js' | 'mjs'): string[] {
  const start = readme.indexOf(`\n### ${heading}`);
  assert.ok(start >= 0, `the README has a "${heading}" section`);
  const end = readme.indexOf('\n### ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1] ?? '');
}

/** A project directory where `config-reloader-sidecar` resolves to this package, as after npm install. */
function project(t: { after(fn: () => unknown): void }): { root: string; watched: string } {
  const root = mkdtempSync(join(tmpdir(), 'readme-watchers-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(root, 'node_modules', 'config-reloader-sidecar'));
  const watched = join(root, 'watched');
  mkdirSync(watched);
  writeFileSync(join(watched, 'app.conf'), 'v0');
  return { root, watched };
}

async function runExample(
  t: { after(fn: () => unknown): void },
  file: string,
  source: string,
  change: (watched: string) => void,
  expected: RegExp,
): Promise<void> {
  const { root, watched } = project(t);
  const path = join(root, file);
  writeFileSync(path, source.replaceAll("'/etc/myapp'", JSON.stringify(watched)).replaceAll("'/srv/data'", JSON.stringify(watched)));
  const child = spawn(process.execPath, [path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The examples cannot say when their watches are in place: change until they
  // report it, more slowly than their debounce.
  let round = 0;
  await waitFor(`the example to report a change (output: ${output})`, () => {
    change(join(watched, `round-${round++}`));
    return expected.test(output);
  }, { timeoutMs: 10_000, intervalMs: 500 });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
}

test('the README ConfigWatcher example (CommonJS) reports a change and ends on SIGTERM', async (t) => {
  const [source] = examples('Watching configuration', 'js');
  assert.ok(source !== undefined && source.includes("require('config-reloader-sidecar')"));
  await runExample(t, 'example.cjs', source, (path) => writeFileSync(`${path}.conf`, 'new'), /changed: \[\] added: \[\s*'[^']+round-\d+\.conf'\s*\]/);
});

test('the README ConfigWatcher example (ESM) reports a change and ends on SIGTERM', async (t) => {
  const [source] = examples('Watching configuration', 'mjs');
  assert.ok(source !== undefined && source.includes("from 'config-reloader-sidecar'"));
  await runExample(t, 'example.mjs', source, (path) => writeFileSync(`${path}.conf`, 'new'), /changed: \[\]/);
});

test('the README RecursiveWatcher example (ESM) names files in directories created after it started', async (t) => {
  const [source] = examples('Watching a tree', 'mjs');
  assert.ok(source !== undefined);
  const withExit = `${source}\nprocess.once('SIGTERM', () => tree.close());\n`;
  await runExample(t, 'tree.mjs', withExit, (path) => {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'inner.conf'), 'x');
  }, /(create|close_write) \S+round-\d+\/inner\.conf/);
});

test('the README testing examples (CommonJS and ESM) replay kubelet updates through the package name', async (t) => {
  for (const [file, source, expected] of [
    ['testing.cjs', examples('Testing your own reload code', 'js')[0], /resync changed: false/],
    ['testing.mjs', examples('Testing your own reload code', 'mjs')[0], /committed at \d+n/],
  ] as const) {
    assert.ok(source !== undefined, file);
    const { root } = project(t);
    writeFileSync(join(root, file), source);
    const result = spawnSync(process.execPath, [join(root, file)], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, expected);
  }
});
