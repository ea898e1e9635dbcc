// The package as npm publishes it: `npm pack` of this checkout, after the CLI
// bundle has been brought up to date with dist/lib (cli-bundle.ts).
import { join } from 'node:path';

import { describeResult, runCommand } from './child-process';
import { freshCliBundle } from './cli-bundle';
import { PACKAGE_ROOT } from './package-copy';

interface PackReport {
  readonly filename: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

async function pack(extraArgs: readonly string[]): Promise<PackReport> {
  freshCliBundle();
  // --ignore-scripts: `prepare` would rebuild dist/, which the suite has just built.
  const result = await runCommand('npm', ['pack', '--json', '--ignore-scripts', ...extraArgs], { cwd: PACKAGE_ROOT, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`npm pack failed: ${describeResult(result)}`);
  const [report] = JSON.parse(result.stdout) as PackReport[];
  if (report === undefined) throw new Error(`npm pack reported no package: ${result.stdout}`);
  return report;
}

/** The paths the tarball would hold, relative to the package root, without writing it. */
export async function packedPaths(): Promise<string[]> {
  return (await pack(['--dry-run'])).files.map((file) => file.path);
}

/** Writes the tarball into `destination` and returns its path. */
export async function packTarball(destination: string): Promise<string> {
  return join(destination, (await pack(['--pack-destination', destination])).filename);
}
