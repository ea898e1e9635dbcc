// Target selection over tables of process snapshots, as /proc shows them for
// real apps (nginx, gunicorn, postgres) inside a Pod.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ProcessInfo } from '../lib/proc';
import { noTargetMessage, permissionMessage } from '../lib/sidecar/diagnosis';
import { describeProcesses, isConfigReloader, matchesName, seesOnlyItself, selectTargets } from '../lib/sidecar/targets';

function proc(pid: number, ppid: number, comm: string, argv: string[] = [comm], extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid, ppid, comm, argv, argv0Name: argv[0]?.split('/').pop(), exe: undefined, exeName: undefined,
    uid: 0, effectiveUid: 0, startTime: pid * 10, state: 'S', kernelThread: false,
    signals: { caught: 0n, ignored: 0n, blocked: 0n, pending: 0n },
    ...extra,
  };
}

const SELF = 50;

const nginxPod = [
  proc(1, 0, 'pause', ['/pause']),
  proc(7, 0, 'nginx', ['nginx: master process nginx -g daemon off;'], { exeName: 'nginx' }),
  proc(30, 7, 'nginx', ['nginx: worker process'], { exeName: 'nginx' }),
  proc(31, 7, 'nginx', ['nginx: worker process'], { exeName: 'nginx' }),
  proc(SELF, 0, 'node', ['node', '/app/dist/lib/cli/main.js']),
];

test('only the nginx master is a target; its workers are skipped', () => {
  const { targets, workers } = selectTargets(nginxPod, 'nginx', false, SELF);
  assert.deepEqual(targets.map((info) => info.pid), [7]);
  assert.deepEqual(workers.map((info) => info.pid), [30, 31]);
});

test('signal-all selects workers too', () => {
  const { targets } = selectTargets(nginxPod, 'nginx', true, SELF);
  assert.deepEqual(targets.map((info) => info.pid), [7, 30, 31]);
});

test('a worker is skipped even when an intermediate process does not match', () => {
  const tree = [
    proc(10, 1, 'postgres', ['/usr/lib/postgresql/15/bin/postgres', '-D', '/data']),
    proc(11, 10, 'sh', ['sh', '-c', 'archive']),
    proc(12, 11, 'postgres', ['postgres: archiver']),
  ];
  assert.deepEqual(selectTargets(tree, 'postgres', false, SELF).targets.map((info) => info.pid), [10]);
});

test('two independent masters are both targets', () => {
  const tree = [proc(10, 1, 'haproxy'), proc(11, 10, 'haproxy'), proc(20, 1, 'haproxy')];
  assert.deepEqual(selectTargets(tree, 'haproxy', false, SELF).targets.map((info) => info.pid), [10, 20]);
});

test('a long name matches through argv[0] or the executable, never through a 15-character comm prefix', () => {
  const long = 'config-reloader-demo-application';
  const byArgv = proc(10, 1, long.slice(0, 15), [`/usr/local/bin/${long}`, '--serve']);
  const byExe = proc(11, 1, long.slice(0, 15), ['app'], { exeName: long });
  const lookalike = proc(12, 1, long.slice(0, 15), ['/usr/bin/config-reloader-demo-other']);
  assert.equal(matchesName(byArgv, long), true);
  assert.equal(matchesName(byExe, long), true);
  assert.equal(matchesName(lookalike, long), false);
});

test('the sidecar never selects itself, nor kernel threads', () => {
  const tree = [proc(SELF, 1, 'node'), proc(2, 0, 'node', [], { kernelThread: true }), proc(60, 1, 'node')];
  assert.deepEqual(selectTargets(tree, 'node', true, SELF).targets.map((info) => info.pid), [60]);
});

test('any config-reloader process is recognised by its script, argv[0] or executable, and never a target', () => {
  const table: ReadonlyArray<readonly [string, ProcessInfo, boolean]> = [
    ['the image entrypoint', proc(8, 0, 'node', ['/usr/local/bin/node', '--no-opt', '--max-semi-space-size=1', '/app/dist/bin/config-reloader.js'], { exeName: 'node' }), true],
    ["npm's bin link, through its #! line", proc(9, 0, 'node', ['node', '/usr/local/bin/config-reloader', 'check']), true],
    ['with node options before the script', proc(10, 0, 'node', ['node', '--max-old-space-size=64', '-r', './otel.js', '/app/config-reloader.js']), true],
    ['a binary of that name', proc(11, 0, 'config-reloader', ['config-reloader', 'run'], { exeName: 'config-reloader' }), true],
    ['the app, also run by node', proc(12, 0, 'node', ['node', '/srv/server.js', '--config', '/etc/config-reloader.js']), false],
    ['an app that requires a module of that name first', proc(13, 0, 'node', ['node', '-r', 'config-reloader.js', 'server.js']), false],
    ['a process with a rewritten title', proc(14, 0, 'node', ['my-app', 'worker']), false],
  ];
  for (const [what, info, expected] of table) assert.equal(isConfigReloader(info), expected, what);
  const pod = [...table.map(([, info]) => info), proc(SELF, 0, 'node', ['node', '/app/dist/bin/config-reloader.js'])];
  assert.deepEqual(selectTargets(pod, 'node', true, SELF).targets.map((info) => info.pid), [12, 13, 14]);
});

test('a name with quotes or control characters is quoted and escaped in a process list, as in the logs', () => {
  assert.equal(describeProcesses([proc(7, 1, 'nginx'), proc(8, 1, 'a "b"\n\u001b[31m')]), '7 nginx, 8 "a \\"b\\"\\n\\u001b[31m"');
});

test('a PID namespace holding only the sidecar is recognised as shareProcessNamespace being off', () => {
  const alone = [proc(1, 0, 'tini', ['/tini']), proc(SELF, 1, 'node'), proc(70, SELF, 'sh')];
  assert.equal(seesOnlyItself(alone, SELF), true);
  assert.equal(seesOnlyItself(nginxPod, SELF), false);
  assert.match(noTargetMessage('nginx', alone, SELF), /shareProcessNamespace: true/);
  assert.doesNotMatch(noTargetMessage('redis', nginxPod, SELF), /shareProcessNamespace/);
  assert.match(noTargetMessage('redis', nginxPod, SELF), /7 nginx/);
});

test('the permission diagnosis names both uids and both fixes', () => {
  const message = permissionMessage('SIGHUP', {
    pid: 7, name: 'nginx', targetUid: { real: 101 }, senderUid: { real: 1000, effective: 1000 }, senderHasCapKill: false,
  });
  assert.match(message, /uid 101/);
  assert.match(message, /uid 1000 without CAP_KILL/);
  assert.match(message, /runAsUser: 101/);
  assert.match(message, /add \[KILL\]/);
});

test('the process list in a diagnosis leaves out kernel threads', () => {
  const host = [proc(2, 0, 'kthreadd', [], { kernelThread: true }), proc(7, 1, 'nginx'), proc(SELF, 1, 'node')];
  const message = noTargetMessage('redis', host, SELF);
  assert.doesNotMatch(message, /kthreadd/);
  assert.match(message, /7 nginx/);
});
