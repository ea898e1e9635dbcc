// docs/operability.md is where the README's operator sections come from; it
// must name every setting, metric and log message the code has, and no others.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { settingsMarkdownTable } from '../lib/sidecar/cli/help';
import { createMetrics } from '../lib/sidecar/metrics';

const ROOT = join(__dirname, '..', '..');
const docs = readFileSync(join(ROOT, 'docs', 'operability.md'), 'utf8');

test('the settings table in the docs is the one generated from the settings', () => {
  const start = docs.indexOf('<!-- settings-table -->');
  const end = docs.indexOf('<!-- /settings-table -->');
  assert.ok(start >= 0 && end > start, 'settings-table markers');
  assert.equal(docs.slice(start + '<!-- settings-table -->'.length, end).trim(), settingsMarkdownTable());
});

test('the docs list every config_reloader_ and reloader_ metric, and only those', async () => {
  const exposition = await createMetrics('test').render();
  const exported = new Set([...exposition.matchAll(/^# TYPE ((?:config_)?reloader_\w+) /gm)].map((match) => match[1]));
  const documented = new Set([...docs.matchAll(/^\| `((?:config_)?reloader_\w+)[{`]/gm)].map((match) => match[1]));
  assert.deepEqual([...documented].sort(), [...exported].sort());
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

test('the docs name every message the sidecar logs', () => {
  const messages = new Set<string>();
  for (const file of sources(join(ROOT, 'lib'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\blog\.(?:debug|info|warn|error)\('([^']+)'/g)) {
      if (match[1] !== undefined) messages.add(match[1]);
    }
  }
  assert.ok(messages.size > 15, `found only ${messages.size} messages: is the pattern stale?`);
  const missing = [...messages].filter((message) => !docs.includes(`\`${message}\``));
  assert.deepEqual(missing, []);
});
