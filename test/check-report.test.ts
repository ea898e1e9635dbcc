// What `check` concludes about each target, over tables of /proc snapshots:
// a reload works only when the signal is permitted, not ignored, and either
// caught or harmless by default.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { inspectTargets, type Identity } from '../lib/sidecar/cli/check-report';
import type { ProcessInfo } from '../lib/proc';
import type { Config } from '../lib/sidecar/config';
import { parseSignal } from '../lib/signals';

const bit = (signo: number): bigint => 1n << BigInt(signo - 1);
const SIGHUP = 1;

function proc(pid: number, ppid: number, comm: string, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid, ppid, comm, argv: [comm], argv0Name: comm, exe: undefined, exeName: undefined,
    uid: 0, effectiveUid: 0, startTime: pid * 10, state: 'S', kernelThread: false,
    signals: { caught: 0n, ignored: 0n, blocked: 0n, pending: 0n },
    ...extra,
  };
}

const catching = (signo: number): Partial<ProcessInfo> => ({ signals: { caught: bit(signo), ignored: 0n, blocked: 0n, pending: 0n } });
const ignoring = (signo: number): Partial<ProcessInfo> => ({ signals: { caught: 0n, ignored: bit(signo), blocked: 0n, pending: 0n } });

function config(overrides: Partial<Config> = {}): Config {
  return {
    configDirs: ['/etc/app'], processName: 'app', signal: parseSignal('SIGHUP'), debounceMs: 250, settleMs: 500, signalAll: false,
    handlerWaitMs: 30_000, handlerCheck: true, reloadCommand: undefined, reloadUrl: undefined, reloadTimeoutMs: 10_000, reloadRetries: 10,
    logFormat: 'text', logLevel: 'info', metricsAddr: undefined, ...overrides,
  };
}

const SELF = 99;
const ROOT: Identity = { selfPid: SELF, uid: 0, euid: 0, haveCapKill: true };
const NOBODY: Identity = { selfPid: SELF, uid: 65534, euid: 65534, haveCapKill: false };
const sidecar = proc(SELF, 1, 'node');

interface Case {
  readonly name: string;
  readonly processes: readonly ProcessInfo[];
  readonly identity?: Identity;
  readonly config?: Partial<Config>;
  readonly ok: boolean;
  readonly problem?: RegExp;
}

const CASES: readonly Case[] = [
  { name: 'a target that catches the signal is ok', processes: [proc(7, 1, 'app', catching(SIGHUP)), sidecar], ok: true },
  {
    name: 'a target without a handler would be killed by SIGHUP, so it is a problem',
    processes: [proc(7, 1, 'app'), sidecar], ok: false,
    problem: /app \(pid 7\) has no handler for SIGHUP, whose default action would terminate it; .*HANDLER_WAIT \(30s\)/,
  },
  {
    name: 'a signal whose default action is harmless needs no handler',
    processes: [proc(7, 1, 'app'), sidecar], config: { signal: parseSignal('SIGWINCH') }, ok: true,
  },
  {
    name: 'a target that ignores the signal will not reload',
    processes: [proc(7, 1, 'app', ignoring(SIGHUP)), sidecar], ok: false, problem: /ignores SIGHUP, so it will not reload/,
  },
  {
    name: 'another uid without CAP_KILL is likely EPERM, with the fix',
    processes: [proc(7, 1, 'app', { ...catching(SIGHUP), uid: 101 }), sidecar], identity: NOBODY, ok: false,
    problem: /^likely to fail: cannot send SIGHUP to app \(pid 7, uid 101\).*uid 65534 without CAP_KILL.*runAsUser: 101/,
  },
  {
    name: 'another uid is fine with CAP_KILL',
    processes: [proc(7, 1, 'app', { ...catching(SIGHUP), uid: 101 }), sidecar], identity: ROOT, ok: true,
  },
  {
    name: 'the same uid needs no capability',
    processes: [proc(7, 1, 'app', { ...catching(SIGHUP), uid: 65534 }), sidecar], identity: NOBODY, ok: true,
  },
  {
    name: 'no matching process is a problem naming what is visible',
    processes: [proc(1, 0, 'pause'), proc(7, 1, 'other'), sidecar], ok: false, problem: /no process named 'app'/,
  },
  {
    name: 'workers are skipped and do not need a handler',
    processes: [proc(7, 1, 'app', catching(SIGHUP)), proc(8, 7, 'app'), proc(9, 7, 'app'), sidecar], ok: true,
  },
  {
    name: 'with SIGNAL_ALL, a worker without a handler is a problem',
    processes: [proc(7, 1, 'app', catching(SIGHUP)), proc(8, 7, 'app'), sidecar], config: { signalAll: true }, ok: false,
    problem: /app \(pid 8\) has no handler/,
  },
];

for (const item of CASES) {
  test(`check: ${item.name}`, () => {
    const result = inspectTargets(config(item.config), item.processes, item.identity ?? ROOT);
    assert.equal(result.problems.length === 0, item.ok, result.problems.join('\n'));
    if (item.problem !== undefined) {
      assert.equal(result.problems.length, 1, result.problems.join('\n'));
      assert.match(result.problems[0] ?? '', item.problem);
    }
  });
}

test('check lists workers separately from targets', () => {
  const result = inspectTargets(config(), [proc(7, 1, 'app', catching(SIGHUP)), proc(8, 7, 'app'), proc(9, 7, 'app'), sidecar], ROOT);
  assert.deepEqual(result.targets.map((target) => target.pid), [7]);
  assert.deepEqual(result.workers.map((worker) => worker.pid), [8, 9]);
});

test('check never counts itself as a target', () => {
  const result = inspectTargets(config({ processName: 'node' }), [proc(SELF, 1, 'node', catching(SIGHUP))], ROOT);
  assert.deepEqual(result.targets, []);
  assert.match(result.problems[0] ?? '', /sees only its own processes|no process named 'node'/);
});
