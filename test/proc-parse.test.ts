// Every input here was read from a real /proc on Linux 6.18: the stat lines
// and cmdline bytes inline, the status files in test/fixtures/proc/ (each
// named for the process it was read from).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  maskHas,
  parseCmdline,
  parseStat,
  parseStatus,
  PF_KTHREAD,
  ProcFormatError,
  type ProcStat,
} from '../lib/proc-parse';

const fixtures = join(__dirname, '..', '..', 'test', 'fixtures', 'proc');
const statusFixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

describe('parseStat', () => {
  const table: ReadonlyArray<readonly [string, string, ProcStat]> = [
    [
      'nginx master (an ordinary process)',
      '11634 (nginx) S 11629 11629 2586 0 -1 4194560 422 0 1 0 0 0 0 0 20 0 1 0 50953 10502144 1687 18446744073709551615 94851023093760 94851023877233 140726105477936 0 0 0 0 1073745920 402745863 1 0 0 17 1 0 0 0 0 0 94851024111696 94851024212768 94851201769472 140726105479859 140726105479915 140726105479915 140726105481192 0\n',
      { pid: 11634, comm: 'nginx', state: 'S', ppid: 11629, flags: 4194560, startTime: 50953, threads: 1 },
    ],
    [
      'a comm with spaces and parentheses (a copy of sleep named "my) (weird name")',
      '11788 (my) (weird name) S 11787 11782 2586 0 -1 4194304 132 0 0 0 0 0 0 0 20 0 1 0 52643 2990080 414 18446744073709551615 94069515001856 94069515019785 140722776793552 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94069515033872 94069515035136 94069971664896 140722776799950 140722776799973 140722776799973 140722776801253 0\n',
      { pid: 11788, comm: 'my) (weird name', state: 'S', ppid: 11787, flags: 4194304, startTime: 52643, threads: 1 },
    ],
    [
      'a comm crafted to look like fields ("x) Z 1 1 1 0 -1"), which a split at the first ")" would read as a zombie child of init',
      '13464 (x) Z 1 1 1 0 -1) S 13463 13460 2586 0 -1 4194304 134 0 0 0 0 0 0 0 20 0 1 0 65732 2990080 409 18446744073709551615 94914901188608 94914901206537 140726665670144 0 0 0 0 6 0 1 0 0 17 1 0 0 0 0 0 94914901220624 94914901221888 94915597611008 140726665673422 140726665673444 140726665673444 140726665674726 0\n',
      { pid: 13464, comm: 'x) Z 1 1 1 0 -1', state: 'S', ppid: 13463, flags: 4194304, startTime: 65732, threads: 1 },
    ],
    [
      'a zombie (exited, not yet reaped)',
      '11971 (sleep) Z 11969 11954 2586 0 -1 4227084 96 0 0 0 0 0 0 0 20 0 1 0 54167 0 0 18446744073709551615 0 0 0 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
      { pid: 11971, comm: 'sleep', state: 'Z', ppid: 11969, flags: 4227084, startTime: 54167, threads: 1 },
    ],
    [
      'a stopped node process',
      '11859 (node) T 11832 11832 2586 0 -1 4194304 2210 0 6 0 6 0 0 0 20 0 7 0 53371 745713664 10001 18446744073709551615 11988992 39846385 140722188245904 0 0 0 2147221247 16781312 17923 0 0 0 17 1 0 0 0 0 0 90418888 90555584 949829632 140722188253875 140722188253938 140722188253938 140722188255210 19\n',
      { pid: 11859, comm: 'node', state: 'T', ppid: 11832, flags: 4194304, startTime: 53371, threads: 7 },
    ],
    [
      'kthreadd (a kernel thread, ppid 0)',
      '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 25 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
      { pid: 2, comm: 'kthreadd', state: 'S', ppid: 0, flags: 2129984, startTime: 25, threads: 1 },
    ],
    [
      'a kworker, whose comm the kernel extends past 15 bytes with its workqueue',
      '10 (kworker/0:0H-events_highpri) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 25 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
      { pid: 10, comm: 'kworker/0:0H-events_highpri', state: 'I', ppid: 2, flags: 69238880, startTime: 25, threads: 1 },
    ],
  ];
  for (const [what, text, expected] of table) {
    it(`parses ${what}`, () => {
      assert.deepEqual(parseStat(text), expected);
    });
  }

  it('marks kernel threads with PF_KTHREAD and user processes without it', () => {
    const [nginx, , , , , kthreadd, kworker] = table.map(([, text]) => parseStat(text));
    assert.ok(nginx !== undefined && kthreadd !== undefined && kworker !== undefined);
    assert.equal(nginx.flags & PF_KTHREAD, 0);
    assert.equal(kthreadd.flags & PF_KTHREAD, PF_KTHREAD);
    assert.equal(kworker.flags & PF_KTHREAD, PF_KTHREAD);
  });

  const malformed: ReadonlyArray<readonly [string, RegExp]> = [
    ['', /no "\(comm\)" field/],
    ['1234 sleep S 1 1', /no "\(comm\)" field/],
    ['x (sleep) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0', /field pid is "x"/],
    ['1234 (sleep) 7 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0', /state is "7"/],
    ['1234 (sleep) S 1 1 1 0 -1 0 0 0', /field starttime \(22\) is missing/],
    ['1234 (sleep) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0', /field ppid \(4\) is "x"/],
  ];
  for (const [text, reason] of malformed) {
    it(`rejects malformed stat ${JSON.stringify(text.slice(0, 30))} with ProcFormatError`, () => {
      assert.throws(
        () => parseStat(text),
        (error: unknown) =>
          error instanceof ProcFormatError && error.code === 'ERR_PROC_FORMAT' && reason.test(error.message),
      );
    });
  }
});

