// How a process takes a signal it has no handler for: judged over tables of
// facts as /proc showed them for real processes, then read from real ones
// (tini and dumb-init from Debian, and signal-reader.c in each of its modes)
// and proved by sending the signal.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';

import { copyPackageReadableByAll } from './helpers/package-copy';
import { libraryScript, runLibraryScript } from './helpers/library-script';
import { startInitShim, startSignalReader } from './helpers/signal-readers';
import { judgeSignalReception, receptionIsSafe, receptionReachesApp, type SignalFacts, type SignalReception } from '../lib/signal-reception';
import { readSignalFacts, readSignalReception } from '../lib/signal-facts';
import { waitFor } from './helpers/wait-for';

const SIGHUP = 1;
const SIGUSR1 = 10;
const SIGTERM = 15;
const SIGWINCH = 28;
const bit = (signo: number): bigint => 1n << BigInt(signo - 1);
// The set tini waits for, read from its memory: all but SIGFPE, SIGILL,
// SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU and 32, 33.
const TINI_SET = 0xfffffffe3fcffb07n;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

describe('judgeSignalReception', () => {
  const table: ReadonlyArray<readonly [string, SignalFacts, number, SignalReception]> = [
    [
      'a handler wins, whatever the threads do',
      { pid: 7, caught: bit(SIGHUP), ignored: 0n, threads: [] },
      SIGHUP, { by: 'handler' },
    ],
    [
      'tini, in sigtimedwait for its set (SigBlk shows nothing while it waits)',
      { pid: 7, caught: 0n, ignored: 0x300006n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'sigtimedwait', set: TINI_SET } }] },
      SIGHUP, { by: 'sigwait', threads: [7] },
    ],
    [
      'tini between two waits: every signal blocked',
      { pid: 7, caught: 0n, ignored: 0x300006n, threads: [{ tid: 7, blocked: TINI_SET }] },
      SIGHUP, { by: 'blocked' },
    ],
    [
      'tini takes SIGINT although a shell started it with SIGINT ignored: a waited signal is not dropped',
      { pid: 7, caught: 0n, ignored: 0x300006n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'sigtimedwait', set: TINI_SET } }] },
      2, { by: 'sigwait', threads: [7] },
    ],
    [
      'a sigtimedwait for other signals leaves this one open: the default action applies',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'sigtimedwait', set: bit(SIGTERM) } }] },
      SIGHUP, { by: 'default', action: 'terminate', threads: [7] },
    ],
    [
      'a signalfd reader: blocked, and the signalfd takes it',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0x201n }], signalfds: [0x201n] },
      SIGHUP, { by: 'signalfd' },
    ],
    [
      'blocked with a signalfd for other signals only: pending, nobody visibly reads it',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: bit(SIGHUP) | bit(SIGTERM) }], signalfds: [bit(SIGTERM)] },
      SIGHUP, { by: 'blocked' },
    ],
    [
      'the main thread waits, a second thread leaves it open: the kernel may pick the open one',
      {
        pid: 7, caught: bit(33), ignored: 0n,
        threads: [{ tid: 7, blocked: 0n, wait: { in: 'sigtimedwait', set: 0x201n } }, { tid: 9, blocked: 0n, wait: { in: 'other' } }],
      },
      SIGHUP, { by: 'default', action: 'terminate', threads: [9] },
    ],
    [
      'the main thread blocks it, a second thread waits for it in sigwait',
      {
        pid: 7, caught: bit(33), ignored: 0n,
        threads: [{ tid: 7, blocked: 0x201n }, { tid: 9, blocked: 0n, wait: { in: 'sigtimedwait', set: 0x201n } }],
      },
      SIGHUP, { by: 'sigwait', threads: [9] },
    ],
    [
      'an ordinary sleeping process without a handler',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'other' } }] },
      SIGHUP, { by: 'default', action: 'terminate', threads: [7] },
    ],
    [
      'SIG_IGN with the signal open: dropped',
      { pid: 7, caught: 0n, ignored: bit(SIGHUP), threads: [{ tid: 7, blocked: 0n, wait: { in: 'other' } }] },
      SIGHUP, { by: 'ignored' },
    ],
    [
      'SIG_IGN, seen by another uid: ignored still, whatever the thread does',
      { pid: 7, caught: 0n, ignored: bit(SIGHUP), threads: [{ tid: 7, blocked: 0n, wait: { in: 'unknown' } }] },
      SIGHUP, { by: 'ignored' },
    ],
    [
      'another uid cannot see whether the thread waits for it',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'unknown' } }] },
      SIGHUP, { by: 'unknown', threads: [7] },
    ],
    [
      'wchan shows sigtimedwait, but the set it waits for could not be read',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'sigtimedwait', set: undefined } }] },
      SIGHUP, { by: 'unknown', threads: [7] },
    ],
    [
      'a signal whose default action is harmless needs no handler, seen or not',
      { pid: 7, caught: 0n, ignored: 0n, threads: [{ tid: 7, blocked: 0n, wait: { in: 'unknown' } }] },
      SIGWINCH, { by: 'default', action: 'ignore', threads: [7] },
    ],
  ];
  for (const [what, facts, signo, expected] of table) {
    it(what, () => assert.deepEqual(judgeSignalReception(facts, signo), expected));
  }

  it('calls safe only what can neither end nor stop the process, and reaching the app only a handler or a reader', () => {
    const cases: ReadonlyArray<readonly [SignalReception, boolean, boolean]> = [
      [{ by: 'handler' }, true, true],
      [{ by: 'sigwait', threads: [7] }, true, true],
      [{ by: 'signalfd' }, true, true],
      [{ by: 'blocked' }, true, false],
      [{ by: 'ignored' }, true, false],
      [{ by: 'default', action: 'ignore', threads: [7] }, true, false],
      [{ by: 'default', action: 'terminate', threads: [7] }, false, false],
      [{ by: 'default', action: 'core', threads: [7] }, false, false],
      [{ by: 'default', action: 'stop', threads: [7] }, false, false],
      [{ by: 'unknown', threads: [7] }, false, false],
    ];
    for (const [reception, safe, reaches] of cases) {
      assert.equal(receptionIsSafe(reception), safe, JSON.stringify(reception));
      assert.equal(receptionReachesApp(reception), reaches, JSON.stringify(reception));
    }
  });
});

