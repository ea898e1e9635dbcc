// An image's files out of the page cache, as on a node that has never run it.
//
// A memory cgroup is charged for a file page by whichever group reads it
// first, and the page stays charged there. Once one container has run an
// image, the next one maps the node binary's pages for free; a memory test
// run after other containers of the same image would measure less than the
// first sidecar on a fresh node pays. POSIX_FADV_DONTNEED drops a file's
// clean, unmapped pages (overlayfs passes it to the layer's file); pages a
// running container has mapped stay, and are counted in what is returned.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { podmanOk } from './podman';

const run = promisify(execFile);

/** Drops the cached pages of every file in the image; resolves with the bytes that stayed cached. */
export async function evictImageFromPageCache(image: string): Promise<number> {
  const root = (await podmanOk(['image', 'mount', image])).trim();
  try {
    // dd with count=0 and iflag=nocache reads nothing and advises DONTNEED for the whole file.
    await run('find', [root, '-type', 'f', '-exec', 'dd', 'iflag=nocache', 'count=0', 'status=none', 'if={}', ';']);
    const { stdout } = await run('find', [root, '-type', 'f', '-exec', 'fincore', '--bytes', '--noheadings', '--output', 'RES', '{}', '+']);
    return stdout.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0);
  } finally {
    await podmanOk(['image', 'unmount', image]);
  }
}
