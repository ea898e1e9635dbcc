// The README's settings table is the operator's reference: it must list
// every setting the code accepts, with the same flag and default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { settingsMarkdownTable } from '../lib/sidecar/cli/help';
import { SETTINGS } from '../lib/sidecar/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

test('the README settings table lists every setting with its variable, flag and default', () => {
  const table = readme.slice(readme.indexOf('<!-- settings-table'), readme.indexOf('<!-- /settings-table -->'));
  for (const spec of SETTINGS) {
    const row = table.split('\n').find((line) => line.startsWith(`| \`${spec.env}\` |`));
    assert.ok(row !== undefined, `no row for ${spec.env}`);
    assert.ok(row.includes(`\`--${spec.flag}\``), `${spec.env}: flag --${spec.flag} missing`);
    assert.ok(row.includes(spec.defaultValue === undefined ? '(none)' : `\`${spec.defaultValue}\``), `${spec.env}: default differs`);
  }
  const rows = table.split('\n').filter((line) => /^\| `[A-Z_]+` \|/.test(line));
  assert.equal(rows.length, SETTINGS.length, 'no stale rows');
  assert.ok(table.includes(settingsMarkdownTable().trim()), 'the table is exactly what settingsMarkdownTable() generates');
});

test('the README gives the two quick-start commands', () => {
  assert.match(readme, /^npm run demo\b/m);
  assert.match(readme, /^npm test\b/m);
});
