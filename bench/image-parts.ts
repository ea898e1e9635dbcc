// The sidecar image's bytes by part, summed from the `tar -tv` listing of its
// exported root filesystem. scripts/container/image-parts.sh pipes the
// listing here (`node dist/bench/image-parts.js --image TAG --size BYTES`)
// and prints the one line of JSON this writes; bench/image.ts reads it.
//
// The sums live here rather than in awk so the bench's one reading of the
// listing is typed and unit-tested: a misread line would publish a wrong
// split without any run failing, so an unreadable line is an error.

/** The parts a size discussion is about: what the Dockerfile copies into the runtime stage. */
export type ImagePartName = 'node' | 'libraries' | 'app' | 'rest';
/** What /app is made of. */
export type AppPartName = 'bundles' | 'compiled' | 'addon' | 'node_modules' | 'other';

export interface Bytes {
  readonly bytes: number;
  readonly files: number;
}

export interface ImageListing {
  /** Regular files only: directories and symbolic links have no content, a hard link's bytes are counted at its first name. */
  readonly files: Bytes;
  readonly parts: Readonly<Record<ImagePartName, Bytes>>;
  readonly app: Readonly<Record<AppPartName, Bytes>>;
  /** The top-level directories the rest's files are in, sorted. */
  readonly restDirs: readonly string[];
}

export interface ImageMeasurement extends ImageListing {
  readonly image: string;
  /** `podman image inspect --format '{{.Size}}'`: the uncompressed layers, tar headers and padding included. */
  readonly sizeBytes: number;
}

const NODE_PATH = 'usr/local/bin/node';

export function partOf(path: string): ImagePartName {
  if (path === NODE_PATH) return 'node';
  // The Dockerfile copies what ldd names with `cp --parents`: /lib, /lib64, /usr/lib..., as the build stage had them.
  if (/^(usr\/)?lib[^/]*\//.test(path)) return 'libraries';
  if (path.startsWith('app/')) return 'app';
  return 'rest';
}

export function appPartOf(path: string): AppPartName {
  if (path.startsWith('app/dist/bin/')) return 'bundles';
  if (path.startsWith('app/dist/')) return 'compiled';
  if (path.startsWith('app/build/')) return 'addon';
  if (path.startsWith('app/node_modules/')) return 'node_modules';
  return 'other';
}

// GNU tar's verbose listing: mode, owner/group, size (major,minor for
// devices), date, time, name (then " -> target" or " link to target").
const LINE = /^([-dlhcbps])[-rwxsStT]{9}\S*\s+\S+\s+(\d+|\d+,\s*\d+)\s+\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}(?::\d{2})?\s+(.+)$/;

function normalize(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '');
}

export function sumImageListing(listing: string): ImageListing {
  const zero = (): { bytes: number; files: number } => ({ bytes: 0, files: 0 });
  const files = zero();
  const parts = { node: zero(), libraries: zero(), app: zero(), rest: zero() };
  const app = { bundles: zero(), compiled: zero(), addon: zero(), node_modules: zero(), other: zero() };
  const restDirs = new Set<string>();
  for (const line of listing.split('\n')) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (match === null) throw new Error(`image listing: cannot read the line ${JSON.stringify(line)}`);
    const [, type, size, name] = match;
    if (type !== '-') continue;
    const bytes = Number(size);
    const path = normalize(name ?? '');
    const add = (into: { bytes: number; files: number }): void => {
      into.bytes += bytes;
      into.files += 1;
    };
    add(files);
    const part = partOf(path);
    add(parts[part]);
    if (part === 'app') add(app[appPartOf(path)]);
    if (part === 'rest') restDirs.add(path.includes('/') ? `/${path.slice(0, path.indexOf('/'))}` : '/');
  }
  if (parts.node.files !== 1) throw new Error(`image listing: expected /${NODE_PATH} once, found it ${parts.node.files} times`);
  return { files, parts, app, restDirs: [...restDirs].sort() };
}

/** The script's JSON line, checked field by field: the tables divide by these numbers. */
export function parseMeasurement(line: string): ImageMeasurement {
  const value: unknown = JSON.parse(line);
  const object = (of: unknown, where: string): Record<string, unknown> => {
    if (typeof of !== 'object' || of === null) throw new Error(`image-parts.sh output: ${where} is not an object in ${line}`);
    return of as Record<string, unknown>;
  };
  const count = (of: Record<string, unknown>, key: string, where: string): number => {
    const found = of[key];
    if (typeof found !== 'number' || !Number.isSafeInteger(found) || found < 0) throw new Error(`image-parts.sh output: ${where}.${key} is not a count in ${line}`);
    return found;
  };
  const bytes = (of: unknown, where: string): { bytes: number; files: number } => {
    const checked = object(of, where);
    return { bytes: count(checked, 'bytes', where), files: count(checked, 'files', where) };
  };
  const top = object(value, 'the output');
  const parts = object(top.parts, 'parts');
  const app = object(top.app, 'app');
  const restDirs = top.restDirs;
  if (typeof top.image !== 'string') throw new Error(`image-parts.sh output: no image name in ${line}`);
  if (!Array.isArray(restDirs) || !restDirs.every((dir): dir is string => typeof dir === 'string')) {
    throw new Error(`image-parts.sh output: restDirs is not a list of directories in ${line}`);
  }
  return {
    image: top.image,
    sizeBytes: count(top, 'sizeBytes', 'the output'),
    files: bytes(top.files, 'files'),
    parts: {
      node: bytes(parts.node, 'parts.node'),
      libraries: bytes(parts.libraries, 'parts.libraries'),
      app: bytes(parts.app, 'parts.app'),
      rest: bytes(parts.rest, 'parts.rest'),
    },
    app: {
      bundles: bytes(app.bundles, 'app.bundles'),
      compiled: bytes(app.compiled, 'app.compiled'),
      addon: bytes(app.addon, 'app.addon'),
      node_modules: bytes(app.node_modules, 'app.node_modules'),
      other: bytes(app.other, 'app.other'),
    },
    restDirs,
  };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const value = (key: string): string => {
    const index = argv.indexOf(key);
    const found = index === -1 ? undefined : argv[index + 1];
    if (found === undefined) throw new Error(`usage: image-parts.js --image TAG --size BYTES < listing (missing ${key})`);
    return found;
  };
  const image = value('--image');
  const sizeBytes = Number(value('--size'));
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`image-parts.js: --size must be a byte count, got ${value('--size')}`);
  const measurement: ImageMeasurement = { image, sizeBytes, ...sumImageListing(await readStdin()) };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
