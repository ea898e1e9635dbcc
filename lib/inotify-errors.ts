// What inotify's errors mean, said where the kernel's own words mislead
// ("No space left on device" for a watch limit). Messages name the limit that
// was hit, its current value and the fix; code, errno, syscall and path stay
// as the addon set them, so callers keep switching on `err.code`.
//
// The limits (inotify(7)), per real user id, across every process of that user:
// - fs.inotify.max_user_watches: watches (one per watched inode per instance).
// - fs.inotify.max_user_instances: inotify descriptors.
// - fs.inotify.max_queued_events: events waiting in one instance's queue; past
//   it the kernel drops events and queues IN_Q_OVERFLOW (not an error).
// Since Linux 5.11 the first two are also counted per user namespace, and a
// namespace's own ceiling is /proc/sys/user/max_inotify_{watches,instances}
// (in the initial namespace that is the same number as the fs.inotify one).
// A container in its own user namespace can therefore hit a limit lower than
// the node's sysctl.
import { closeSync, openSync } from 'node:fs';

import { hasCode, isSystemError, readSysctl, type SystemError } from './errors';

/** Rewrites the message of an inotify error where a better one is known; returns it. */
export function explainInotifyError(error: unknown, mask?: number): unknown {
  if (!isSystemError(error)) return error;
  const where = error.path === undefined ? '' : ` '${error.path}'`;
  if (error.syscall === 'inotify_add_watch') {
    if (error.code === 'ENOSPC') {
      const limit = describeLimit('fs.inotify.max_user_watches', 'user.max_inotify_watches');
      error.message =
        `ENOSPC: inotify watch limit reached: ${limit.text}. ${limit.fix} or watch fewer directories, ` +
        `inotify_add_watch${where}`;
    } else if (error.code === 'EINVAL' && mask !== undefined) {
      error.message =
        `EINVAL: invalid inotify mask 0x${(mask >>> 0).toString(16)} for${where}: it must be non-zero, ` +
        `hold only IN_* bits, and not combine IN_MASK_ADD with IN_MASK_CREATE, inotify_add_watch`;
    } else if (error.code === 'EEXIST') {
      error.message = `EEXIST: this inode is already watched by this instance and IN_MASK_CREATE was given, inotify_add_watch${where}`;
    } else if (error.code === 'ENOTDIR') {
      error.message = `ENOTDIR: not a directory, and IN_ONLYDIR was given (or a path component is a file), inotify_add_watch${where}`;
    }
  } else if (error.syscall === 'inotify_init1') {
    if (error.code === 'EMFILE') {
      const limit = describeLimit('fs.inotify.max_user_instances', 'user.max_inotify_instances');
      error.message = hasFreeDescriptor()
        ? `EMFILE: cannot create an inotify instance: ${limit.text}, and every one is in use. ` +
          `${limit.fix} or close unused instances, inotify_init1`
        : `EMFILE: cannot create an inotify instance: this process has used up its file descriptors ` +
          `(RLIMIT_NOFILE, ulimit -n). Raise the limit or close descriptors, inotify_init1`;
    } else if (error.code === 'ENFILE') {
      error.message =
        `ENFILE: cannot create an inotify instance: the system-wide open-file limit (fs.file-max, ` +
        `${readSysctl('fs.file-max')}) is reached, inotify_init1`;
    }
  }
  return error;
}

/** The error watch() and unwatch() throw once the instance is closed, shaped like the kernel's. */
export function closedError(syscall: string, path?: string): SystemError {
  const where = path === undefined ? '' : ` '${path}'`;
  return Object.assign(new Error(`EBADF: this Inotify instance is closed, ${syscall}${where}`), {
    code: 'EBADF',
    errno: -9,
    syscall,
    ...(path === undefined ? {} : { path }),
  });
}

/**
 * "fs.inotify.max_user_watches is N (per user, across all processes)", plus
 * the user namespace's own ceiling when that is the lower one, and the
 * command that raises whichever limit was hit.
 */
function describeLimit(sysctl: string, namespaceSysctl: string): { text: string; fix: string } {
  const global = readSysctl(sysctl);
  const namespace = readSysctl(namespaceSysctl);
  const text = `${sysctl} is ${global} (per user, across all processes)`;
  if (namespace !== 'unknown' && namespace !== global && Number(namespace) < Number(global)) {
    return {
      text: `${text}, and this user namespace allows only ${namespace} (${namespaceSysctl})`,
      fix: `Raise it where the namespace is set up (sysctl -w ${namespaceSysctl}=<more>)`,
    };
  }
  return { text, fix: `Raise it on the node (sysctl -w ${sysctl}=<more>)` };
}

/**
 * False when this process cannot open one more file: then it is out of
 * descriptors (RLIMIT_NOFILE), which explains an EMFILE from inotify_init1
 * better than the inotify instance limit does.
 */
function hasFreeDescriptor(): boolean {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return true;
  } catch (error) {
    return !hasCode(error, 'EMFILE');
  }
}
