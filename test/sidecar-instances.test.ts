// PROCESS_NAME=node, for an app that runs on node as the sidecar does, in a
// Pod with two sidecars: each reloads the app, never itself nor the other,
// and `check` run beside them names the same single target.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import type { CheckReport } from '../lib/sidecar/cli/check-report';
import { describeResult } from './helpers/child-process';
import { PidNamespace, type NamespacedProcess } from './helpers/pid-namespace';
import { CLI } from './helpers/sidecar-process';
import { waitFor } from './helpers/wait-for';

// The app: plain `node -e`, reporting each SIGHUP.
const APP = "process.on('SIGHUP', () => console.log('hup')); setInterval(() => {}, 1 << 30); console.log('ready');";

function logLines(sidecar: NamespacedProcess): { readonly msg: string; readonly [field: string]: unknown }[] {
  return sidecar.output.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string });
}

test('PROCESS_NAME=node reloads the node app, never the sidecar itself nor a second sidecar, and check agrees', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'instances-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.conf'), 'v0');
  const pod = await PidNamespace.start({ cleanup: t });
  const app = await pod.spawn(process.execPath, ['-e', APP]);
  await waitFor('the app to install its handler', () => app.output.stdout.includes('ready\n'));
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LOG_FORMAT: 'json', CONFIG_DIR: dir, PROCESS_NAME: 'node', DEBOUNCE: '50ms' };
  const sidecars = [await pod.spawn(process.execPath, [CLI], { env }), await pod.spawn(process.execPath, [CLI], { env })];
  for (const sidecar of sidecars) {
    await waitFor('the sidecar to be ready', () => logLines(sidecar).some((line) => line.msg === 'ready'));
    assert.deepEqual(logLines(sidecar).find((line) => line.msg === 'target found')?.['targets'], [`${app.nsPid} node`], sidecar.output.stdout);
  }

  const checked = await pod.run(process.execPath, [CLI, 'check', '--config-dir', dir, '--process-name', 'node', '--log-format', 'json']);
  assert.equal(checked.code, 0, describeResult(checked));
  const report = JSON.parse(checked.stdout) as CheckReport;
  assert.deepEqual(report.targets.map((target) => target.pid), [app.nsPid]);

  writeFileSync(join(dir, 'app.conf'), 'v1');
  // Both send at once, and the kernel merges a standard signal sent while the
  // same one is pending: the app may see one SIGHUP or two.
  for (const sidecar of sidecars) {
    await waitFor(() => `the sidecar to reload the app:\n${sidecar.output.stdout}${sidecar.output.stderr}`,
      () => logLines(sidecar).some((line) => line.msg === 'reload sent'));
  }
  await waitFor(() => `the app to get SIGHUP: ${JSON.stringify(app.output.stdout)}`, () => app.output.stdout.includes('hup\n'));
  await sleep(300);
  for (const sidecar of sidecars) {
    assert.ok(sidecar.running, `a sidecar was killed: ${sidecar.output.stdout}`);
    assert.deepEqual(logLines(sidecar).filter((line) => line.msg === 'reload sent').map((line) => line['pid']), [app.nsPid]);
  }
  assert.ok(app.running);
});
