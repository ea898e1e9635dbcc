// `npm run demo`: the sidecar at work with no Kubernetes. Two sample apps
// read their configuration from a ConfigMap-style volume in a temporary
// directory: one reloads on SIGHUP, the other on POST /-/reload at a
// loopback port. The real `config-reloader` command watches the volume with
// two actions, the signal and then the URL; the demo updates the volume the
// way the kubelet does:
//
//   1. v1 -> v2                         a real change: one reload
//   2. resync with identical content    a new ..timestamp directory, same bytes: no reload
//   3. v2 -> v3                         a real change: one reload
//   4. fsGroup-style chmod walk         permissions only: no reload
//
// and checks that each app received exactly one reload per real change.
// Exit 0 when it did, 1 otherwise. The volume is written by the library's
// replay of the kubelet (config-reloader-sidecar/testing), system call for
// system call.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { AtomicWriter, configMapPayload, setVolumeOwnership, type Payload } from '../lib/testing';
import { PrefixedChild } from './prefixed-child';

/** The command as it ships (scripts/bundle.ts), which `npm run demo` builds first. */
const CLI = join(__dirname, '..', 'bin', 'config-reloader.js');
const SAMPLE_APP = join(__dirname, 'sample-app.js');
/** Long enough for a stray reload to show up; nothing is expected to happen in it. */
const SETTLE_MS = 600;
/** Between steps, so a person can follow along. */
const PAUSE_MS = 300;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const demo = (line: string): void => say(`${'demo'.padEnd(8)}| ${line}`);
// The date is the same on every line of a demo; the time of day is enough.
const shortTime = (line: string): string => line.replace(/^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d\.\d+)Z /, '$1 ');

interface Step {
  readonly title: string;
  readonly realChange: boolean;
  run(writer: AtomicWriter): Promise<unknown>;
}

const conf = (version: number): Payload => configMapPayload({ 'app.conf': `# demo app configuration\nversion=${version}\n` });

const STEPS: readonly Step[] = [
  { title: 'update 1: v1 -> v2 (a real change)', realChange: true, run: (writer) => writer.write(conf(2)) },
  {
    title: 'update 2: resync with identical content (new ..timestamp directory, same bytes)',
    realChange: false,
    // A kubelet skips identical bytes; force commits them anyway, as a watcher
    // sees an edit and its revert that both land before it looks.
    run: (writer) => writer.write(conf(2), { force: true }),
  },
  { title: 'update 3: v2 -> v3 (a real change)', realChange: true, run: (writer) => writer.write(conf(3)) },
  {
    title: 'update 4: fsGroup-style chmod walk (permissions only, same content)',
    realChange: false,
    // The volume's own group: the kubelet's walk, without needing privilege to run it.
    run: (writer) => setVolumeOwnership(writer.targetDir, statSync(writer.targetDir).gid),
  },
];

async function main(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'config-reloader-demo-'));
  const volume = join(root, 'config');
  mkdirSync(volume);
  const writer = new AtomicWriter(volume);
  // Unique per run, so two demos at once never signal each other's app; 15 bytes at most fit in comm.
  const appName = `demo-app-${process.pid}`.slice(0, 15);
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const children: PrefixedChild[] = [];
  try {
    await writer.write(conf(1));
    demo(`ConfigMap-style volume at ${volume} (app.conf -> ..data/app.conf), version 1`);

    const app = new PrefixedChild('app', process.execPath, [SAMPLE_APP, appName, join(volume, 'app.conf'), 'signal'], env, say);
    children.push(app);
    await app.waitFor(/^app: started/);
    const web = new PrefixedChild('web', process.execPath, [SAMPLE_APP, `demo-web-${process.pid}`.slice(0, 15), join(volume, 'app.conf'), 'http'], env, say);
    children.push(web);
    await web.waitFor(/^web: started/);
    const reloadUrl = /reload URL (\S+)/.exec(web.lines.find((line) => line.startsWith('web: started')) ?? '')?.[1] ?? '';

    const sidecar = new PrefixedChild(
      'sidecar',
      process.execPath,
      [CLI, '--config-dir', volume, '--process-name', appName, '--handler-wait', '5s', '--reload-url', reloadUrl],
      { ...env, LOG_FORMAT: 'text', LOG_LEVEL: 'info' },
      say,
      shortTime,
    );
    children.push(sidecar);
    await sidecar.waitFor(/ INFO {2}ready /);

    let realChanges = 0;
    for (const step of STEPS) {
      demo(step.title);
      const reloadsBefore = app.count(/^app: reloaded/);
      const webReloadsBefore = web.count(/^web: reloaded/);
      const sentBefore = sidecar.count(/ reload request succeeded /);
      const skippedBefore = sidecar.count(/skipped: content unchanged/);
      await step.run(writer);
      if (step.realChange) {
        realChanges += 1;
        await Promise.all([
          app.waitFor(/^app: reloaded/, reloadsBefore + 1),
          web.waitFor(/^web: reloaded/, webReloadsBefore + 1),
          sidecar.waitFor(/ reload request succeeded /, sentBefore + 1),
        ]);
      } else if (step.title.includes('resync')) {
        await sidecar.waitFor(/skipped: content unchanged/, skippedBefore + 1);
      } else {
        await sleep(SETTLE_MS);
        demo('(no content changed: the sidecar had nothing to do)');
      }
      await sleep(PAUSE_MS);
    }
    await sleep(SETTLE_MS); // a late, unwanted reload would show up here

    const sidecarExit = await sidecar.stop('SIGTERM');
    await Promise.all([app.stop('SIGTERM'), web.stop('SIGTERM')]);
    const versions = (child: PrefixedChild): string[] =>
      child.lines.flatMap((line) => /^\w+: reloaded config v(\S+)/.exec(line)?.[1] ?? []);
    const bySignal = versions(app);
    const byUrl = versions(web);
    demo(
      `${STEPS.length} updates, ${realChanges} real changes; reloads received: ` +
        `${bySignal.length} by SIGHUP (versions ${bySignal.join(', ') || 'none'}), ${byUrl.length} by HTTP (versions ${byUrl.join(', ') || 'none'})`,
    );
    const ok = bySignal.join(',') === '2,3' && byUrl.join(',') === '2,3' && sidecarExit.code === 0;
    demo(ok ? 'ok: each app reloaded once per real change, none for the resync or the chmod walk' : `FAILED: expected ${realChanges} reloads of each app (versions 2, 3) and a clean sidecar exit (got ${String(sidecarExit.code)})`);
    return ok ? 0 : 1;
  } catch (error) {
    demo(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  }
}

void main().then((code) => {
  process.exitCode = code;
});
