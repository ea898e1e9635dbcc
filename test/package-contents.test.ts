// What `npm pack` puts in the tarball: the library (its JavaScript, types,
// source maps and the TypeScript they map to), the bundled CLI, the addon's
// sources and prebuilds; no sidecar module and nothing that only serves this
// repository; and nothing in it that refers to a file it does not hold.
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { before, test } from 'node:test';

import { packedPaths } from './helpers/npm-pack';
import { PACKAGE_ROOT } from './helpers/package-copy';

let shipped: ReadonlySet<string> = new Set();

before(async () => {
  shipped = new Set(await packedPaths());
});

function read(path: string): string {
  return readFileSync(join(PACKAGE_ROOT, path), 'utf8');
}

/** Every file under `dir` of the checkout, relative to the package root. */
function filesUnder(dir: string): string[] {
  const root = join(PACKAGE_ROOT, dir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => posix.join(dir, posix.relative(root, join(entry.parentPath, entry.name)).split('\\').join('/')));
}

/** The library's modules: lib/*.ts, without lib/sidecar and without hand-written declarations. */
function libraryModules(): string[] {
  return readdirSync(join(PACKAGE_ROOT, 'lib'))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => name.slice(0, -'.ts'.length));
}

test('the tarball holds the library with its types and sources, both CLI bundles, the addon sources, LICENSE and the prebuilds', () => {
  const gyp = JSON.parse(read('binding.gyp')) as { targets: Array<{ sources: string[] }> };
  const required = [
    'package.json', 'README.md', 'LICENSE', 'binding.gyp',
    ...(gyp.targets[0]?.sources ?? []),
    ...filesUnder('native').filter((path) => path.endsWith('.h')),
    ...libraryModules().flatMap((name) => [`dist/lib/${name}.js`, `dist/lib/${name}.d.ts`, `dist/lib/${name}.js.map`, `lib/${name}.ts`]),
    'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', 'lib/testing/index.ts',
    'dist/bin/config-reloader.js', 'dist/bin/metrics.js',
    ...filesUnder('prebuilds'),
  ];
  assert.ok(required.includes('dist/lib/native.js') && required.includes('native/addon.cc'), 'the list is derived from the checkout');
  const missing = required.filter((path) => !shipped.has(path));
  assert.deepEqual(missing, [], 'files missing from the tarball');
});

test('the tarball holds no sidecar module and no test, benchmark, script, example, demo or doc', () => {
  const stray = [...shipped].filter((path) =>
    /^(dist\/)?lib\/sidecar\/|^(dist\/)?(test|test-container|bench|scripts|examples|demo|docs)\/|^(build|node_modules|\.tmp)\//.test(path),
  );
  assert.deepEqual(stray, []);
});

const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;
const TYPE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

/** The shipped file a relative specifier in `from` loads, if the tarball holds it. */
function resolveShipped(from: string, specifier: string, extensions: readonly string[]): string | undefined {
  const base = posix.join(posix.dirname(from), specifier);
  return [base, ...extensions.map((ext) => `${base}${ext}`), ...extensions.map((ext) => `${base}/index${ext}`)].find((path) =>
    shipped.has(path),
  );
}

test('every relative require and type import in the tarball names a file in it, and every other require a Node built-in or a dependency', () => {
  const manifest = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };
  const dependencies = new Set(Object.keys(manifest.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const problems: string[] = [];
  let checked = 0;
  for (const path of shipped) {
    const isDeclaration = path.endsWith('.d.ts');
    if (!isDeclaration && !path.endsWith('.js')) continue;
    const text = read(path);
    for (const [, specifier = ''] of text.matchAll(isDeclaration ? TYPE_IMPORT : REQUIRE)) {
      checked += 1;
      if (specifier.startsWith('.')) {
        const extensions = isDeclaration ? ['.d.ts'] : ['.js', '.json'];
        if (resolveShipped(path, specifier, extensions) === undefined) problems.push(`${path}: ${specifier} is not in the tarball`);
      } else if (!isDeclaration) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
        if (!builtins.has(specifier.replace(/^node:/, '')) && !dependencies.has(name)) {
          problems.push(`${path}: requires ${specifier}, neither a Node built-in nor a dependency`);
        }
      }
    }
  }
  assert.ok(checked > 50, `found the requires and imports (${checked})`);
  assert.deepEqual(problems, []);
});

test('every source map in the tarball maps sources the tarball holds, and every sourceMappingURL names a map in it', () => {
  const problems: string[] = [];
  const maps = [...shipped].filter((path) => path.endsWith('.map'));
  assert.ok(maps.length > 0, 'the library ships its source maps');
  for (const path of maps) {
    const map = JSON.parse(read(path)) as { sourceRoot?: string; sources: string[] };
    for (const source of map.sources) {
      const target = posix.normalize(posix.join(posix.dirname(path), map.sourceRoot ?? '', source));
      if (!shipped.has(target)) problems.push(`${path} maps ${source} (${target}), which is not in the tarball`);
    }
  }
  for (const path of shipped) {
    if (!/\.(js|d\.ts)$/.test(path)) continue;
    const url = /^\/\/# sourceMappingURL=(\S+)\s*$/m.exec(read(path))?.[1];
    if (url !== undefined && !shipped.has(posix.join(posix.dirname(path), url))) {
      problems.push(`${path} names the source map ${url}, which is not in the tarball`);
    }
  }
  assert.deepEqual(problems, []);
});
