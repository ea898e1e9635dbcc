// Runs library code in a child node process, where the test cannot run it
// itself: as another user, under a seccomp filter, as pid 1 of a fresh PID
// namespace. The script reports, as JSON, how each attempt ended, and the
// test asserts on that.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { join } from 'node:path';

import { describeResult, runCommand } from './child-process';

/** What an attempt returned, or the fields of what it threw. */
export interface Outcome {
  readonly result?: unknown;
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly syscall?: unknown;
  readonly message?: unknown;
}

/**
 * A script for `node -e` that loads from `root`'s dist/lib the names given
 * per module (`{ 'signal-process': ['signalProcess'] }`), runs `body` (which
 * may await) and prints the outcome of each attempt it records with
 * attempt(name, fn).
 */
export function libraryScript(root: string, imports: Readonly<Record<string, readonly string[]>>, body: string): string {
  const requires = Object.entries(imports)
    .map(([module, names]) => `const { ${names.join(', ')} } = require(${JSON.stringify(join(root, 'dist', 'lib', `${module}.js`))});`)
    .join('\n');
  return `
    ${requires}
    const outcomes = {};
    const attempt = (name, fn) => {
      try {
        outcomes[name] = { result: fn() };
      } catch (error) {
        outcomes[name] = { code: error.code, syscall: error.syscall, errno: error.errno, message: error.message };
      }
    };
    (async () => {
      ${body}
    })().then(
      () => process.stdout.write(JSON.stringify(outcomes)),
      (error) => {
        process.stderr.write(String(error && error.stack) + '\\n');
        process.exit(1);
      },
    );
  `;
}

/** Runs the script with node, behind `command` (setpriv, unshare, a seccomp launcher), and returns the outcomes. */
export async function runLibraryScript(command: readonly string[], script: string): Promise<Record<string, Outcome | undefined>> {
  const [file, ...args] = [...command, process.execPath, '-e', script];
  const result = await runCommand(file ?? process.execPath, args);
  assert.equal(result.code, 0, describeResult(result));
  return JSON.parse(result.stdout) as Record<string, Outcome | undefined>;
}

/** Checks Node's SystemError shape: of a thrown error, or of an outcome a child reported. */
export function assertSystemError(error: unknown, code: string, syscall: string, message?: RegExp): true {
  assert.ok(typeof error === 'object' && error !== null, `expected ${code}, got ${String(error)}`);
  const fields: Outcome = error;
  assert.equal(fields.code, code, `expected ${code}, got ${JSON.stringify(error)} (${String(error)})`);
  assert.equal(fields.syscall, syscall);
  const errno = (constants.errno as Readonly<Record<string, number | undefined>>)[code];
  assert.ok(errno !== undefined, code);
  assert.equal(fields.errno, -errno);
  if (message !== undefined) assert.match(String(fields.message), message);
  return true;
}
