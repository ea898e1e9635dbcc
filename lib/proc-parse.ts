// Parsers for the /proc/<pid> files the process lookup reads. Pure: they take
// the text or bytes and never touch the filesystem, so every quirk below is
// tested with real inputs in test/proc-parse.test.ts. Field meanings: proc(5).

/** Text from /proc that does not have the documented shape. */
export class ProcFormatError extends Error {
  override readonly name = 'ProcFormatError';
  readonly code = 'ERR_PROC_FORMAT';
  constructor(
    readonly file: string,
    reason: string,
    readonly text: string,
  ) {
    super(`cannot parse /proc/<pid>/${file}: ${reason}; text was ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** Set in the `flags` field of kernel threads (include/linux/sched.h). */
export const PF_KTHREAD = 0x00200000;

/** The fields of /proc/<pid>/stat the process lookup uses. */
export interface ProcStat {
  readonly pid: number;
  /**
   * The kernel's name for the task: the executable's basename cut to 15
   * bytes (TASK_COMM_LEN - 1) unless the process renamed itself with
   * prctl(PR_SET_NAME). Any bytes at all, spaces and parentheses included.
   */
  readonly comm: string;
  /** One letter: R running, S sleeping, D disk wait, Z zombie, T stopped, t traced, X dead, I idle, ... */
  readonly state: string;
  readonly ppid: number;
  /** The PF_* flags (field 9); see {@link PF_KTHREAD}. */
  readonly flags: number;
  /**
   * When the process started, in clock ticks (USER_HZ, 100 on every common
   * configuration) since boot (field 22). Together with the pid it names one
   * process: a reused pid gets a later start time.
   */
  readonly startTime: number;
  /**
   * Threads in the process (field 20). A process whose main thread has
   * exited shows state Z while its other threads run on: it is a zombie
   * only when this is 1.
   */
  readonly threads: number;
}

function integerField(file: string, text: string, name: string, value: string | undefined): number {
  if (value === undefined || !/^-?\d+$/.test(value)) {
    throw new ProcFormatError(file, `field ${name} is ${value === undefined ? 'missing' : JSON.stringify(value)}`, text);
  }
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new ProcFormatError(file, `field ${name} is out of range`, text);
  return number;
}

/**
 * Parses /proc/<pid>/stat.
 *
 * The second field is the comm in parentheses, and comm may itself contain
 * spaces and parentheses (`my) (weird name`), so the line cannot be split on
 * spaces: comm runs from the first '(' to the LAST ')', and the fields after
 * that are plain numbers and the one-letter state.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new ProcFormatError('stat', 'no "(comm)" field', text);
  const pid = integerField('stat', text, 'pid', text.slice(0, open));
  const comm = text.slice(open + 2, close);
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const rest = text.slice(close + 2).trimEnd().split(' ');
  const field = (n: number): string | undefined => rest[n - 3];
  const state = field(3);
  if (state === undefined || !/^[A-Za-z]$/.test(state)) {
    throw new ProcFormatError('stat', `state is ${JSON.stringify(state)}`, text);
  }
  return {
    pid,
    comm,
    state,
    ppid: integerField('stat', text, 'ppid (4)', field(4)),
    flags: integerField('stat', text, 'flags (9)', field(9)),
    startTime: integerField('stat', text, 'starttime (22)', field(22)),
    threads: integerField('stat', text, 'num_threads (20)', field(20)),
  };
}

/** Signal masks from /proc/<pid>/status; bit (signo - 1) stands for signal signo, see {@link maskHas}. */
export interface ProcSignalMasks {
  /** SigCgt: signals with a handler installed. Process-wide: all threads share handlers. */
  readonly caught: bigint;
  /** SigIgn: signals set to SIG_IGN, discarded on arrival. Process-wide. */
  readonly ignored: bigint;
  /**
   * SigBlk: signals the thread this file describes (the main thread, for
   * /proc/<pid>/status) has blocked. Other threads may not block them.
   */
  readonly blocked: bigint;
  /** SigPnd: signals pending for that one thread (tgkill, faults). */
  readonly pending: bigint;
  /** ShdPnd: signals pending for the process as a whole, which is where kill(2) puts them. */
  readonly sharedPending: bigint;
}

/** The fields of /proc/<pid>/status the process lookup uses. */
export interface ProcStatus {
  /**
   * The task name (comm) as status prints it, escaped by the kernel: a
   * newline or a backslash in the name reads `\n` and `\\` since Linux
   * 5.15 or so, `\012` and `\134` before. It can therefore differ from
   * stat's raw comm, but never spans lines.
   */
  readonly name: string;
  /** One letter, as in stat: S, R, D, Z (zombie), T, ... */
  readonly state: string;
  /** Threads in the process; see {@link ProcStat.threads}. */
  readonly threads: number;
  /** The parent's pid (0 when the parent is outside the reader's PID namespace). */
  readonly ppid: number;
  readonly uid: {
    readonly real: number;
    readonly effective: number;
    readonly saved: number;
    readonly filesystem: number;
  };
  readonly signals: ProcSignalMasks;
}

/**
 * Parses /proc/<pid>/status: `Key:\tvalue` lines. Reads Name, State, Threads, PPid, the Uid
 * line (real, effective, saved set, filesystem) and the five signal masks,
 * which the kernel prints as hexadecimal.
 *
 * It looks up just these keys rather than splitting all fifty-odd lines: this
 * runs right before every reload signal, where the code is cold.
 */
export function parseStatus(text: string): ProcStatus {
  const required = (key: string, trim = true): string => {
    const value = statusValue(text, key, trim);
    if (value === undefined) throw new ProcFormatError('status', `no ${key} line`, text);
    return value;
  };
  const mask = (key: string): bigint => {
    const value = required(key);
    if (!/^[0-9a-fA-F]+$/.test(value)) {
      throw new ProcFormatError('status', `${key} is ${JSON.stringify(value)}, not hexadecimal`, text);
    }
    return BigInt(`0x${value}`);
  };
  const uidLine = required('Uid');
  const uids = uidLine.split(/\s+/).map((value) => integerField('status', text, 'Uid', value));
  const [real, effective, saved, filesystem] = uids;
  if (real === undefined || effective === undefined || saved === undefined || filesystem === undefined) {
    throw new ProcFormatError('status', `Uid line ${JSON.stringify(uidLine)} has fewer than 4 ids`, text);
  }
  const state = required('State').charAt(0);
  const threads = integerField('status', text, 'Threads', required('Threads'));
  const ppid = integerField('status', text, 'PPid', required('PPid'));
  return {
    // Untrimmed but for the tab after the colon: a name may start or end with spaces.
    name: required('Name', false),
    state,
    threads,
    ppid,
    uid: { real, effective, saved, filesystem },
    signals: {
      caught: mask('SigCgt'),
      ignored: mask('SigIgn'),
      blocked: mask('SigBlk'),
      pending: mask('SigPnd'),
      sharedPending: mask('ShdPnd'),
    },
  };
}

/** The value of the `key:` line (the key at the start of a line), trimmed unless `trim` is false. */
function statusValue(text: string, key: string, trim: boolean): string | undefined {
  const label = `${key}:`;
  let at = text.startsWith(label) ? 0 : text.indexOf(`\n${label}`);
  if (at < 0) return undefined;
  if (text.charCodeAt(at) === 0x0a) at++;
  const start = at + label.length;
  const newline = text.indexOf('\n', start);
  const value = text.slice(start, newline < 0 ? text.length : newline);
  return trim ? value.trim() : value.replace(/^\t/, '');
}

/**
 * True when `signo` is in the mask: the kernel keeps signal n in bit n - 1.
 *
 * @throws {RangeError} when signo is not a whole number from 1 to 64.
 */
export function maskHas(mask: bigint, signo: number): boolean {
  if (!Number.isInteger(signo) || signo < 1 || signo > 64) {
    throw new RangeError(`signal number must be a whole number from 1 to 64, got ${signo}`);
  }
  return ((mask >> BigInt(signo - 1)) & 1n) === 1n;
}

// "nginx: master process ...", "postgres: checkpointer ", "sshd: user@pts/0":
// BSD setproctitle(3) prefixes the title with the program name and a colon,
// and programs that rewrite argv by hand follow it.
const TITLE_PREFIX = /^([^\s:]+):$/;

/**
 * Parses /proc/<pid>/cmdline into argv.
 *
 * The file holds the bytes of the process's argument area: each argument
 * followed by a NUL. Two things make that less simple than a split:
 *
 * - Kernel threads, zombies and processes that are exiting have no address
 *   space and read as empty: the result is `[]`.
 * - A process may overwrite its argument area to set the title `ps` shows
 *   (nginx, postgres, sshd, anything using setproctitle). It writes one
 *   space-separated string and pads the rest with NULs, and when the title
 *   is longer than the original arguments the kernel returns it up to its
 *   first NUL. A result that is a single string containing whitespace is
 *   taken as such a title and split on whitespace, with the `name:` prefix
 *   of the setproctitle convention turned into argv[0] `name`, so
 *   `nginx: worker process` gives `['nginx', 'worker', 'process']`.
 *
 * Known losses, all inherent in the format: trailing empty arguments are
 * indistinguishable from the NUL padding and are dropped; a program started
 * with a single argument containing spaces (`"/opt/my app/run"` and no
 * arguments) is split like a title; bytes that are not UTF-8 become U+FFFD.
 */
export function parseCmdline(buf: Buffer): string[] {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return [];
  const args = buf.toString('utf8', 0, end).split('\0');
  const [only] = args;
  if (args.length > 1 || only === undefined || !/\s/.test(only)) return args;

  const words = only.split(/\s+/).filter((word) => word !== '');
  const [first] = words;
  const prefix = first === undefined ? null : TITLE_PREFIX.exec(first);
  if (prefix !== null && prefix[1] !== undefined) words[0] = prefix[1];
  return words;
}
