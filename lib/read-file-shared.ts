// Whole-file reads for the small files on the reload path: /proc/<pid>/stat,
// cmdline and status for every process, and a target's status re-read
// through a held descriptor (process-handle.ts).
//
// readFileSync returning a Buffer adds an fstat and a fresh allocation to
// open + read + close, which on a /proc scan of every process adds up
// (bench/hot-path.ts measures it). Here one buffer serves every read.
//
// In general, reads go on until read(2) returns 0 rather than stopping at a
// short read or at a size from fstat: /proc files report size 0, and that a
// short read means end of file is only a habit of most filesystems. The
// exception is a file the kernel prints as a single seq_file record
// (/proc/<pid>/status and stat): seq_file fills the reader's buffer until
// its records run out, so a read that leaves room has everything, and the
// read that would return 0 only prints the whole text again to throw it
// away.
import { closeSync, openSync, readSync } from 'node:fs';

const INITIAL_SIZE = 16 * 1024;

// The buffer grows (doubling) for a file that does not fit: a cmdline can be
// as long as ARG_MAX (a quarter of the stack limit, 2 MiB by default). Grown
// past this size, it is let go at the next call, so one long command line
// does not keep its pages resident for the life of the sidecar.
const RETAINED_MAX = 64 * 1024;

let shared: Buffer = Buffer.allocUnsafeSlow(INITIAL_SIZE);

/**
 * Reads the whole file at `path` into a buffer shared by every call and
 * returns the part that holds the file.
 *
 * The result is valid only until the next call, which overwrites it: decode,
 * hash or copy it first. (Node runs JavaScript on one thread, so nothing else
 * can call in between.)
 *
 * @throws the SystemError of open(2) or read(2), with Node's code and syscall,
 *   as readFileSync does (ENOENT, EACCES, EISDIR, ESRCH from a /proc file
 *   whose process is exiting, ...).
 */
export function readFileShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    return readShared(fd, false);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the whole of an open file from its start, with pread(2), into the
 * same shared buffer as {@link readFileShared} and on the same terms. A /proc
 * file held open this way is generated afresh by every read from offset 0,
 * which is how a held /proc/<pid>/status is re-read (process-handle.ts).
 *
 * @throws the SystemError of read(2) (ESRCH once a held /proc/<pid> file's
 *   process has exited).
 */
export function readDescriptorShared(fd: number): Buffer {
  return readShared(fd, false);
}

/**
 * {@link readFileShared} for a file printed as one seq_file record
 * (/proc/<pid>/status, /proc/<pid>/stat): done at the first read that does
 * not fill the buffer (see the top of this file).
 */
export function readRecordFileShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    return readShared(fd, true);
  } finally {
    closeSync(fd);
  }
}

/** {@link readDescriptorShared} for a file printed as one seq_file record, as {@link readRecordFileShared}. */
export function readRecordShared(fd: number): Buffer {
  return readShared(fd, true);
}

function readShared(fd: number, oneRecord: boolean): Buffer {
  if (shared.length > RETAINED_MAX) shared = Buffer.allocUnsafeSlow(INITIAL_SIZE);
  let length = 0;
  for (;;) {
    if (length === shared.length) shared = doubled(shared);
    const bytesRead = readSync(fd, shared, length, shared.length - length, length);
    length += bytesRead;
    if (bytesRead === 0 || (oneRecord && length < shared.length)) return shared.subarray(0, length);
  }
}

function doubled(full: Buffer): Buffer {
  const larger = Buffer.allocUnsafeSlow(full.length * 2);
  full.copy(larger);
  return larger;
}
