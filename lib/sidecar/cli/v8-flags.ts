// V8 settings for a process that runs in every Pod: small and steady rather
// than fast at peak. Imported first by main.ts, so they are in force before
// any code of ours runs, whichever way the CLI is started (the image's
// entrypoint, the npm bin, `node dist/bin/config-reloader.js`): flags on a
// command line or in a shebang would each cover only one of those.
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
//
// Both are read when V8 decides (to optimise, to grow), so setting them at
// run time takes effect. docs/benchmarks.md ("Footprint") has what each is
// worth and how it was measured.
import { setFlagsFromString } from 'node:v8';

for (const flag of ['--no-opt', '--semi-space-growth-factor=1']) setFlagsFromString(flag);
