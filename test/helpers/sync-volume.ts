// A kubelet-style volume in a fresh temporary directory, for tests that want
// one line per version: a thin convenience over the library's replayer
// (lib/testing), which does all the writing.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { AtomicWriter, configMapPayload } from '../../lib/testing';
import type { Cleanup } from './child-process';

export class SyncVolume {
  readonly #writer: AtomicWriter;

  private constructor(readonly dir: string) {
    this.#writer = new AtomicWriter(dir);
  }

  /** A volume at `<new temporary directory>/volume` holding `files`, removed with that directory when `cleanup` runs. */
  static create(cleanup: Cleanup, files: Readonly<Record<string, string>>): SyncVolume {
    const root = mkdtempSync(join(tmpdir(), 'sync-volume-'));
    cleanup.after(() => rmSync(root, { recursive: true, force: true }));
    const volume = new SyncVolume(join(root, 'volume'));
    mkdirSync(volume.dir);
    volume.commit(files);
    return volume;
  }

  /** The directory the volume sits in, where a test may keep files of its own. */
  get root(): string {
    return dirname(this.dir);
  }

  /** One kubelet update, synchronously; identical content is written as a new version all the same. */
  commit(files: Readonly<Record<string, string>>): void {
    this.#writer.writeSync(configMapPayload(files), { force: true });
  }
}