describe('parseStatus', () => {
  it('reads the uids and masks of an nginx worker running as nobody', () => {
    assert.deepEqual(parseStatus(statusFixture('nginx-worker.status')), {
      name: 'nginx',
      state: 'S',
      threads: 1,
      ppid: 13593,
      uid: { real: 65534, effective: 65534, saved: 65534, filesystem: 65534 },
      signals: {
        caught: 0x18016a07n,
        ignored: 0x40001000n,
        blocked: 0n,
        pending: 0n,
        sharedPending: 0n,
      },
    });
  });

  it('tells the real uid from the effective one (setpriv --ruid=65534 --euid=1000)', () => {
    assert.deepEqual(parseStatus(statusFixture('setpriv-ruid-euid.status')).uid, {
      real: 65534,
      effective: 1000,
      saved: 1000,
      filesystem: 1000,
    });
  });

  it('reads signals pending for the whole process from ShdPnd (a stopped bash sent SIGHUP and SIGUSR2)', () => {
    const { signals } = parseStatus(statusFixture('bash-stopped-with-pending.status'));
    assert.equal(signals.sharedPending, 0x801n);
    assert.equal(signals.pending, 0n);
    assert.ok(maskHas(signals.sharedPending, 1), 'SIGHUP pending');
    assert.ok(maskHas(signals.sharedPending, 12), 'SIGUSR2 pending');
    assert.ok(maskHas(signals.blocked, 17), 'SIGCHLD blocked');
    assert.ok(maskHas(signals.ignored, 2) && maskHas(signals.ignored, 3), 'SIGINT and SIGQUIT ignored');
  });

  it('reads a kernel thread, which ignores every signal', () => {
    const { signals } = parseStatus(statusFixture('kthreadd.status'));
    assert.equal(signals.ignored, 0xffffffffffffffffn);
    assert.ok(maskHas(signals.ignored, 64));
    assert.equal(signals.caught, 0n);
  });

  it('reads a zombie', () => {
    const status = parseStatus(statusFixture('zombie.status'));
    assert.equal(status.state, 'Z');
    assert.equal(status.uid.real, 0);
    assert.equal(status.signals.caught, 0n);
    assert.equal(status.signals.ignored, 6n);
  });

  it('keeps the spaces of a name but not the tab after the colon, and finds keys only at the start of a line', () => {
    const text = statusFixture('nginx-worker.status').replace(/^Name:.*$/m, 'Name:\t my app ').replace(/^Umask:.*$/m, 'Umask:\tXState:\tR');
    const status = parseStatus(text);
    assert.equal(status.name, ' my app ');
    assert.equal(status.state, 'S');
  });

  it('rejects a status without the Uid line or with a malformed mask', () => {
    const text = statusFixture('nginx-worker.status');
    assert.throws(() => parseStatus(text.replace(/^Uid:.*\n/m, '')), /no Uid line/);
    assert.throws(() => parseStatus(text.replace(/^SigCgt:.*\n/m, '')), /no SigCgt line/);
    assert.throws(() => parseStatus(text.replace(/^State:.*\n/m, '')), /no State line/);
    assert.throws(() => parseStatus(text.replace(/^SigIgn:.*$/m, 'SigIgn:\tzz')), /SigIgn is "zz", not hexadecimal/);
    assert.throws(() => parseStatus(text.replace(/^Uid:.*$/m, 'Uid:\t0\t0')), /fewer than 4 ids/);
  });
});

