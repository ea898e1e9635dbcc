// A kubelet volume written with synchronous calls, in the kubelet's order
// (payload directory, `..data_tmp`, rename over `..data`, visible links,
// old payload removed). Unlike AtomicWriter it needs no turn of the event
// loop, so a test can publish twice within microseconds, or commit while its
// event loop is held.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { Cleanup } from './child-process';

export class SyncVolume {
  #generation = 0;
  #payload: string | undefined;
  readonly #stale: string[] = [];

  /** absolute: `..data` names its target by absolute path, as some writers other than the kubelet do. */
  constructor(readonly dir: string, readonly options: { readonly absolute?: boolean } = {}) {}

  /**
   * A volume at `<new temporary directory>/volume` holding `files`, removed
   * with that directory when `cleanup` runs; a test may keep files of its
   * own beside the volume, in {@link root}.
   */
  static create(cleanup: Cleanup, files: Readonly<Record<string, string>>, options: { readonly absolute?: boolean } = {}): SyncVolume {
    const root = mkdtempSync(join(tmpdir(), 'sync-volume-'));
    cleanup.after(() => rmSync(root, { recursive: true, force: true }));
    const volume = new SyncVolume(join(root, 'volume'), options);
    mkdirSync(volume.dir);
    volume.commit(files);
    return volume;
  }

  /** The directory the volume sits in. */
  get root(): string {
    return dirname(this.dir);
  }

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
