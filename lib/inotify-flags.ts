// The inotify(7) mask bits. Values are the kernel ABI (include/uapi/linux/inotify.h)
// and never change; test/inotify-flags.test.ts checks them against the headers
// the addon was built with.

/** File was accessed (read). */
export const IN_ACCESS = 0x00000001;
/** File was modified (write, truncate). */
export const IN_MODIFY = 0x00000002;
/**
 * Metadata changed: permissions, ownership, timestamps, link count, xattrs.
 * A kubelet fsGroup walk or a `touch` produces these without changing content.
 */
export const IN_ATTRIB = 0x00000004;
/** A file opened for writing was closed: the usual signal that a write is complete. */
export const IN_CLOSE_WRITE = 0x00000008;
/** A file or directory not opened for writing was closed. */
export const IN_CLOSE_NOWRITE = 0x00000010;
/** File or directory was opened. */
export const IN_OPEN = 0x00000020;
/** A name was moved out of the watched directory; pairs with IN_MOVED_TO by `cookie`. */
export const IN_MOVED_FROM = 0x00000040;
/** A name was moved into the watched directory; pairs with IN_MOVED_FROM by `cookie`. */
export const IN_MOVED_TO = 0x00000080;
/** A name was created in the watched directory (file, directory, symlink, ...). */
export const IN_CREATE = 0x00000100;
/** A name was deleted from the watched directory. */
export const IN_DELETE = 0x00000200;
/**
 * The watched file or directory itself was deleted. The kernel sends it only
 * once the last link is gone and the last descriptor closed, then IN_IGNORED.
 */
export const IN_DELETE_SELF = 0x00000400;
/** The watched file or directory itself was moved. The watch follows the inode, not the path. */
export const IN_MOVE_SELF = 0x00000800;
/** The filesystem holding the watch was unmounted; IN_IGNORED follows. */
export const IN_UNMOUNT = 0x00002000;
/**
 * The kernel's event queue overflowed (`fs.inotify.max_queued_events`) and
 * events were dropped. Carries wd -1 and no name: nothing can be assumed about
 * what happened, so a consumer must rescan.
 */
export const IN_Q_OVERFLOW = 0x00004000;
/**
 * The watch was removed: by inotify_rm_watch, or because its inode was
 * deleted or its filesystem unmounted. Only after this event may the wd be
 * considered free; the kernel may hand the number out again later.
 */
export const IN_IGNORED = 0x00008000;
/** (add flag) Fail with ENOTDIR unless the path is a directory, without a race between check and add. */
export const IN_ONLYDIR = 0x01000000;
/** (add flag) Do not follow a symlink in the last path component: watch the link itself. */
export const IN_DONT_FOLLOW = 0x02000000;
/** (add flag) Stop reporting events for children once they are unlinked (Linux 2.6.36). */
export const IN_EXCL_UNLINK = 0x04000000;
/** (add flag) Fail with EEXIST if the inode is already watched by this instance (Linux 4.18). */
export const IN_MASK_CREATE = 0x10000000;
/** (add flag) OR the new mask into an existing watch instead of replacing it. */
export const IN_MASK_ADD = 0x20000000;
/** (event flag) The subject of the event is a directory. */
export const IN_ISDIR = 0x40000000;
/** (add flag) Report one event, then remove the watch (IN_IGNORED follows). */
export const IN_ONESHOT = 0x80000000;

/** Both close events. */
export const IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
/** Both move events. */
export const IN_MOVE = IN_MOVED_FROM | IN_MOVED_TO;
/** Every event a watch can ask for. */
export const IN_ALL_EVENTS =
  IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE | IN_OPEN | IN_MOVE |
  IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

/** What happened, one name per event bit, in inotify(7)'s order. */
export type InotifyEventKind =
  | 'access' | 'modify' | 'attrib' | 'close_write' | 'close_nowrite' | 'open'
  | 'moved_from' | 'moved_to' | 'create' | 'delete' | 'delete_self'
  | 'move_self' | 'unmount' | 'overflow' | 'ignored';

const KIND_BITS: ReadonlyArray<readonly [number, InotifyEventKind]> = [
  [IN_Q_OVERFLOW, 'overflow'],
  [IN_ACCESS, 'access'],
  [IN_MODIFY, 'modify'],
  [IN_ATTRIB, 'attrib'],
  [IN_CLOSE_WRITE, 'close_write'],
  [IN_CLOSE_NOWRITE, 'close_nowrite'],
  [IN_OPEN, 'open'],
  [IN_MOVED_FROM, 'moved_from'],
  [IN_MOVED_TO, 'moved_to'],
  [IN_CREATE, 'create'],
  [IN_DELETE, 'delete'],
  [IN_DELETE_SELF, 'delete_self'],
  [IN_MOVE_SELF, 'move_self'],
  [IN_UNMOUNT, 'unmount'],
  [IN_IGNORED, 'ignored'],
];

/**
 * Every kind whose bit is set, overflow first. The kernel sets one event bit
 * per event (plus IN_ISDIR, which is not a kind); IN_UNMOUNT and the
 * IN_IGNORED that retires the watch arrive as two separate events.
 */
export function decodeKinds(mask: number): InotifyEventKind[] {
  const kinds: InotifyEventKind[] = [];
  for (const [bit, kind] of KIND_BITS) {
    if ((mask & bit) !== 0) kinds.push(kind);
  }
  return kinds;
}
