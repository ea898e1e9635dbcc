// A minimal kubelet AtomicWriter (pkg/volume/util/atomic_writer.go), the way
// a ConfigMap or Secret volume is updated:
//   1. write the payload into a fresh `..<timestamp>` directory;
//   2. point a `..data_tmp` symlink at it;
//   3. rename `..data_tmp` over `..data`   <- the one atomic switch;
//   4. remove the previous timestamped directory.
// The user-visible names (`app.conf -> ..data/app.conf`) never change.
//
// The bench stamps CLOCK_MONOTONIC immediately before step 3, so latency is
// measured from the instant the new configuration becomes visible.
// process.hrtime.bigint() is libuv's uv_hrtime(), which on Linux reads
// clock_gettime(CLOCK_MONOTONIC): the clock the C signal target stamps with.
// run.ts re-checks that at start-up against the target's own reading.
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class KubeletWriter {
  #generation = 0;
  #current: string | undefined;

  constructor(readonly dir: string, readonly keys: readonly string[] = ['app.conf', 'feature-flags.json']) {}

  /** The volume as the kubelet first mounts it: payload, `..data`, user-visible links. */
  create(): void {
    const first = this.#writePayload();
    symlinkSync(first, join(this.dir, '..data'));
    for (const key of this.keys) symlinkSync(join('..data', key), join(this.dir, key));
    this.#current = first;
  }

  /** Publishes a new payload; returns CLOCK_MONOTONIC (ns) taken just before the switch. */
  update(): bigint {
    const next = this.#writePayload();
    const tmpLink = join(this.dir, '..data_tmp');
    symlinkSync(next, tmpLink);
    const stamp = process.hrtime.bigint();
    renameSync(tmpLink, join(this.dir, '..data'));
    if (this.#current !== undefined) rmSync(join(this.dir, this.#current), { recursive: true, force: true });
    this.#current = next;
    return stamp;
  }

  #writePayload(): string {
    const generation = ++this.#generation;
    // The kubelet's name: `..` + UTC time + a random suffix (os.MkdirTemp).
    const stamp = new Date().toISOString().replace(/[-:T]/g, '_').slice(0, 19);
    const name = `..${stamp}.${process.pid}${generation}`;
    mkdirSync(join(this.dir, name));
    for (const key of this.keys) {
      writeFileSync(join(this.dir, name, key), `# generation ${generation}\nvalue=${generation}\n`);
    }
    return name;
  }
}
