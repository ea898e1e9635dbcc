// V8 settings for a process that runs in every Pod: small and steady rather
// than fast at peak. They are in force whichever way the CLI is started:
//
// - The image's entrypoint gives V8_FLAGS on node's command line (a test
//   keeps the Dockerfile's list equal to it). That costs nothing.
// - Started any other way (the npm bin, `node dist/bin/config-reloader.js`),
//   applyV8Flags() sets each missing one's run-time stand-in, which needs
//   node:v8: loading it brings V8's heap utilities, serializer and profiler
//   bindings, resident for the life of the process. So it is loaded only
//   when a flag is missing.
//
// - `--no-opt`: no TurboFan. Start-up runs a few functions (Node's argument
//   validators under fs calls, the /proc scan) often enough to be optimised,
//   and the optimising compiler's own code, paged in from the node binary,
//   then stays resident for the life of the process. The sidecar's work is
//   system calls and hashing in C++: a reload is no slower without TurboFan.
//   What it costs is start-up on a very large tree, whose first walk runs
//   that JavaScript hundreds of thousands of times; a sidecar starts once.
// - The young generation, and the pool of freed pages V8 keeps for it, are
//   held to their initial size instead of growing under the allocation
//   burst of a large tree's first walk; V8 never gives those pages back
//   (test/sidecar-memory.test.ts fails without it). On the command line that is
//   `--max-semi-space-size=1` (MiB). At run time the maximum no longer
//   counts (it sized the heap's reservation at set-up), so the stand-in is
//   `--semi-space-growth-factor=1`, which stops growth from then on; given
//   on the command line instead, that one changed nothing measurable.
// - `--gc-memory-reducer-start-delay-ms=1500`: start-up leaves garbage
//   behind (the bundle's parse, the /proc scan, the first fingerprint) and a
//   young generation whose two semi-spaces have both been touched. Nothing
//   frees them until V8's memory reducer runs: a few memory-reducing full
//   GCs that shrink the young generation and give emptied pages back to the
//   kernel. V8 arms it once the old generation has grown past its size after
//   bootstrap, which happens while the bundle loads, and by default waits 8 s
//   before the first of them. A sidecar is idle once it is ready (a small
//   volume is ready within a few hundred milliseconds), so the reducer may
//   start sooner: the memory is given back within seconds of start-up rather
//   than after 8 s. It still starts a GC only once the allocation rate it
//   measures since start-up has fallen low, and otherwise waits another 8 s,
//   as it always did: so after a large tree's first walk, or, with a delay
//   much shorter than this one, after the metrics stack's heavier start-up.
//   A full GC forced after "ready" (`--expose-gc`) would not do this:
//   outside the reducer's memory-reducing mode it keeps both semi-spaces and
//   every page it empties.
//
// The run-time stand-ins are read when V8 decides (to optimise, to grow, to
// arm the reducer), so setting them then takes effect. Only such flags may
// stand in: flags read once at start-up do nothing at run time, and some
// crash V8 when they change under it (the parser's laziness, the GC's
// threads). docs/benchmarks.md ("Footprint") has what each is worth and how
// it was measured.

// A flag counts as given when node got any setting of the same option, by
// either spelling (`--max_semi_space_size`), either polarity (`--opt` for
// `--no-opt`) and any value, on its command line or in NODE_OPTIONS (where
// node accepts `--max-semi-space-size` but no `--opt`): whoever started node
// that way chose, and the CLI leaves the choice alone rather than set a
// stand-in over it.

interface V8Flag {
  /** As node's command line takes it. */
  readonly flag: string;
  /** What does its work when set at run time. */
  readonly standIn: string;
}

const FLAGS: readonly V8Flag[] = [
  { flag: '--no-opt', standIn: '--no-opt' },
  { flag: '--max-semi-space-size=1', standIn: '--semi-space-growth-factor=1' },
  { flag: '--gc-memory-reducer-start-delay-ms=1500', standIn: '--gc-memory-reducer-start-delay-ms=1500' },
];

/** The flags for node's command line, as the image's entrypoint gives them. */
export const V8_FLAGS: readonly string[] = FLAGS.map(({ flag }) => flag);

/** The option a flag sets: `--no_opt` and `--opt=true` both set `opt`; undefined when it is no option. */
export function v8OptionName(argument: string): string | undefined {
  if (!argument.startsWith('--') || argument === '--') return undefined;
  const name = argument.slice(2).split('=', 1)[0]?.replaceAll('_', '-') ?? '';
  return name.startsWith('no-') ? name.slice(3) : name;
}

/** The run-time stand-ins for the flags that neither `execArgv` nor `nodeOptions` set in any way. */
export function missingV8StandIns(execArgv: readonly string[], nodeOptions: string): string[] {
  const given = new Set<string | undefined>([...execArgv, ...nodeOptions.split(/\s+/)].map(v8OptionName));
  return FLAGS.filter(({ flag }) => !given.has(v8OptionName(flag))).map(({ standIn }) => standIn);
}

/** Sets the run-time stand-ins of the flags that node was not started with. */
export function applyV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): void {
  const standIns = missingV8StandIns(execArgv, nodeOptions);
  if (standIns.length === 0) return;
  const { setFlagsFromString } = require('node:v8') as typeof import('node:v8');
  for (const standIn of standIns) setFlagsFromString(standIn);
}
