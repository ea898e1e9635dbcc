// A compact stand-in for the kubelet's AtomicWriter, so the demo can update a
// ConfigMap-style volume in a temporary directory exactly the way a node does
// (see lib/sidecar/kubelet-volume.ts for the steps and why they matter):
// payload into a fresh `..<timestamp>` directory, `..data_tmp` -> it, rename
// over `..data` (the commit), user-visible links, old directory removed.
import {
  chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** File name -> content. Names may contain slashes for nested files; the top-level name becomes a link. */
export type Payload = Readonly<Record<string, string>>;

export class KubeletVolumeWriter {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Publishes a new version, as the kubelet does on every sync that it decides to write. */
  write(payload: Payload): void {
    const previous = this.#currentDataDir();
    // The kubelet names these `..2006_01_02_15_04_05.<random>` (Go's TempDir with a timestamp prefix).
    const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
    const fresh = mkdtempSync(join(this.dir, `..${stamp}.`));
    for (const [name, content] of Object.entries(payload)) {
      const path = join(fresh, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content, { mode: 0o644 });
    }
    rmSync(join(this.dir, DATA_TMP), { force: true });
    symlinkSync(basename(fresh), join(this.dir, DATA_TMP));
    renameSync(join(this.dir, DATA_TMP), join(this.dir, DATA)); // the commit point

    const visible = new Set(Object.keys(payload).map((name) => name.split('/')[0] ?? name));
    for (const name of visible) {
      if (!existsSync(join(this.dir, name))) symlinkSync(join(DATA, name), join(this.dir, name));
    }
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith('..') && !visible.has(name) && lstatSync(join(this.dir, name)).isSymbolicLink()) {
        rmSync(join(this.dir, name));
      }
    }
    if (previous !== undefined) rmSync(join(this.dir, previous), { recursive: true, force: true });
  }

  /** What an fsGroup walk does: new permissions on every file of the current version, same content. */
  chmodAll(mode: number): void {
    const current = this.#currentDataDir();
    if (current === undefined) return;
    const walk = (path: string): void => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) walk(child);
        else chmodSync(child, mode);
      }
    };
    walk(join(this.dir, current));
  }

  #currentDataDir(): string | undefined {
    try {
      return readlinkSync(join(this.dir, DATA));
    } catch {
      return undefined;
    }
  }
}
