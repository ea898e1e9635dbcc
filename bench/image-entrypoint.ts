// The sidecar is measured as Pods run it: with the node options of the
// image's entrypoint (the V8 flags of lib/sidecar/cli/v8-flags.ts, which the
// CLI replaces with run-time stand-ins when they are missing). They are read
// from the Dockerfile itself, so the bench cannot drift from the image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCKERFILE = join(__dirname, '..', '..', 'Dockerfile');

/** The exec-form ENTRYPOINT of the Dockerfile's last stage. */
export function imageEntrypoint(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const lines = dockerfile.split('\n').filter((line) => line.startsWith('ENTRYPOINT '));
  const last = lines[lines.length - 1];
  if (last === undefined) throw new Error(`${DOCKERFILE}: no ENTRYPOINT`);
  const notExecForm = new Error(`${DOCKERFILE}: ENTRYPOINT is not the exec form ["node", ...options, "script"]: ${last}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(last.slice('ENTRYPOINT '.length));
  } catch {
    // The shell form (`ENTRYPOINT node ...`), which the bench cannot take apart.
    throw notExecForm;
  }
  if (!Array.isArray(parsed) || parsed.length < 2 || !parsed.every((part): part is string => typeof part === 'string')) throw notExecForm;
  return parsed;
}

let nodeOptions: readonly string[] | undefined;

/** What the entrypoint passes node between the binary and the script; the Dockerfile is read once per run. */
export function imageNodeOptions(): readonly string[] {
  nodeOptions ??= imageEntrypoint().slice(1, -1);
  return nodeOptions;
}
