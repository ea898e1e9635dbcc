// Errors carry Node's conventions (code, errno, syscall, path) so callers
// switch on `err.code` as they do for `fs`, and the message says how to fix
// the problem where the kernel's own words ("No space left on device") mislead.
import { readFileSync } from 'node:fs';

/** An error from a failed system call, shaped like the errors `fs` throws. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

export function isSystemError(error: unknown): error is SystemError {
  return (
    error instanceof Error &&
    typeof (error as Partial<SystemError>).code === 'string' &&
    typeof (error as Partial<SystemError>).syscall === 'string'
  );
}

/** True for a system error with one of the given codes. */
export function hasCode(error: unknown, ...codes: string[]): error is SystemError {
  return isSystemError(error) && codes.includes(error.code);
}

/** The `code` an error carries (`'ENOENT'`, `'ERR_PARSE_ARGS_UNKNOWN_OPTION'`, ...), or undefined when it has none. */
export function errorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as Partial<SystemError>).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Reads a sysctl under /proc/sys, or `unknown` when it cannot be read. */
export function readSysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** The error an aborted operation rejects with, as Node's own APIs make it (name AbortError, code ABORT_ERR). */
export function abortError(signal: AbortSignal | undefined): Error {
  const error = new Error('The operation was aborted', { cause: signal?.reason });
  error.name = 'AbortError';
  (error as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return error;
}
