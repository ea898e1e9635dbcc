// V8 settings for a process that runs in every Pod: small and steady rather
// than fast at peak. They are in force whichever way the CLI is started:
//
// - The image's entrypoint gives them on node's command line (a test keeps
//   the Dockerfile's list equal to V8_FLAGS). That costs nothing.
// - Started any other way (the npm bin, `node dist/bin/config-reloader.js`),
//   applyV8Flags() sets them at run time, which needs node:v8: loading it
//   brings V8's heap utilities, serializer and profiler bindings, resident
//   for the life of the process. So it is loaded only when a flag is missing.
//
// - `--no-opt`: no TurboFan. Start-up runs a few functions (Node's argument
//   validators under fs calls, the /proc scan) often enough to be optimised,
//   and the optimising compiler's own code, paged in from the node binary,
//   then stays resident for the life of the process. The sidecar's work is
//   system calls and hashing in C++; the interpreter and Sparkplug run its
//   JavaScript about as fast here.
// - `--semi-space-growth-factor=1`: the young generation keeps its initial
//   size instead of growing to 16 MiB per semi-space under the allocation
//   burst of a large tree's first walk; V8 never gives those pages back.
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
// Each is read when V8 decides (to optimise, to grow, to arm the reducer), so
// setting them at run time takes effect. Only such flags belong here: flags
// read once at start-up do nothing at run time, and some crash V8 when they
// change under it (the parser's laziness, the GC's threads).
// docs/benchmarks.md ("Footprint") has what each is worth and how it was
// measured.
export const V8_FLAGS: readonly string[] = ['--no-opt', '--semi-space-growth-factor=1', '--gc-memory-reducer-start-delay-ms=1500'];

/** Sets the flags that node's command line did not give. */
export function applyV8Flags(execArgv: readonly string[] = process.execArgv): void {
  const missing = V8_FLAGS.filter((flag) => !execArgv.includes(flag));
  if (missing.length === 0) return;
  const { setFlagsFromString } = require('node:v8') as typeof import('node:v8');
  for (const flag of missing) setFlagsFromString(flag);
}
