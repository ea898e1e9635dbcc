// A kubelet-style volume whose payload holds a directory, `sub`, as a
// ConfigMap with `items: [{ key, path: 'sub/<name>' }]` does: the volume
// root links `sub -> ..data/sub`, so `<volume>/sub` is a directory that is
// replaced, whole, at every update.
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class NestedVolume {
  #generation = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir);
  }

  /** The key directory, as a CONFIG_DIR would name it. */
  get keyDir(): string {
    return join(this.dir, 'sub');
  }

  /** Writes a new payload, commits it by the rename over `..data`, and removes the previous one. */
  commit(files: Readonly<Record<string, string>>): void {
    const payload = `..payload_${++this.#generation}`;
    mkdirSync(join(this.dir, payload, 'sub'), { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, payload, 'sub', name), content);
    symlinkSync(payload, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#generation === 1) symlinkSync(join('..data', 'sub'), this.keyDir);
    else rmSync(join(this.dir, `..payload_${this.#generation - 1}`), { recursive: true });
  }
}
