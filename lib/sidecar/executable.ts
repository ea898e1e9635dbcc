// Where a command would be found, the way execvp(3) looks: a name with a
// slash is a path, a bare name is looked up in each PATH directory in turn.
// `check` reports it, and the sidecar warns at start-up, so that a missing
// program shows before the first ConfigMap update, maybe days later.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

import { errorCode } from '..';

export type Resolution = { readonly path: string } | { readonly problem: string };

export function resolveExecutable(program: string, searchPath: string | undefined): Resolution {
  if (program.includes('/')) {
    const path = isAbsolute(program) ? program : resolve(program);
    const problem = whyNotExecutable(path);
    return problem === undefined ? { path } : { problem: `${path} ${problem}` };
  }
  const dirs = (searchPath ?? '').split(delimiter).filter((dir) => dir !== '');
  let found: string | undefined;
  for (const dir of dirs) {
    const path = join(dir, program);
    const problem = whyNotExecutable(path);
    if (problem === undefined) return { path };
    if (problem !== 'does not exist') found ??= `${path} ${problem}`;
  }
  return { problem: found ?? `${program} is not found on PATH (${dirs.join(delimiter) || 'empty'})` };
}

function whyNotExecutable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a regular file';
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
    if (code === 'EACCES') return 'is not executable (EACCES): it needs an execute permission bit the sidecar\'s user has';
    return `cannot be used (${code ?? 'an error'})`;
  }
}
