// A kubelet volume written with synchronous calls, in the kubelet's order
// (payload directory, `..data_tmp`, rename over `..data`, visible links,
// old payload removed). Unlike AtomicWriter it needs no turn of the event
// loop, so a test can publish twice within microseconds, or commit while its
// event loop is held.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SyncVolume {
  #generation = 0;
  #payload: string | undefined;
  readonly #stale: string[] = [];

  /** absolute: `..data` names its target by absolute path, as some writers other than the kubelet do. */
  constructor(readonly dir: string, readonly options: { readonly absolute?: boolean } = {}) {}

  commit(files: Readonly<Record<string, string>>): void {
    this.publish(this.stage(files));
  }

  /** Writes a payload directory without publishing it; returns its name. */
  stage(files: Readonly<Record<string, string>>): string {
    const payload = `..payload_${++this.#generation}`;
    mkdirSync(join(this.dir, payload));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, payload, name), content);
    return payload;
  }

  /** Points `..data` at a staged payload (the commit), links its top-level names, and removes the previous payloads. */
  publish(payload: string): void {
    this.swap(payload);
    for (const name of readdirSync(join(this.dir, payload))) {
      if (!existsSync(join(this.dir, name))) symlinkSync(join('..data', name), join(this.dir, name));
    }
    this.tidy();
  }

  /** The commit alone: `..data_tmp` -> payload, renamed over `..data`. Two swaps can be microseconds apart. */
  swap(payload: string): void {
    symlinkSync(this.options.absolute === true ? join(this.dir, payload) : payload, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#payload !== undefined) this.#stale.push(this.#payload);
    this.#payload = payload;
  }

  /** Removes the payloads swapped out, as the kubelet does after its commit. */
  tidy(): void {
    for (const payload of this.#stale.splice(0)) rmSync(join(this.dir, payload), { recursive: true });
  }
}
