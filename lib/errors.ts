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

/** Reads a sysctl under /proc/sys, or `unknown` when it cannot be read. */
export function readSysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Rewrites the message of an inotify limit error to name the limit, its
 * current value and the fix; code, errno, syscall and path stay as they were.
 */
export function explainInotifyError(error: unknown): unknown {
  if (!isSystemError(error)) return error;
  if (error.code === 'ENOSPC' && error.syscall === 'inotify_add_watch') {
    const limit = readSysctl('fs.inotify.max_user_watches');
    error.message =
      `ENOSPC: inotify watch limit reached while watching '${error.path ?? '?'}': ` +
      `fs.inotify.max_user_watches is ${limit} for this user, across all processes. ` +
      `Raise it on the node (sysctl -w fs.inotify.max_user_watches=<more>) or watch fewer directories.`;
  } else if (error.code === 'EMFILE' && error.syscall === 'inotify_init1') {
    const limit = readSysctl('fs.inotify.max_user_instances');
    error.message =
      `EMFILE: cannot create an inotify instance: either fs.inotify.max_user_instances ` +
      `(${limit}, per user, across all processes) is used up, or this process hit its ` +
      `open-file limit (ulimit -n). Raise the sysctl on the node ` +
      `(sysctl -w fs.inotify.max_user_instances=<more>) or close unused instances.`;
  }
  return error;
}

/** A configuration value that cannot be accepted. The message names the setting, the value and what is accepted. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly setting: string,
    readonly value: string | undefined,
    readonly accepted: string,
  ) {
    super(
      `${setting}: ${value === undefined ? 'not set' : `invalid value ${JSON.stringify(value)}`}; ${accepted}`,
    );
  }
}