describe('readSignalReception, on real processes', () => {
  it('tini waits for SIGHUP in sigtimedwait, and takes it without dying: it forwards it to its child', async (t) => {
    const tini = await startInitShim(t, 'tini', `tini-${process.pid}`);
    // tini leaves its wait once a second to reap; it is blocked then.
    const reception = await waitFor('tini inside its wait', () => {
      const seen = readSignalReception(tini.pid, SIGHUP);
      return seen?.by === 'sigwait' ? seen : false;
    });
    assert.deepEqual(reception, { by: 'sigwait', threads: [tini.pid] });
    process.kill(tini.pid, 'SIGHUP');
    await tini.waitForLine('hup');
    await sleep(100);
    assert.ok(tini.alive, 'tini survived SIGHUP');
  });

  it('dumb-init installs a handler for every signal it forwards', async (t) => {
    const shim = await startInitShim(t, 'dumb-init', `dumb-init-${process.pid}`);
    assert.deepEqual(readSignalReception(shim.pid, SIGHUP), { by: 'handler' });
    process.kill(shim.pid, 'SIGHUP');
    await shim.waitForLine('hup');
    assert.ok(shim.alive, 'dumb-init survived SIGHUP');
  });

  const readers: ReadonlyArray<readonly [string, Parameters<typeof startSignalReader>[2], (pid: number) => SignalReception, boolean]> = [
    ['a C program in sigtimedwait', 'sigtimedwait', (pid) => ({ by: 'sigwait', threads: [pid] }), true],
    ['a C program in sigwait', 'sigwait', (pid) => ({ by: 'sigwait', threads: [pid] }), true],
    ['a C program reading a signalfd', 'signalfd', () => ({ by: 'signalfd' }), true],
    ['a C program that blocks the signal and never reads it', 'blocked', () => ({ by: 'blocked' }), false],
    ['a C program whose main thread waits while a second thread leaves the signal open', 'threaded-open', (pid) => ({ by: 'default', action: 'terminate', threads: [pid + 1] }), false],
  ];
  for (const [what, mode, expected, receives] of readers) {
    it(`${what}: ${expected(0).by}`, async (t) => {
      const reader = await startSignalReader(t, `reader-${mode}-${process.pid}`.slice(0, 15), mode, [SIGHUP, SIGUSR1]);
      const reception = readSignalReception(reader.pid, SIGHUP);
      // The second thread's tid follows the main thread's in a quiet test
      // namespace, but is read rather than assumed.
      if (reception?.by === 'default') {
        const facts = readSignalFacts(reader.pid, SIGHUP);
        const open = facts?.threads.find((thread) => thread.tid !== reader.pid)?.tid ?? -1;
        assert.deepEqual(reception, { by: 'default', action: 'terminate', threads: [open] });
      } else {
        assert.deepEqual(reception, expected(reader.pid));
      }
      if (reception !== undefined && receptionIsSafe(reception)) {
        process.kill(reader.pid, 'SIGHUP');
        if (receives) await reader.waitForLine('got 1');
        await sleep(100);
        assert.ok(reader.alive, 'it survived SIGHUP');
      }
    });
  }

  it('a C program that waits in sigwait for other signals only would be killed by SIGHUP', async (t) => {
    const reader = await startSignalReader(t, `reader-usr1-${process.pid}`.slice(0, 15), 'sigwait', [SIGUSR1]);
    assert.deepEqual(readSignalReception(reader.pid, SIGHUP), { by: 'default', action: 'terminate', threads: [reader.pid] });
    assert.deepEqual(readSignalReception(reader.pid, SIGUSR1), { by: 'sigwait', threads: [reader.pid] });
  });

  it('a program still starting is judged by what it does now: open, then blocked and waiting', async (t) => {
    const reader = await startSignalReader(t, `reader-late-${process.pid}`.slice(0, 15), 'late', [SIGHUP]);
    assert.equal(readSignalReception(reader.pid, SIGHUP)?.by, 'default');
    await reader.waitForLine('blocked');
    await waitFor('the late reader to wait', () => readSignalReception(reader.pid, SIGHUP)?.by === 'sigwait');
  });

  // The kernel kills a sigtimedwait caller that did not block the signal
  // first, and /proc shows it exactly as a correct one: a limit of what can
  // be known, written down here so that it stays known.
  it('cannot tell a program that waits without blocking (against POSIX) from a correct one', async (t) => {
    const reader = await startSignalReader(t, `reader-unb-${process.pid}`.slice(0, 15), 'unblocked-wait', [SIGHUP]);
    assert.deepEqual(readSignalReception(reader.pid, SIGHUP), { by: 'sigwait', threads: [reader.pid] });
    process.kill(reader.pid, 'SIGHUP');
    await waitFor('the kernel to kill it', () => !reader.alive);
    assert.equal(reader.child.signalCode, 'SIGHUP');
  });

  it('returns undefined for a process that is gone', () => {
    assert.equal(readSignalReception(2 ** 22 + 1, SIGHUP), undefined);
  });

  it('another uid sees no wait: tini is unknown to it, and a blocked reader still blocked', { skip: process.getuid?.() !== 0 && 'needs root to run as nobody' }, async (t) => {
    const tini = await startInitShim(t, 'tini', `tini-nb-${process.pid}`);
    const blocked = await startSignalReader(t, `reader-nb-${process.pid}`.slice(0, 15), 'blocked', [SIGHUP]);
    const root = copyPackageReadableByAll(t);
    const outcomes = await runLibraryScript(NOBODY, libraryScript(root, { 'signal-facts': ['readSignalReception'] }, `
      // tini sits in its wait but for a few microseconds a second.
      for (let i = 0; i < 20; i++) {
        attempt('tini', () => readSignalReception(${tini.pid}, ${SIGHUP}));
        if (outcomes.tini.result && outcomes.tini.result.by !== 'blocked') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      attempt('blocked', () => readSignalReception(${blocked.pid}, ${SIGHUP}));
    `));
    assert.deepEqual(outcomes['tini']?.result, { by: 'unknown', threads: [tini.pid] });
    assert.deepEqual(outcomes['blocked']?.result, { by: 'blocked' });
  });
});
