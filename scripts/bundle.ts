// `npm run bundle`: the `config-reloader` command as one file,
// dist/bin/config-reloader.js, which the package's bin and the image run.
//
// Why one file: started from dist/lib/sidecar/cli/main.js, Node's CommonJS loader
// resolves some 30 modules at start-up, a few hundred path.resolve/dirname
// calls, enough for V8 to optimise path internals with TurboFan; the
// optimising compiler's code pages then stay resident for the life of the
// process. Idle RSS measured against a bare `node` (docs/benchmarks.md,
// "Idle RSS"): 48.4 MiB unbundled, 43.9 MiB bundled, 39.5 MiB bare.
//
// The input is tsc's output (dist/lib), so the bundle runs the JavaScript the
// type checker produced; esbuild only joins the modules. Not minified: a
// measured difference within noise, and stack traces keep their names.
//
// Some modules stay files of their own, required from the bundle by a path
// relative to it:
// - modules that find files through their own __dirname (the addon via
//   node-gyp-build, package.json): inside the bundle __dirname would be
//   dist/bin. The build fails if any other bundled module uses __dirname.
// - prom-client, which the sidecar loads only with METRICS_ADDR set.
//
// The file is written to a temporary name and renamed into place, so a
// process starting the CLI meanwhile sees the old bundle or the new one,
// never half of one (the test helper rebuilds a stale bundle while other
// test files may be running it).
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LIB = join(ROOT, 'dist', 'lib');
export const BUNDLE = join(ROOT, 'dist', 'bin', 'config-reloader.js');
const ENTRY = join(LIB, 'sidecar', 'cli', 'main.js');

/** dist/lib modules that locate files relative to themselves. */
const KEEP_APART = ['native.js', join('sidecar', 'cli', 'version.js')].map((path) => join(LIB, path));
/** Packages required at run time from node_modules rather than bundled. */
const EXTERNAL_PACKAGES = ['prom-client'];

const USES_OWN_LOCATION = /\b__(?:dirname|filename)\b/;

const keepApart: Plugin = {
  name: 'keep-apart',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = [join(args.resolveDir, args.path), join(args.resolveDir, `${args.path}.js`)].find((path) =>
        KEEP_APART.includes(path),
      );
      if (target === undefined) return undefined;
      const fromBundle = relative(join(BUNDLE, '..'), target).split(sep).join('/');
      return { path: fromBundle.startsWith('.') ? fromBundle : `./${fromBundle}`, external: true };
    });
    bundle.onLoad({ filter: /\.js$/ }, (args) => {
      const contents = readFileSync(args.path, 'utf8');
      if (!USES_OWN_LOCATION.test(contents)) return { contents, loader: 'js' };
      return {
        errors: [
          {
            text:
              `${relative(ROOT, args.path)} uses __dirname or __filename, which inside the bundle would name dist/bin; ` +
              'add it to KEEP_APART in scripts/bundle.ts so it stays a file of its own',
          },
        ],
      };
    });
  },
};

export async function bundleCli(): Promise<{ bytes: number; modules: number }> {
  if (!existsSync(ENTRY)) throw new Error(`${relative(ROOT, ENTRY)} is missing: run \`npx tsc -p .\` first`);
  const result = await build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: EXTERNAL_PACKAGES,
    plugins: [keepApart],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  mkdirSync(join(BUNDLE, '..'), { recursive: true });
  writeFileSync(temporary, output.contents, { mode: 0o755 });
  renameSync(temporary, BUNDLE);
  return { bytes: output.contents.byteLength, modules: Object.keys(result.metafile.inputs).length };
}

if (require.main === module) {
  bundleCli().then(
    ({ bytes, modules }) => {
      process.stdout.write(`${relative(ROOT, BUNDLE)}: ${modules} modules, ${Math.round(bytes / 1024)} KiB\n`);
    },
    (error: unknown) => {
      // esbuild's own errors carry the file and the reason in their message.
      process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
