// Who may signal the app, proved in containers sharing nginx's PID namespace
// with the sidecar's own `check` command, which asks the kernel's rule:
// kill(2) succeeds when the sender's uid matches the target's, or with
// CAP_KILL. nginx's master runs as root.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CheckReport } from '../lib/sidecar/cli/check-report';
import { startNginx, type NginxContainer } from './nginx-container';
import { Deferred, IMAGES, podman } from './podman';

describe('who may signal nginx from the sidecar container', () => {
  let configDir = '';
  let nginx: NginxContainer | undefined;
  const deferred = new Deferred();
  after(() => deferred.run());

  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'config-reloader-perm-'));
    deferred.add(async () => rmSync(configDir, { recursive: true, force: true }));
    writeFileSync(join(configDir, 'site.conf'), 'server { listen 127.0.0.1:8080; return 200 "v1\\n"; }\n');
    nginx = await startNginx(deferred.add, configDir);
  });

  async function check(user: readonly string[]): Promise<{ code: number; report: CheckReport; stderr: string }> {
    assert.ok(nginx !== undefined);
    const result = await podman([
      'run', '--rm', '--pid', `container:${nginx.name}`, '--read-only', '--read-only-tmpfs=false', '--network', 'none',
      ...user, '--volume', `${configDir}:/config:ro`,
      '--env', 'CONFIG_DIR=/config', '--env', 'PROCESS_NAME=nginx', '--env', 'LOG_FORMAT=json',
      IMAGES.sidecar, 'check',
    ]);
    return { code: result.code, report: JSON.parse(result.stdout) as CheckReport, stderr: result.stderr };
  }

  test('the image\'s default non-root user may not, and check says how to fix it', async () => {
    const { code, report } = await check(['--cap-drop', 'ALL']);
    assert.equal(code, 1);
    assert.equal(report.targets.length, 1);
    assert.equal(report.targets[0]?.uid, 0);
    assert.equal(report.targets[0]?.permitted, false);
    assert.match(report.problems.join('\n'), /runAsUser: 0.*CAP_KILL/s);
  });

  test('root with every capability dropped may: the same uid as the master', async () => {
    const { code, report } = await check(['--user', '0', '--cap-drop', 'ALL']);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.targets[0]?.permitted, true);
  });

  test('root with only CAP_KILL may', async () => {
    const { code, report } = await check(['--user', '0', '--cap-drop', 'ALL', '--cap-add', 'KILL']);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.targets[0]?.permitted, true);
  });

  test('the workers, which run as www-data, are never targets', async () => {
    const { report } = await check(['--user', '0', '--cap-drop', 'ALL']);
    assert.deepEqual(report.targets.map((target) => target.pid), [1]);
    assert.ok(report.workers.length >= 2, JSON.stringify(report.workers));
  });
});
