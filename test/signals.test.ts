import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';

import {
  defaultAction,
  defaultActionTerminates,
  InvalidSignalError,
  parseSignal,
  signalName,
  SIGRTMAX,
  SIGRTMIN,
} from '../lib/signals';

describe('parseSignal', () => {
  const accepted: ReadonlyArray<readonly [string | number, number, string]> = [
    ['SIGHUP', 1, 'SIGHUP'],
    ['HUP', 1, 'SIGHUP'],
    ['hup', 1, 'SIGHUP'],
    ['sighup', 1, 'SIGHUP'],
    ['SigHup', 1, 'SIGHUP'],
    ['1', 1, 'SIGHUP'],
    [1, 1, 'SIGHUP'],
    ['SIGUSR1', 10, 'SIGUSR1'],
    ['usr2', 12, 'SIGUSR2'],
    ['SIGTERM', 15, 'SIGTERM'],
    ['SIGSTKFLT', 16, 'SIGSTKFLT'],
    ['winch', 28, 'SIGWINCH'],
    ['SIGSYS', 31, 'SIGSYS'],
    [31, 31, 'SIGSYS'],
    // Aliases are accepted and reported by their common name.
    ['SIGIOT', 6, 'SIGABRT'],
    ['iot', 6, 'SIGABRT'],
    ['SIGPOLL', 29, 'SIGIO'],
    [6, 6, 'SIGABRT'],
    [29, 29, 'SIGIO'],
    // Real-time signals, named as bash's `kill -l` names them.
    ['SIGRTMIN', 34, 'SIGRTMIN'],
    ['RTMIN', 34, 'SIGRTMIN'],
    ['SIGRTMIN+0', 34, 'SIGRTMIN'],
    ['SIGRTMIN+3', 37, 'SIGRTMIN+3'],
    ['RTMIN+3', 37, 'SIGRTMIN+3'],
    ['rtmin+3', 37, 'SIGRTMIN+3'],
    ['SIGRTMIN+15', 49, 'SIGRTMIN+15'],
    ['SIGRTMIN+16', 50, 'SIGRTMAX-14'],
    ['SIGRTMIN+30', 64, 'SIGRTMAX'],
    ['SIGRTMAX', 64, 'SIGRTMAX'],
    ['SIGRTMAX-0', 64, 'SIGRTMAX'],
    ['SIGRTMAX-1', 63, 'SIGRTMAX-1'],
    ['sigrtmax-14', 50, 'SIGRTMAX-14'],
    ['SIGRTMAX-30', 34, 'SIGRTMIN'],
    ['34', 34, 'SIGRTMIN'],
    [37, 37, 'SIGRTMIN+3'],
    [64, 64, 'SIGRTMAX'],
    // Surrounding whitespace (a trailing newline from a file or env var) is trimmed.
    [' HUP ', 1, 'SIGHUP'],
    ['SIGHUP\n', 1, 'SIGHUP'],
    ['\t15', 15, 'SIGTERM'],
  ];
  for (const [input, number, name] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${name} (${number})`, () => {
      assert.deepEqual(parseSignal(input), { number, name });
    });
  }

  it('accepts every name in os.constants.signals with its own number', () => {
    for (const [name, number] of Object.entries(constants.signals)) {
      assert.equal(parseSignal(name).number, number, name);
      assert.equal(parseSignal(name.slice(3).toLowerCase()).number, number, name);
    }
  });

  it('accepts every number from 1 to 64 except 32 and 33, and names each uniquely', () => {
    const names = new Set<string>();
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue;
      const signal = parseSignal(n);
      assert.equal(signal.number, n);
      assert.deepEqual(parseSignal(signal.name), signal, `round trip of ${signal.name}`);
      names.add(signal.name);
    }
    assert.equal(names.size, 62);
  });

  const rejected: ReadonlyArray<readonly [string | number, RegExp]> = [
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['SIGFOO', /no such signal/],
    ['FOO', /no such signal/],
    ['SIG', /no such signal/],
    ['SIGSIGHUP', /no such signal/],
    ['SIG HUP', /no such signal/],
    ['SIGRTMIN + 1', /no such signal/],
    ['SIGRTMIN+', /no such signal/],
    ['SIGRTMIN+1.5', /no such signal/],
    ['0x1', /no such signal/],
    ['0', /signal 0 delivers nothing/],
    [0, /signal 0 delivers nothing/],
    ['32', /reserved by glibc/],
    [33, /reserved by glibc/],
    ['SIGRTMIN-1', /signal 33, below SIGRTMIN/],
    ['SIGRTMAX-31', /signal 33, below SIGRTMIN/],
    ['65', /out of range/],
    [65, /out of range/],
    [1e9, /out of range/],
    ['SIGRTMIN+31', /signal 65, past SIGRTMAX/],
    ['SIGRTMAX+1', /signal 65, past SIGRTMAX/],
    ['-1', /not a whole number/],
    [-1, /not a whole number/],
    ['1.5', /not a whole number/],
    [1.5, /not a whole number/],
    ['+1', /not a whole number/],
    [Number.NaN, /not a whole number/],
    [Number.POSITIVE_INFINITY, /not a whole number/],
  ];
  for (const [input, reason] of rejected) {
    it(`rejects ${typeof input === 'string' ? JSON.stringify(input) : String(input)} naming the value and what is accepted`, () => {
      assert.throws(
        () => parseSignal(input),
        (error: unknown) => {
          assert.ok(error instanceof InvalidSignalError);
          assert.equal(error.code, 'ERR_INVALID_SIGNAL');
          assert.equal(error.value, input);
          assert.match(error.message, reason);
          const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
          assert.ok(error.message.startsWith(`invalid signal ${shown}: `), error.message);
          assert.match(error.message, /accepted: .*SIGHUP, HUP, hup.*SIGRTMIN\+N.*1 to 31 or 34 to 64/);
          return true;
        },
      );
    });
  }

  it('rejects a value that is neither a string nor a number (an untyped caller)', () => {
    const fromJson: unknown = JSON.parse('{"signal": null}');
    const value = (fromJson as { signal: string }).signal;
    assert.throws(() => parseSignal(value), /invalid signal null: expected a string or a number, got object/);
  });
});

describe('signalName', () => {
  it('names standard and real-time signals canonically', () => {
    assert.equal(signalName(1), 'SIGHUP');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(SIGRTMIN), 'SIGRTMIN');
    assert.equal(signalName(37), 'SIGRTMIN+3');
    assert.equal(signalName(63), 'SIGRTMAX-1');
    assert.equal(signalName(SIGRTMAX), 'SIGRTMAX');
  });

  it('throws InvalidSignalError for numbers that are not usable signals', () => {
    for (const n of [0, 32, 33, 65, -1, 2.5]) {
      assert.throws(() => signalName(n), InvalidSignalError, String(n));
    }
  });
});

describe('defaultAction and defaultActionTerminates', () => {
  const table: ReadonlyArray<readonly [string, ReturnType<typeof defaultAction>]> = [
    ['SIGHUP', 'terminate'],
    ['SIGINT', 'terminate'],
    ['SIGUSR1', 'terminate'],
    ['SIGUSR2', 'terminate'],
    ['SIGTERM', 'terminate'],
    ['SIGKILL', 'terminate'],
    ['SIGPIPE', 'terminate'],
    ['SIGALRM', 'terminate'],
    ['SIGSTKFLT', 'terminate'],
    ['SIGIO', 'terminate'],
    ['SIGPWR', 'terminate'],
    ['SIGVTALRM', 'terminate'],
    ['SIGPROF', 'terminate'],
    ['SIGQUIT', 'core'],
    ['SIGILL', 'core'],
    ['SIGTRAP', 'core'],
    ['SIGABRT', 'core'],
    ['SIGBUS', 'core'],
    ['SIGFPE', 'core'],
    ['SIGSEGV', 'core'],
    ['SIGXCPU', 'core'],
    ['SIGXFSZ', 'core'],
    ['SIGSYS', 'core'],
    ['SIGCHLD', 'ignore'],
    ['SIGURG', 'ignore'],
    ['SIGWINCH', 'ignore'],
    ['SIGCONT', 'continue'],
    ['SIGSTOP', 'stop'],
    ['SIGTSTP', 'stop'],
    ['SIGTTIN', 'stop'],
    ['SIGTTOU', 'stop'],
    ['SIGRTMIN', 'terminate'],
    ['SIGRTMIN+3', 'terminate'],
    ['SIGRTMAX', 'terminate'],
  ];
  for (const [name, action] of table) {
    it(`${name}: ${action}`, () => {
      const { number } = parseSignal(name);
      assert.equal(defaultAction(number), action);
      assert.equal(defaultActionTerminates(number), action === 'terminate' || action === 'core');
    });
  }

  it('covers every valid signal: only the 8 ignore/continue/stop signals survive their default action', () => {
    const survivors: string[] = [];
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue;
      if (!defaultActionTerminates(n)) survivors.push(signalName(n));
    }
    assert.deepEqual(survivors.sort(), [
      'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGWINCH',
    ]);
  });

  it('throws InvalidSignalError for an unusable number', () => {
    assert.throws(() => defaultActionTerminates(0), InvalidSignalError);
    assert.throws(() => defaultActionTerminates(32), InvalidSignalError);
  });
});
