// What the kubelet projects into a volume: a payload of relative paths to
// file contents and modes, checked with the kubelet's own path rules, and
// built from API objects (ConfigMap, Secret, projected sources) the way the
// kubelet's volume plugins build it.
//
// - Every key becomes a file named after it, with the volume's defaultMode
//   (0644 for ConfigMap, Secret and projected volumes alike; Secrets are
//   often mounted with defaultMode 0400).
// - `items` projects only the listed keys, each to its own path, which may be
//   nested ('conf.d/site.conf') and may carry its own mode. A listed key the
//   object lacks is an error, as for a non-optional volume.
// - Keys themselves cannot contain '/': nested files only come from items.
import { posix } from 'node:path';

/** One file of a payload. */
export interface FileProjection {
  readonly data: string | Buffer;
  /** Permission bits, applied by chmod after the write so that the umask cannot narrow them. */
  readonly mode: number;
  /** Owner for this file (projected service account tokens): chown(fsUser, fsGroup ?? -1) after the chmod. */
  readonly fsUser?: number;
  readonly fsGroup?: number;
}

/**
 * Relative path -> file. Paths may be nested ('conf.d/site.conf'); they may
 * not start with '..', which the kubelet reserves for `..data`, `..data_tmp`
 * and its timestamped directories.
 */
export type Payload = Readonly<Record<string, FileProjection>>;

/** The API's default file mode for ConfigMap, Secret, projected and downward API volumes. */
export const DEFAULT_VOLUME_MODE = 0o644;

const MAX_FILE_NAME = 255;
const MAX_PATH = 4096;

/**
 * Checks payload paths with the kubelet's rules (relative, no '..' element,
 * not starting with '..', 255 bytes a name, 4096 a path) and returns the
 * payload keyed by cleaned path. Throws an error naming the path and the rule
 * it broke: a payload the kubelet would refuse is a bug in the test.
 */
export function validatePayload(payload: Payload): Map<string, FileProjection> {
  const clean = new Map<string, FileProjection>();
  for (const [path, projection] of Object.entries(payload)) {
    const problem = pathProblem(path);
    if (problem !== undefined) {
      throw new Error(`AtomicWriter payload path ${JSON.stringify(path)} is invalid: ${problem}`);
    }
    if (!Number.isInteger(projection.mode) || projection.mode < 0 || projection.mode > 0o7777) {
      throw new Error(
        `AtomicWriter payload path ${JSON.stringify(path)}: mode ${String(projection.mode)} is invalid; ` +
          'expected permission bits between 0 and 0o7777, e.g. 0o644',
      );
    }
    clean.set(posix.normalize(path).replace(/\/+$/, ''), projection);
  }
  return clean;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'it must not be empty';
  if (path.startsWith('/')) return 'it must be relative';
  if (path.length > MAX_PATH) return `it must be at most ${MAX_PATH} characters`;
  const segments = path.split('/');
  if (segments.includes('..')) return "it must not contain '..' as an element";
  if (segments.some((segment) => segment.length > MAX_FILE_NAME)) {
    return `each element must be at most ${MAX_FILE_NAME} characters`;
  }
  const first = segments[0] ?? '';
  if (first.startsWith('..') && first.length > 2) return "it must not start with '..' (reserved for the writer)";
  return undefined;
}

/** The data of a ConfigMap (`data` and `binaryData` together) or of a Secret (decoded). */
export type VolumeData = Readonly<Record<string, string | Buffer>>;

/** A KeyToPath item of a volume source: project `key` to `path`, optionally with its own mode. */
export interface KeyToPath {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

/** The fields of a ConfigMap or Secret volume source that shape the payload. */
export interface VolumeSourceOptions {
  readonly defaultMode?: number;
  readonly items?: readonly KeyToPath[];
}

/** A ConfigMap volume's payload: files 0644 unless defaultMode or an item's mode says otherwise. */
export function configMapPayload(data: VolumeData, options: VolumeSourceOptions = {}): Payload {
  return project('configMap', data, options.items, options.defaultMode ?? DEFAULT_VOLUME_MODE);
}

/**
 * A Secret volume's payload. Kubernetes' default mode is 0644, as for a
 * ConfigMap; pass `{ defaultMode: 0o400 }` for the common owner-only mount.
 */
export function secretPayload(data: VolumeData, options: VolumeSourceOptions = {}): Payload {
  return project('secret', data, options.items, options.defaultMode ?? DEFAULT_VOLUME_MODE);
}

/** One source of a projected volume. */
export type ProjectedSource =
  | { readonly configMap: VolumeData; readonly items?: readonly KeyToPath[] }
  | { readonly secret: VolumeData; readonly items?: readonly KeyToPath[] };

/**
 * A projected volume's payload: several sources merged into one directory
 * under one defaultMode. Two sources projecting the same path are refused,
 * as the API server refuses them.
 */
export function projectedPayload(sources: readonly ProjectedSource[], options: { readonly defaultMode?: number } = {}): Payload {
  const defaultMode = options.defaultMode ?? DEFAULT_VOLUME_MODE;
  const merged: Record<string, FileProjection> = {};
  sources.forEach((source, index) => {
    const [kind, data] = 'configMap' in source ? (['configMap', source.configMap] as const) : (['secret', source.secret] as const);
    const payload = project(`sources[${index}].${kind}`, data, source.items, defaultMode);
    for (const [path, file] of Object.entries(payload)) {
      if (path in merged) {
        throw new Error(
          `projected volume: sources[${index}].${kind} projects ${JSON.stringify(path)}, which an earlier source already projects; paths must be unique`,
        );
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
      throw new Error(
        `${what}: items lists key ${JSON.stringify(item.key)}, which the data does not have (keys: ${Object.keys(data).join(', ') || 'none'})`,
      );
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
