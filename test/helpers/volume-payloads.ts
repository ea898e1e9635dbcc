// Payloads as the kubelet builds them from API objects, for AtomicWriter.
//
// - Every key becomes a file named after it, with the volume's defaultMode
//   (Kubernetes' default is 0644 for ConfigMap, Secret and projected volumes
//   alike; Secrets are often mounted with defaultMode 0400).
// - `items` projects only the listed keys, each to its own path, which may be
//   nested ('conf.d/site.conf') and may carry its own mode. A listed key the
//   object lacks is an error, as for a non-optional volume.
// - Keys themselves cannot contain '/': nested files only come from items.
import type { FileProjection, Payload } from './atomic-writer';

/** The API's default for ConfigMap, Secret, projected and downward API volumes. */
export const DEFAULT_VOLUME_MODE = 0o644;

export type VolumeData = Readonly<Record<string, string | Buffer>>;

/** A KeyToPath item of a volume source. */
export interface KeyToPath {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

export interface VolumeSourceOptions {
  readonly defaultMode?: number;
  readonly items?: readonly KeyToPath[];
}

/** A ConfigMap volume: files 0644 unless defaultMode or an item's mode says otherwise. */
export function configMapPayload(data: VolumeData, options: VolumeSourceOptions = {}): Payload {
  return project('configMap', data, options.items, options.defaultMode ?? DEFAULT_VOLUME_MODE);
}

/**
 * A Secret volume. Kubernetes' default mode is 0644, like a ConfigMap's; pass
 * `{ defaultMode: 0o400 }` for the common owner-only mount.
 */
export function secretPayload(data: VolumeData, options: VolumeSourceOptions = {}): Payload {
  return project('secret', data, options.items, options.defaultMode ?? DEFAULT_VOLUME_MODE);
}

/** One source of a projected volume. */
export type ProjectedSource =
  | { readonly configMap: VolumeData; readonly items?: readonly KeyToPath[] }
  | { readonly secret: VolumeData; readonly items?: readonly KeyToPath[] };

/**
 * A projected volume: several sources merged into one directory, one
 * defaultMode for all. Two sources projecting the same path are rejected, as
 * the API server rejects them.
 */
export function projectedPayload(sources: readonly ProjectedSource[], options: { readonly defaultMode?: number } = {}): Payload {
  const defaultMode = options.defaultMode ?? DEFAULT_VOLUME_MODE;
  const merged: Record<string, FileProjection> = {};
  sources.forEach((source, index) => {
    const [kind, data] = 'configMap' in source ? (['configMap', source.configMap] as const) : (['secret', source.secret] as const);
    const payload = project(`sources[${index}].${kind}`, data, source.items, defaultMode);
    for (const [path, file] of Object.entries(payload)) {
      if (path in merged) {
        throw new Error(`projected volume: sources[${index}].${kind} projects ${JSON.stringify(path)}, which an earlier source already projects; paths must be unique`);
      }
      merged[path] = file;
    }
  });
  return merged;
}

function project(what: string, data: VolumeData, items: readonly KeyToPath[] | undefined, defaultMode: number): Payload {
  for (const key of Object.keys(data)) checkKey(what, key);
  const payload: Record<string, FileProjection> = {};
  if (items === undefined) {
    for (const [key, value] of Object.entries(data)) payload[key] = { data: value, mode: defaultMode };
    return payload;
  }
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      throw new Error(`${what}: items lists key ${JSON.stringify(item.key)}, which the data does not have (keys: ${Object.keys(data).join(', ') || 'none'})`);
    }
    payload[item.path] = { data: value, mode: item.mode ?? defaultMode };
  }
  return payload;
}

// The API's rule for ConfigMap and Secret keys.
const KEY = /^[-._a-zA-Z0-9]+$/;

function checkKey(what: string, key: string): void {
  if (KEY.test(key) && key !== '.' && key !== '..' && key.length <= 253) return;
  throw new Error(
    `${what}: key ${JSON.stringify(key)} is invalid; keys are 1-253 characters of [-._a-zA-Z0-9], not '.' or '..'. ` +
      `For a nested file use items: [{ key: 'site.conf', path: 'conf.d/site.conf' }]`,
  );
}
