// The ConfigMap volume the bench's reloaders watch, written by the library's
// replay of the kubelet (lib/testing): two keys whose content changes with
// every generation, so that each write is a real update.
import { mkdirSync } from 'node:fs';

import { AtomicWriter, configMapPayload, type Payload } from '../lib/testing';

export function generationPayload(generation: number): Payload {
  const content = `# generation ${generation}\nvalue=${generation}\n`;
  return configMapPayload({ 'app.conf': content, 'feature-flags.json': content });
}

/** A kubelet volume in `dir` (created when missing) holding generation 0. */
export function createVolume(dir: string): AtomicWriter {
  mkdirSync(dir, { recursive: true });
  const writer = new AtomicWriter(dir);
  writer.writeSync(generationPayload(0));
  return writer;
}

/** A volume that each update() moves to its next generation: one real kubelet update. */
export class GenerationVolume {
  readonly writer: AtomicWriter;
  #generation = 0;

  constructor(dir: string) {
    this.writer = createVolume(dir);
  }

  /** Commits the next generation; returns process.hrtime.bigint() just before the rename over `..data`. */
  update(): bigint {
    const { committedAt } = this.writer.writeSync(generationPayload(++this.#generation));
    if (committedAt === undefined) throw new Error(`generation ${this.#generation} changed nothing in ${this.writer.targetDir}`);
    return committedAt;
  }
}
