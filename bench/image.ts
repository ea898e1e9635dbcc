// Image: the sidecar image built from the real Dockerfile, its uncompressed
// size and what it is made of (the node binary, the shared libraries, our
// files under /app, the rest), by scripts/container/image-parts.sh.
//
// The first time on a machine the set-up debootstraps Debian and builds the
// Node stand-in; every build runs npm ci and node-gyp (build-image.sh's
// prune leaves podman no cached build-stage layers). It runs last in the
// bench, so that CPU is taken from nothing else. A machine without podman,
// or a failed build, costs this section only: its error is recorded and the
// rest of the run is reported as usual.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

import { Child } from './child';
import { type ImageMeasurement, parseMeasurement } from './image-parts';

export const BENCH_IMAGE = 'localhost/config-reloader:bench';
/** Generous: a first build on a fresh machine debootstraps Debian and runs npm ci. */
const TIMEOUT_MS = 20 * 60 * 1000;
/** The build's own steps and the set-up's announcements, worth seeing while a first build takes minutes. */
const PROGRESS = /^(\[container\] |installing Debian packages|(\[\d+\/\d+\] )?STEP \d+\/\d+)/;

export interface ImageResult {
  readonly image: string;
  readonly durationMs: number;
  /** The script's whole output, kept for a failure. */
  readonly logFile: string;
  readonly measurement?: ImageMeasurement;
  readonly error?: string;
}

export async function measureImage(repoRoot: string, outDir: string, progress: (message: string) => void): Promise<ImageResult> {
  const script = join(repoRoot, 'scripts', 'container', 'image-parts.sh');
  mkdirSync(outDir, { recursive: true });
  const logFile = join(outDir, 'image.log');
  const log = createWriteStream(logFile);
  const started = Date.now();
  const child = new Child('image-parts.sh', 'bash', [script, BENCH_IMAGE], { cwd: repoRoot });
  const stdout: string[] = [];
  child.onLine((line, stream) => {
    log.write(`${line}\n`);
    if (stream === 'stdout') stdout.push(line);
    else if (PROGRESS.test(line)) progress(`image: ${line.length > 120 ? `${line.slice(0, 117)}...` : line}`);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // Long enough for the script's trap to remove its container.
    void child.stop(30000);
  }, TIMEOUT_MS);
  const code = await child.exited;
  // 'exit' may come before the last of stdout, the JSON line, has been read;
  // bounded, in case something the script started still holds the pipe.
  const stdoutStream = child.process.stdout;
  if (stdoutStream !== null) await Promise.race([finished(stdoutStream).catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, 10000).unref())]);
  clearTimeout(timer);
  await new Promise<void>((resolve) => log.end(resolve));
  const result = { image: BENCH_IMAGE, logFile, durationMs: Date.now() - started };
  const failed = (why: string): ImageResult => ({ ...result, error: `${why}; last lines of ${logFile}:\n${child.tail(10)}` });
  if (timedOut) return failed(`no result within ${TIMEOUT_MS / 60000} minutes`);
  if (code !== 0) return failed(`image-parts.sh exited with ${String(code)}`);
  try {
    return { ...result, measurement: parseMeasurement(stdout[stdout.length - 1] ?? '') };
  } catch (error) {
    return failed(error instanceof Error ? error.message : String(error));
  }
}
