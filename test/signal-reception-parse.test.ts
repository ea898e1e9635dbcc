// Every input here was read from a real /proc on Linux 6.18 (x86_64): tini
// and the signal-reader test program (test/helpers/signal-reader.c) waiting
// in sigtimedwait, sleep in nanosleep, a shell loop running and stopped, the
// descriptors of a signalfd, a pidfd and a plain file (test/fixtures/proc/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { maskHas, parseStatus, ProcFormatError } from '../lib/proc-parse';
import {
  isSigtimedwaitWchan,
  parseFdinfoSigmask,
  parseSigset,
  parseSyscall,
  parseWchan,
  type ProcSyscall,
  rtSigtimedwaitNumber,
} from '../lib/signal-reception-parse';

const fixtures = join(__dirname, '..', '..', 'test', 'fixtures', 'proc');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

describe('parseSyscall', () => {
  const table: ReadonlyArray<readonly [string, string, ProcSyscall]> = [
    [
      'tini in rt_sigtimedwait (128): the set, the siginfo, the timeout and the set size 8',
      '128 0x7ffc853316f0 0x7ffc85331620 0x55fbbd9bc020 0x8 0x7 0x55fbc6b822a0 0x7ffc853315f0 0x7f703fa4bc2f\n',
      { kind: 'syscall', number: 128, args: [0x7ffc853316f0n, 0x7ffc85331620n, 0x55fbbd9bc020n, 8n, 7n, 0x55fbc6b822a0n] },
    ],
    [
      'sigwait without a timeout (a null third argument)',
      '128 0x563482c320e0 0x7ffe83a4af00 0x0 0x8 0x0 0x64 0x7ffe83a4aed0 0x7f5d63599c2f\n',
      { kind: 'syscall', number: 128, args: [0x563482c320e0n, 0x7ffe83a4af00n, 0n, 8n, 0n, 0x64n] },
    ],
    [
      'sleep in clock_nanosleep (230)',
      '230 0x0 0x0 0x7ffcf3fa3a90 0x7ffcf3fa3ad0 0x0 0x0 0x7ffcf3fa3a78 0x7fa96284c503\n',
      { kind: 'syscall', number: 230, args: [0n, 0n, 0x7ffcf3fa3a90n, 0x7ffcf3fa3ad0n, 0n, 0n] },
    ],
    ['a shell loop on a CPU', 'running\n', { kind: 'running' }],
    ['a shell loop stopped by SIGSTOP on a CPU: blocked outside a system call', '-1 0x7ffd94cc45e0 0x555e914b9e16\n', { kind: 'outside-syscall' }],
  ];
  for (const [what, text, expected] of table) {
    it(`reads ${what}`, () => assert.deepEqual(parseSyscall(text), expected));
  }

  it('refuses text of another shape, naming the file', () => {
    for (const text of ['', '128 0x1 0x2', 'sleeping', '128 1 2 3 4 5 6 7 8']) {
      assert.throws(() => parseSyscall(text), (error: unknown) => error instanceof ProcFormatError && error.file === 'syscall', text);
    }
  });
});

describe('rtSigtimedwaitNumber', () => {
  it('is 128 on x86_64 and 137 on arm64, and unknown elsewhere', () => {
    assert.equal(rtSigtimedwaitNumber('x64'), 128);
    assert.equal(rtSigtimedwaitNumber('arm64'), 137);
    assert.equal(rtSigtimedwaitNumber('ia32'), undefined);
  });
});

describe('parseWchan', () => {
  const table: ReadonlyArray<readonly [string, string, string | undefined, boolean]> = [
    ['tini in sigtimedwait', 'do_sigtimedwait.isra.0', 'do_sigtimedwait.isra.0', true],
    ['sleep', 'hrtimer_nanosleep', 'hrtimer_nanosleep', false],
    ['a signalfd reader in poll', 'poll_schedule_timeout.constprop.0', 'poll_schedule_timeout.constprop.0', false],
    ['pause(2)', '__do_sys_pause', '__do_sys_pause', false],
    ['a stopped process', 'do_signal_stop', 'do_signal_stop', false],
    ['a running thread, or one the reader may not see into', '0', undefined, false],
  ];
  for (const [what, text, symbol, sigtimedwait] of table) {
    it(`reads ${what}`, () => {
      assert.equal(parseWchan(text), symbol);
      assert.equal(isSigtimedwaitWchan(parseWchan(text)), sigtimedwait);
    });
  }

  it('does not take a function whose name merely starts the same for the wait', () => {
    assert.equal(isSigtimedwaitWchan('do_sigtimedwaitx'), false);
  });
});

describe('parseFdinfoSigmask', () => {
  it('reads the signals a signalfd takes: SIGHUP and SIGUSR1', () => {
    const mask = parseFdinfoSigmask(fixture('signalfd.fdinfo'));
    assert.equal(mask, 0x201n);
    assert.ok(mask !== undefined && maskHas(mask, 1) && maskHas(mask, 10) && !maskHas(mask, 15));
  });

  it('finds no mask in a pidfd or a plain file', () => {
    assert.equal(parseFdinfoSigmask(fixture('pidfd.fdinfo')), undefined);
    assert.equal(parseFdinfoSigmask(fixture('regular-file.fdinfo')), undefined);
  });
});

describe('parseSigset', () => {
  it('reads the set tini waits for from its memory: every signal but the synchronous ones and SIGTTIN, SIGTTOU', () => {
    // Read from tini's /proc/<pid>/mem at the address in its syscall file.
    const set = parseSigset(Buffer.from('07fbcf3ffeffffff', 'hex'));
    assert.equal(set, 0xfffffffe3fcffb07n);
    assert.ok(maskHas(set, 1) && maskHas(set, 15) && maskHas(set, 10), 'SIGHUP, SIGTERM, SIGUSR1');
    assert.ok(!maskHas(set, 11) && !maskHas(set, 21) && !maskHas(set, 22), 'not SIGSEGV, SIGTTIN, SIGTTOU');
  });

  it('refuses a buffer that is not 8 bytes', () => {
    assert.throws(() => parseSigset(Buffer.alloc(4)), RangeError);
  });
});

describe('tini waiting in sigtimedwait, as its status shows it', () => {
  it('has no handler, and the signals it waits for are missing from SigBlk', () => {
    const status = parseStatus(fixture('tini-sigtimedwait.status'));
    assert.equal(status.signals.caught, 0n);
    assert.equal(status.signals.blocked, 0n);
    assert.ok(maskHas(status.signals.ignored, 21) && maskHas(status.signals.ignored, 22), 'SIGTTIN and SIGTTOU ignored');
  });
});
