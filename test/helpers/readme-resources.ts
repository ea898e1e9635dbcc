// The sidecar's memory request as the README's Pod example states it. Tests
// that hold the sidecar to that figure read it from there, so what the
// README advises and what is tested cannot drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const README = join(__dirname, '..', '..', '..', 'README.md');
/** The container of the Pod example that runs the sidecar image. */
const SIDECAR_CONTAINER = 'config-reloader';

export interface MemoryQuantity {
  /** As written in the README, like "64Mi". */
  readonly quantity: string;
  readonly bytes: number;
}

const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/**
 * A Kubernetes memory quantity in bytes. Only whole numbers with a binary
 * suffix, the form the README uses: anything else throws rather than being
 * read differently from the API server.
 */
export function parseMemoryQuantity(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  const unit = match?.[2] === undefined ? undefined : BINARY_SUFFIXES[match[2]];
  if (match?.[1] === undefined || unit === undefined) {
    throw new Error(`memory quantity ${JSON.stringify(quantity)}: expected a whole number of Ki, Mi or Gi`);
  }
  return Number(match[1]) * unit;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string, where: string): unknown {
  if (!isRecord(value) || !(key in value)) throw new Error(`README Pod example: no ${where}.${key}`);
  return value[key];
}

/** `resources.requests.memory` of the sidecar container in the README's first YAML block, the Pod example. */
export function readmeSidecarMemoryRequest(): MemoryQuantity {
  const block = /^```yaml\n([\s\S]*?)^```$/m.exec(readFileSync(README, 'utf8'))?.[1];
  if (block === undefined) throw new Error(`${README}: no yaml code block`);
  const containers = field(field(parse(block), 'spec', 'Pod'), 'containers', 'spec');
  const sidecar = Array.isArray(containers) ? containers.find((container) => isRecord(container) && container['name'] === SIDECAR_CONTAINER) : undefined;
  if (sidecar === undefined) throw new Error(`README Pod example: no container named ${SIDECAR_CONTAINER}`);
  const quantity = field(field(field(sidecar, 'resources', SIDECAR_CONTAINER), 'requests', 'resources'), 'memory', 'requests');
  if (typeof quantity !== 'string') throw new Error(`README Pod example: the ${SIDECAR_CONTAINER} memory request is not a string`);
  return { quantity, bytes: parseMemoryQuantity(quantity) };
}
