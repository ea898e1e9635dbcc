// `npm run bundle`: the `config-reloader` command as one file,
// dist/bin/config-reloader.js, which the package's bin and the image run,
// plus dist/bin/metrics.js, the metrics stack it loads only with METRICS_ADDR.
//
// Why one file: started from dist/lib/sidecar/cli/main.js, Node's CommonJS loader
// resolves some 30 modules at start-up, a few hundred path.resolve/dirname
// calls, enough for V8 to optimise path internals with TurboFan; the
// optimising compiler's code pages then stay resident for the life of the
// process (docs/benchmarks.md, "Idle RSS").
//
// The input is tsc's output (dist/lib), so the bundle runs the JavaScript the
// type checker produced; esbuild only joins the modules. Not minified: stack
// traces keep their names.
//
// The bundle needs nothing of the package at run time but the library's
// dist/lib/native.js, the one seam that loads the addon: it finds build/ and
// prebuilds/ through its own __dirname, which inside the bundle would name
// dist/bin. The build fails if any other bundled module uses __dirname. No
// sidecar module and no npm package is required at run time, so the package
// ships neither dist/lib/sidecar nor a dependency on prom-client.
//
// prom-client is bundled too, but into a file of its own: run.ts requires
// the metrics module only when METRICS_ADDR is set, and a bundled module,
// though evaluated lazily, would still be read and parsed with the CLI at
// every start. esbuild splits code only for ES modules, so the metrics file
// is a second build from its own entry point, and the CLI's require of that
// module is pointed at it.
//
// Each file is written to a temporary name and renamed into place, the
// metrics file first, so a process starting the CLI meanwhile sees the old
// bundle or the new one, never half of one, and never a CLI whose metrics
// file is missing (the test helper rebuilds a stale bundle while other test
// files may be running it).
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LIB = join(ROOT, 'dist', 'lib');
const BIN = join(ROOT, 'dist', 'bin');
export const BUNDLE = join(BIN, 'config-reloader.js');
/** The metrics stack (dist/lib/sidecar/metrics.js and prom-client), beside the CLI. */
export const METRICS_BUNDLE = join(BIN, 'metrics.js');
const ENTRY = join(LIB, 'sidecar', 'cli', 'main.js');

/** dist/lib modules that locate files relative to themselves: required from the bundle, never part of it. */
const KEEP_APART = [join(LIB, 'native.js')];
/** dist/lib modules built into a file of their own, which the CLI requires when it needs them. */
const SEPARATE_BUNDLES: ReadonlyMap<string, string> = new Map([[join(LIB, 'sidecar', 'metrics.js'), METRICS_BUNDLE]]);

const USES_OWN_LOCATION = /\b__(?:dirname|filename)\b/;

/** A require path from a file in dist/bin to `target`. */
function fromBin(target: string): string {
  const path = relative(BIN, target).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** Points requires of KEEP_APART and SEPARATE_BUNDLES modules at their files, and refuses modules that use __dirname. */
function requiredApart(entry: string): Plugin {
  return {
    name: 'required-apart',
    setup(bundle) {
      bundle.onResolve({ filter: /^\.\.?\// }, (args) => {
        for (const target of [join(args.resolveDir, args.path), join(args.resolveDir, `${args.path}.js`)]) {
          if (target === entry) return undefined;
          if (KEEP_APART.includes(target)) return { path: fromBin(target), external: true };
          const file = SEPARATE_BUNDLES.get(target);
          if (file !== undefined) return { path: fromBin(file), external: true };
        }
        return undefined;
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
}

interface Built {
  readonly file: string;
  readonly contents: Uint8Array;
  readonly modules: number;
}

async function bundleFrom(entry: string, file: string): Promise<Built> {
  if (!existsSync(entry)) throw new Error(`${relative(ROOT, entry)} is missing: run \`npx tsc -p .\` first`);
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    plugins: [requiredApart(entry)],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error(`esbuild produced no output for ${relative(ROOT, entry)}`);
  return { file, contents: output.contents, modules: Object.keys(result.metafile.inputs).length };
}

function writeInPlace({ file, contents }: Built): void {
  const temporary = `${file}.${process.pid}.tmp`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(temporary, contents, { mode: 0o755 });
  renameSync(temporary, file);
}

export async function bundleCli(): Promise<Built[]> {
  const separate = await Promise.all([...SEPARATE_BUNDLES].map(([entry, file]) => bundleFrom(entry, file)));
  const cli = await bundleFrom(ENTRY, BUNDLE);
  for (const built of separate) writeInPlace(built);
  writeInPlace(cli);
  return [cli, ...separate];
}

if (require.main === module) {
  bundleCli().then(
    (files) => {
      for (const { file, contents, modules } of files) {
        process.stdout.write(`${relative(ROOT, file)}: ${modules} modules, ${Math.round(contents.byteLength / 1024)} KiB\n`);
      }
    },
    (error: unknown) => {
      // esbuild's own errors carry the file and the reason in their message.
      process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