describe('maskHas', () => {
  const table: ReadonlyArray<readonly [bigint, number, boolean]> = [
    [0x1n, 1, true],
    [0x1n, 2, false],
    [0x18016a07n, 1, true], // nginx catches SIGHUP
    [0x18016a07n, 15, true], // and SIGTERM
    [0x18016a07n, 9, false], // never SIGKILL
    [0x8000000000000000n, 64, true],
    [0x8000000000000000n, 63, false],
    [0xffffffffffffffffn, 33, true],
  ];
  for (const [mask, signo, expected] of table) {
    it(`mask 0x${mask.toString(16)} ${expected ? 'has' : 'lacks'} signal ${signo}`, () => {
      assert.equal(maskHas(mask, signo), expected);
    });
  }

  it('rejects signal numbers outside 1..64', () => {
    for (const signo of [0, 65, -1, 1.5, Number.NaN]) {
      assert.throws(() => maskHas(1n, signo), RangeError, String(signo));
    }
  });
});

describe('parseCmdline', () => {
  const nul = (n: number): string => '\0'.repeat(n);
  const table: ReadonlyArray<readonly [string, string, string[]]> = [
    [
      'a normal argv, NUL-terminated (postgres master)',
      '/usr/lib/postgresql/15/bin/postgres\0-D\0/tmp/pgd/data\0-k\0/tmp/pgd\0-p\x0015432\0-c\0listen_addresses=\0',
      ['/usr/lib/postgresql/15/bin/postgres', '-D', '/tmp/pgd/data', '-k', '/tmp/pgd', '-p', '15432', '-c', 'listen_addresses='],
    ],
    ['an argument with a space stays one argument', 'sh\0-c\0sleep 100\0', ['sh', '-c', 'sleep 100']],
    ['an empty argument in the middle is kept', 'prog\0\0x\0', ['prog', '', 'x']],
    ['a kernel thread or zombie (empty)', '', []],
    [
      'nginx master: a title longer than its argv, returned up to its first NUL',
      'nginx: master process nginx -c /tmp/ngx/nginx.conf -p /tmp/ngx -g daemon off;\0',
      ['nginx', 'master', 'process', 'nginx', '-c', '/tmp/ngx/nginx.conf', '-p', '/tmp/ngx', '-g', 'daemon', 'off;'],
    ],
    [
      'nginx worker: a title padded with NULs',
      `nginx: worker process${nul(35)}`,
      ['nginx', 'worker', 'process'],
    ],
    [
      'postgres checkpointer: a title with a trailing space, padded with NULs',
      `postgres: checkpointer ${nul(72)}`,
      ['postgres', 'checkpointer'],
    ],
    [
      'postgres background writer',
      `postgres: background writer ${nul(67)}`,
      ['postgres', 'background', 'writer'],
    ],
    [
      'a title without the "name:" convention (perl: $0 = "puma 6.4.0 ...")',
      'puma 6.4.0 (tcp://0.0.0.0:9292) [app]\0',
      ['puma', '6.4.0', '(tcp://0.0.0.0:9292)', '[app]'],
    ],
  ];
  for (const [what, bytes, argv] of table) {
    it(`parses ${what}`, () => {
      assert.deepEqual(parseCmdline(Buffer.from(bytes, 'latin1')), argv);
    });
  }

  it('decodes UTF-8 arguments', () => {
    assert.deepEqual(parseCmdline(Buffer.from('echo\0grüße\0', 'utf8')), ['echo', 'grüße']);
  });
});
