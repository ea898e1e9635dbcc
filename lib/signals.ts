// Signal names and numbers as Linux and glibc define them, and what each
// signal does to a process that has not installed a handler. Pure: no I/O.
//
// The numbering (signal(7)):
// - 1..31 are the standard signals; their names come from os.constants.signals,
//   which Node builds from the same headers as libc.
// - 32 and 33 exist in the kernel but glibc's threads implementation (NPTL)
//   takes them for itself (thread cancellation and setxid broadcast), so glibc
//   reports SIGRTMIN as 34 and no application can rely on a handler for them.
// - 34..64 are the real-time signals, SIGRTMIN..SIGRTMAX as glibc reports them.
//   Unlike standard signals they queue: each one sent is delivered.
import { constants } from 'node:os';

/** A validated signal: its number and canonical name. */
export interface Signal {
  readonly number: number;
  /** `SIGHUP`, or for real-time signals `SIGRTMIN`, `SIGRTMIN+N` (N 1..15), `SIGRTMAX-N` (N 14..1), `SIGRTMAX`. */
  readonly name: string;
}

/** What the kernel does with a signal whose disposition is SIG_DFL (signal(7), "Standard signals"). */
export type DefaultAction = 'terminate' | 'core' | 'ignore' | 'stop' | 'continue';

/** The lowest real-time signal as glibc reports it (the kernel's 32 plus the two NPTL keeps). */
export const SIGRTMIN = 34;
/** The highest signal number on Linux (_NSIG - 1). */
export const SIGRTMAX = 64;

const ACCEPTED =
  'accepted: a signal name with or without the SIG prefix, in any case (SIGHUP, HUP, hup), ' +
  'SIGRTMIN, SIGRTMIN+N or SIGRTMAX-N with N from 0 to 30, ' +
  `or a number from 1 to 31 or ${SIGRTMIN} to ${SIGRTMAX}`;

