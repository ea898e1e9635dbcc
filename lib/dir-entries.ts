// Listing a directory without holding the whole listing in native memory.
//
// readdirSync() is libuv's scandir: glibc's scandir(3) mallocs one
// `struct dirent` (about 280 bytes, most of it d_name's 256) per entry, and
// Node builds the name array only once all are read. Freed a moment later,
// those chunks stay in glibc's heap: a large directory listed once raises
// the process's RSS in proportion to its size, for good (docs/benchmarks.md,
// "Large trees"). opendirSync() reads through one buffer of `BUFFER_SIZE`
// entries (uv_fs_readdir), so a directory costs the same whatever its size.
//
// A small directory, which is what a configuration directory and a kubelet
// payload usually are, is read with readdirSync all the same: its few
// entries cost next to nothing in glibc's heap, and the Dir handle's setup
// and per-entry calls would be most of the work on the reload path.
import { type Dirent, opendirSync, readdirSync } from 'node:fs';

/** Entries fetched per read(2) batch; larger gains little (measured in docs/benchmarks.md). */
const BUFFER_SIZE = 256;

/**
 * Directories whose st_size is at most this are listed in one readdirSync.
 * st_size grows with the entries on every filesystem that reports it
 * (ext4 and xfs in blocks, tmpfs about 20 bytes per entry), so this bounds
 * the entries of such a listing to a few thousand at most.
 */
export const SMALL_DIRECTORY_BYTES = 16 * 1024;

/**
 * Calls `visit` for every entry of `dir` (not `.` and `..`), in the order
 * the filesystem returns them. Throws what opendir throws (ENOENT, ENOTDIR,
 * EACCES, EMFILE) with Node's `code`, `syscall` and `path`; the directory is
 * closed before this returns or throws. `visit` must not recurse into
 * another listing: collect and recurse after, so a deep tree holds one
 * directory descriptor at a time.
 *
 * `size`, the directory's st_size when the caller has it, lets a small
 * directory be read at once (see SMALL_DIRECTORY_BYTES).
 */
export function forEachEntry(dir: string, visit: (entry: Dirent) => void, size?: number | bigint): void {
  if (size !== undefined && size <= SMALL_DIRECTORY_BYTES) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) visit(entry);
    return;
  }
  const handle = opendirSync(dir, { bufferSize: BUFFER_SIZE });
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) visit(entry);
  } finally {
    handle.closeSync();
  }
}
