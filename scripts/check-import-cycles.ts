// `node dist/scripts/check-import-cycles.js [--boundary=error|warn] [--root=DIR] [DIR...]`,
// run by `npm test` before the tests: fails when the project's TypeScript
// files import each other in a cycle, and checks the line between the
// library and the sidecar.
//
// A cycle makes two modules one: neither can be read, tested or moved
// without the other, and under CommonJS whichever loads second sees the
// first half-initialised. The boundary: the library (lib/ outside
// lib/sidecar/) knows nothing of the sidecar, and the sidecar uses the
// library only through lib/index.ts, its public surface, so whatever the
// sidecar needs the library offers in public.
//
// Each cycle is reported once per group of files that all reach each other
// (a strongly connected component), with one shortest cycle through it.
// --boundary=warn reports boundary violations without failing; cycles always fail.
import { join } from 'node:path';

import { type ImportGraph, readImportGraph } from './import-graph';

/** What `npm test` checks, relative to the package root. */
export const CHECKED_DIRS = ['lib', 'demo', 'bench', 'scripts', 'test', 'test-container'];

/** The groups of files that import each other in a cycle (Tarjan's algorithm), each sorted, in order of their first file. */
export function cycleGroups(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    lowLink.set(file, index.get(file) ?? 0);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        lowLink.set(file, Math.min(lowLink.get(file) ?? 0, lowLink.get(next) ?? 0));
      } else if (onStack.has(next)) {
        lowLink.set(file, Math.min(lowLink.get(file) ?? 0, index.get(next) ?? 0));
      }
    }
    if (lowLink.get(file) !== index.get(file)) return;
    const group: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      group.push(member);
      if (member === file) break;
    }
    const importsItself = group.length === 1 && (graph.get(file) ?? []).includes(file);
    if (group.length > 1 || importsItself) groups.push(group.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) connect(file);
  return groups.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

/** A shortest cycle through the group's first file, as a path that ends where it starts. */
export function shortestCycle(graph: ImportGraph, group: readonly string[]): string[] {
  const [start] = group;
  if (start === undefined) return [];
  const members = new Set(group);
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const file: string = queue[head] ?? start;
    for (const next of graph.get(file) ?? []) {
      if (next === start) {
        const path: string[] = [];
        for (let step: string | undefined = file; step !== undefined && step !== start; step = cameFrom.get(step)) path.unshift(step);
        return [start, ...path, start];
      }
      if (members.has(next) && !cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

function isSidecar(file: string): boolean {
  return file.startsWith('lib/sidecar/');
}

function isLibrary(file: string): boolean {
  return file.startsWith('lib/') && !isSidecar(file);
}

/** Imports that cross the line between library and sidecar the wrong way, one sentence each. */
export function boundaryViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    for (const imported of imports) {
      if (isLibrary(file) && isSidecar(imported)) {
        violations.push(`${file} imports ${imported}: the library has no sidecar concepts`);
      } else if (isSidecar(file) && isLibrary(imported) && imported !== 'lib/index.ts') {
        violations.push(`${file} imports ${imported}: the sidecar uses the library through lib/index.ts only`);
      }
    }
  }
  return violations;
}

/** The report for `graph` and whether it passes. */
export function checkImports(graph: ImportGraph, boundary: 'error' | 'warn'): { readonly lines: string[]; readonly ok: boolean } {
  const lines: string[] = [];
  const groups = cycleGroups(graph);
  for (const group of groups) {
    lines.push(`import cycle: ${shortestCycle(graph, group).join(' -> ')}`);
    if (group.length > 2) lines.push(`  these ${group.length} files all import each other, directly or not: ${group.join(', ')}`);
  }
  const violations = boundaryViolations(graph);
  const label = boundary === 'error' ? 'boundary' : 'warning: boundary';
  for (const violation of violations) lines.push(`${label}: ${violation}`);
  return { lines, ok: groups.length === 0 && (boundary === 'warn' || violations.length === 0) };
}

function main(args: readonly string[]): number {
  let boundary: 'error' | 'warn' = 'error';
  let root = join(__dirname, '..', '..');
  const dirs: string[] = [];
  for (const arg of args) {
    if (arg === '--boundary=error' || arg === '--boundary=warn') boundary = arg === '--boundary=warn' ? 'warn' : 'error';
    else if (arg.startsWith('--root=')) root = arg.slice('--root='.length);
    else if (arg.startsWith('-')) {
      process.stderr.write(`check-import-cycles: unknown option ${arg}; usage: check-import-cycles [--boundary=error|warn] [--root=DIR] [DIR...]\n`);
      return 2;
    }
    else dirs.push(arg);
  }
  const graph = readImportGraph(root, dirs.length === 0 ? CHECKED_DIRS : dirs);
  const { lines, ok } = checkImports(graph, boundary);
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.stdout.write(`${ok ? 'ok' : 'not ok'}: imports of ${graph.size} files checked\n`);
  return ok ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