/** A signal name or number that cannot be used. The message names the value, why, and what is accepted. */
export class InvalidSignalError extends Error {
  override readonly name = 'InvalidSignalError';
  readonly code = 'ERR_INVALID_SIGNAL';
  constructor(
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid signal ${describe(value)}: ${reason}; ${ACCEPTED}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

// Aliases Node lists beside the name everyone uses; parsing accepts both,
// names are always reported the common way.
const ALIASES: Readonly<Record<string, string>> = { SIGIOT: 'SIGABRT', SIGPOLL: 'SIGIO' };

const numberByName = new Map<string, number>(Object.entries(constants.signals));
const nameByNumber = new Map<number, string>();
for (const [name, number] of numberByName) {
  if (ALIASES[name] === undefined) nameByNumber.set(number, name);
}

/**
 * The canonical name of a valid signal number, using the names bash's
 * `kill -l` prints for real-time signals so the two can be compared by eye.
 */
function canonicalName(number: number): string {
  const standard = nameByNumber.get(number);
  if (standard !== undefined) return standard;
  if (number === SIGRTMIN) return 'SIGRTMIN';
  if (number === SIGRTMAX) return 'SIGRTMAX';
  return number - SIGRTMIN <= 15 ? `SIGRTMIN+${number - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - number}`;
}

function fromNumber(number: number, input: unknown): Signal {
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidSignalError(input, 'not a whole number from 1 to 64');
  }
  if (number === 0) {
    throw new InvalidSignalError(
      input,
      'signal 0 delivers nothing (kill(2) uses it only to test whether a process exists)',
    );
  }
  if (number === 32 || number === 33) {
    throw new InvalidSignalError(
      input,
      `signals 32 and 33 are reserved by glibc's threads implementation (NPTL) for thread ` +
        `cancellation and setxid; real-time signals for applications start at SIGRTMIN (${SIGRTMIN})`,
    );
  }
  if (number > SIGRTMAX) {
    throw new InvalidSignalError(input, `out of range: Linux signals end at SIGRTMAX (${SIGRTMAX})`);
  }
  return { number, name: canonicalName(number) };
}

const REAL_TIME = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/;

function fromRealTimeName(match: RegExpExecArray, input: string): Signal {
  const base = match[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
  const offset = match[3] === undefined ? 0 : Number(match[3]);
  const number = match[2] === '-' ? base - offset : base + offset;
  if (number < SIGRTMIN) {
    throw new InvalidSignalError(
      input,
      `that is signal ${number}, below SIGRTMIN (${SIGRTMIN}); 32 and 33 are reserved by glibc's threads implementation`,
    );
  }
  if (number > SIGRTMAX) {
    throw new InvalidSignalError(input, `that is signal ${number}, past SIGRTMAX (${SIGRTMAX})`);
  }
  return { number, name: canonicalName(number) };
}

/**
 * Parses a signal given by name or number.
 *
 * Names: `SIGHUP`, `HUP`, `hup`, `sighup` (case-insensitive, SIG prefix
 * optional), the aliases SIGIOT and SIGPOLL, and the real-time forms
 * `SIGRTMIN`, `SIGRTMIN+N`, `SIGRTMAX-N`, `RTMIN+3` with N from 0 to 30 as long
 * as the result stays within 34..64. Numbers: 1..31 and 34..64, as a number or
 * a string of decimal digits.
 *
 * Whitespace around a string is trimmed, because values arrive from
 * environment variables and files where a trailing newline is invisible;
 * whitespace inside (`SIGRTMIN + 1`) is rejected.
 *
 * @throws {InvalidSignalError} for anything else: empty, unknown names, 0,
 *   32 and 33 (reserved by glibc), numbers past 64, fractions and negatives.
 */
export function parseSignal(input: string | number): Signal {
  if (typeof input === 'number') return fromNumber(input, input);
  if (typeof input !== 'string') {
    throw new InvalidSignalError(input, `expected a string or a number, got ${typeof input}`);
  }
  const text = input.trim();
  if (text === '') throw new InvalidSignalError(input, 'it is empty');
  if (/^\d+$/.test(text)) return fromNumber(Number(text), input);

  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const number = numberByName.get(name);
  if (number !== undefined) return { number, name: canonicalName(number) };
  const realTime = REAL_TIME.exec(name);
  if (realTime !== null) return fromRealTimeName(realTime, input);
  throw new InvalidSignalError(
    input,
    /^[+-]?[\d.]+$/.test(text) ? 'not a whole number from 1 to 64' : 'no such signal',
  );
}

/**
 * The canonical name of a signal number: `signalName(1)` is `SIGHUP`,
 * `signalName(37)` is `SIGRTMIN+3`.
 *
 * @throws {InvalidSignalError} when the number is not a usable signal.
 */
export function signalName(number: number): string {
  return fromNumber(number, number).name;
}

// Every signal not listed terminates the process, including SIGHUP, SIGUSR1,
// SIGUSR2, SIGSTKFLT, SIGPWR and every real-time signal. That is why a reload
// signal must never reach a process that has not installed a handler for it.
const DEFAULT_ACTIONS: ReadonlyMap<number, DefaultAction> = new Map<number, DefaultAction>([
  // Terminate and dump core.
  [constants.signals.SIGQUIT, 'core'],
  [constants.signals.SIGILL, 'core'],
  [constants.signals.SIGTRAP, 'core'],
  [constants.signals.SIGABRT, 'core'],
  [constants.signals.SIGBUS, 'core'],
  [constants.signals.SIGFPE, 'core'],
  [constants.signals.SIGSEGV, 'core'],
  [constants.signals.SIGXCPU, 'core'],
  [constants.signals.SIGXFSZ, 'core'],
  [constants.signals.SIGSYS, 'core'],
  // Discarded.
  [constants.signals.SIGCHLD, 'ignore'],
  [constants.signals.SIGURG, 'ignore'],
  [constants.signals.SIGWINCH, 'ignore'],
  // Resumes a stopped process (and is otherwise discarded).
  [constants.signals.SIGCONT, 'continue'],
  // Stop the process until SIGCONT.
  [constants.signals.SIGSTOP, 'stop'],
  [constants.signals.SIGTSTP, 'stop'],
  [constants.signals.SIGTTIN, 'stop'],
  [constants.signals.SIGTTOU, 'stop'],
]);

/**
 * What the kernel does when the signal arrives at a process that neither
 * handles nor ignores it:
 *
 * | action      | signals                                                             |
 * | ----------- | ------------------------------------------------------------------- |
 * | `ignore`    | SIGCHLD, SIGURG, SIGWINCH                                           |
 * | `continue`  | SIGCONT                                                             |
 * | `stop`      | SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU                                  |
 * | `core`      | SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS |
 * | `terminate` | every other signal, including all real-time signals                |
 *
 * @throws {InvalidSignalError} when the number is not a usable signal.
 */
export function defaultAction(signo: number): DefaultAction {
  const { number } = fromNumber(signo, signo);
  return DEFAULT_ACTIONS.get(number) ?? 'terminate';
}

/**
 * True when the signal's default action ends the process (`terminate` or
 * `core` in {@link defaultAction}'s table): false only for SIGCHLD, SIGURG,
 * SIGWINCH (ignored), SIGCONT (continues) and SIGSTOP, SIGTSTP, SIGTTIN,
 * SIGTTOU (stop).
 *
 * @throws {InvalidSignalError} when the number is not a usable signal.
 */
export function defaultActionTerminates(signo: number): boolean {
  const action = defaultAction(signo);
  return action === 'terminate' || action === 'core';
}
