// The sentences an operator reads when part of the configuration cannot be
// watched or read: what it means for reloads, and how to fix it. Shared by
// the log lines and `check`, so both give the same advice.
import { errorCode } from '..';

/** The fix for a directory that cannot be watched, by the kernel's reason. */
export function watchProblemFix(error: Error): string {
  switch (errorCode(error)) {
    case 'EACCES':
    case 'EPERM':
      return "let the sidecar's user read it (the Pod's securityContext.fsGroup, or runAsUser of its owner), or leave it out of CONFIG_DIR; changes inside it are not seen";
    case 'ENOSPC':
      return 'raise fs.inotify.max_user_watches on the node (the reason gives its value), or watch fewer directories; watching is tried again every 30s at most';
    case 'ENAMETOOLONG':
      return 'its path is longer than the kernel accepts (PATH_MAX, 4096 bytes): shorten the directory names';
    case 'EMFILE':
    case 'ENFILE':
      return "raise the sidecar's open-file limit (ulimit -n) or fs.file-max; watching is tried again";
    default:
      return 'watching is tried again; see the reason';
  }
}

/** The fix for files that exist and cannot be read, for a sidecar running as `uid`. */
export function unreadableFix(uid: number): string {
  return (
    `the sidecar (uid ${uid}) may not read them, so it cannot compare their content: a kubelet update still ` +
    `reloads once, an edit in place is seen only when the file is replaced. Fix: set the Pod's securityContext.fsGroup ` +
    `(and a defaultMode with group read, e.g. 0440), or run the sidecar as the files' owner (runAsUser)`
  );
}
