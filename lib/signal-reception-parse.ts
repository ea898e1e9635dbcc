// Parsers for the per-thread /proc files that tell how a process takes a
// signal it has no handler for: /proc/<pid>/task/<tid>/syscall and wchan,
// /proc/<pid>/fdinfo/<fd> of a signalfd, and a sigset_t read from the
// process's memory. Pure, like proc-parse.ts, and tested with text read from
// real processes (test/signal-reception-parse.test.ts).
import { ProcFormatError } from './proc-parse';

/** What /proc/<pid>/task/<tid>/syscall says the thread is doing. */
export type ProcSyscall =
  /** On a CPU now: nothing more is known. */
  | { readonly kind: 'running' }
  /** Blocked, but not in a system call (a page fault, say). */
  | { readonly kind: 'outside-syscall' }
  /** Blocked in system call `number`, with its six argument registers. */
  | { readonly kind: 'syscall'; readonly number: number; readonly args: readonly bigint[] };

/**
 * Parses /proc/<pid>/task/<tid>/syscall (proc(5)): `running`; or `-1 SP PC`
 * for a thread blocked outside a system call; or the system call number,
 * its six arguments, the stack pointer and the program counter, the last
 * eight in hexadecimal: `128 0x7ffc853316f0 0x7ffc85331620 ... 0x7f703fa4bc2f`.
 */
export function parseSyscall(text: string): ProcSyscall {
  const fields = text.trim().split(' ');
  const [first, ...rest] = fields;
  if (first === 'running' && rest.length === 0) return { kind: 'running' };
  if (first === '-1' && rest.length === 2) return { kind: 'outside-syscall' };
  if (first === undefined || !/^\d+$/.test(first) || rest.length !== 8 || !rest.every((field) => /^0x[0-9a-f]+$/.test(field))) {
    throw new ProcFormatError('syscall', 'expected "running", "-1 SP PC" or a number and eight hexadecimal values', text);
  }
  return { kind: 'syscall', number: Number(first), args: rest.slice(0, 6).map((field) => BigInt(field)) };
}

/**
 * rt_sigtimedwait's number in /proc/<pid>/syscall, by Node's `process.arch`:
 * sigwait(3), sigwaitinfo(2) and sigtimedwait(2) all end in it.
 * Undefined for architectures this package is not built for.
 */
export function rtSigtimedwaitNumber(arch: string = process.arch): number | undefined {
  // arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h (arm64).
  return arch === 'x64' ? 128 : arch === 'arm64' ? 137 : undefined;
}

/**
 * Parses /proc/<pid>/task/<tid>/wchan: the kernel function the thread sleeps
 * in (`do_sigtimedwait.isra.0`, `do_epoll_wait`, ...), or undefined for `0`.
 * `0` means the thread is running, or that the reader may not know: the
 * kernel shows the symbol only with ptrace read access (the same uid, or
 * CAP_SYS_PTRACE), and `0` to everyone else.
 */
export function parseWchan(text: string): string | undefined {
  const symbol = text.trim();
  return symbol === '' || symbol === '0' ? undefined : symbol;
}

/**
 * True when a wchan symbol is the kernel's sigtimedwait loop. The compiler
 * may suffix the symbol (`.isra.0`, `.constprop.0`), so only the name is
 * compared.
 */
export function isSigtimedwaitWchan(symbol: string | undefined): boolean {
  return symbol !== undefined && /^do_sigtimedwait(\.|$)/.test(symbol);
}

/**
 * The signals a signalfd reads, from the `sigmask:` line of its
 * /proc/<pid>/fdinfo/<fd> (hexadecimal, bit signo - 1), or undefined for a
 * descriptor that has no such line (it is not a signalfd).
 */
export function parseFdinfoSigmask(text: string): bigint | undefined {
  const match = /^sigmask:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  return match?.[1] === undefined ? undefined : BigInt(`0x${match[1]}`);
}

/** The size of the kernel's sigset_t on 64-bit Linux: one bit for each of the 64 signals. */
export const SIGSET_BYTES = 8;

/**
 * A sigset_t as it sits in a process's memory on the little-endian 64-bit
 * architectures this package supports: bit signo - 1 stands for signal
 * signo, the same layout as the masks in /proc/<pid>/status.
 *
 * @throws {RangeError} when the buffer does not hold exactly 8 bytes.
 */
export function parseSigset(bytes: Buffer): bigint {
  if (bytes.length !== SIGSET_BYTES) throw new RangeError(`a sigset_t is ${SIGSET_BYTES} bytes, got ${bytes.length}`);
  return bytes.readBigUInt64LE(0);
}
