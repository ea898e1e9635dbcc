// Which of the project's own TypeScript files each file imports, read from
// the syntax tree rather than by pattern, so an import quoted in a comment or
// a string (test scripts for child processes hold many) is not one, and
// every form that makes a dependency is: `import`, `export ... from`,
// `import x = require()`, `require()`, `import()` and the `import('...')` of a
// type position. A type-only import is an edge too: it ties the two modules
// together for a reader as much as a value import does.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts = require('typescript');

/** Files by path relative to the root, '/'-separated, each with the files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every module specifier in `source`, in order of appearance. */
export function moduleSpecifiers(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const literal = (node: ts.Node | undefined): void => {
    if (node !== undefined && ts.isStringLiteralLike(node)) specifiers.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      literal(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      literal(node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        literal(node.arguments[0]);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      literal(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers;
}

function typeScriptFiles(root: string, dir: string): string[] {
  const files: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && entry.name.endsWith('.ts')) files.push(relative(root, child).split(sep).join('/'));
    }
  };
  const start = join(root, dir);
  if (statSync(start, { throwIfNoEntry: false })?.isDirectory() === true) walk(start);
  return files;
}

/** The file a relative specifier names, as node16 resolution would find its source: x.ts, x.d.ts, x/index.ts, or x.js's x.ts. */
function resolveRelative(from: string, specifier: string, known: ReadonlySet<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, `${base}.ts`, `${base}.d.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')];
  return candidates.find((candidate) => known.has(candidate));
}

/**
 * The import graph of the .ts files under `dirs` (relative to `root`).
 * Only relative specifiers count; one that names no scanned .ts file (a
 * package.json, a compiled file) is left out.
 */
export function readImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const files = dirs.flatMap((dir) => typeScriptFiles(root, dir)).sort();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const imports = moduleSpecifiers(file, readFileSync(join(root, file), 'utf8'))
      .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
      .map((specifier) => resolveRelative(file, specifier, known))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(imports)].sort());
  }
  return graph;
}
