// Listing a directory without holding the whole listing in native memory.
//
// readdirSync() is libuv's scandir: glibc's scandir(3) mallocs one
// `struct dirent` (about 280 bytes, most of it d_name's 256) per entry, and
// Node builds the name array only once all are read. Freed a moment later,
// those chunks stay in glibc's heap: a large directory listed once raises
// the process's RSS in proportion to its size, for good (docs/benchmarks.md,
// "Large trees"). opendirSync() reads through one buffer of `BUFFER_SIZE`
// entries (uv_fs_readdir), so a directory costs the same whatever its size.
import { type Dirent, opendirSync } from 'node:fs';

/** Entries fetched per read(2) batch; larger gains little (measured in docs/benchmarks.md). */
const BUFFER_SIZE = 256;

/**
 * Calls `visit` for every entry of `dir` (not `.` and `..`), in the order
 * the filesystem returns them. Throws what opendir throws (ENOENT, ENOTDIR,
 * EACCES, EMFILE) with Node's `code`, `syscall` and `path`; the directory is
 * closed before this returns or throws. `visit` must not recurse into
 * another listing: collect and recurse after, so a deep tree holds one
 * directory descriptor at a time.
 */
export function forEachEntry(dir: string, visit: (entry: Dirent) => void): void {
  const handle = opendirSync(dir, { bufferSize: BUFFER_SIZE });
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) visit(entry);
  } finally {
    handle.closeSync();
  }
}
