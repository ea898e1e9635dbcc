// The C programs in test/helpers that the library tests run: the
// seccomp launcher, so tests can run code under a real seccomp filter, a
// process whose main thread exits before the others, and an LD_PRELOAD shim
// that makes pthread_create fail on demand.
import assert from 'node:assert/strict';
import { constants } from 'node:os';

import type { ProcessInfo } from '../../lib/proc';
import { buildHelper } from './c-program';
import type { Cleanup } from './child-process';
import { libraryScript, type Outcome, runLibraryScript } from './library-script';
import { PACKAGE_ROOT } from './package-copy';
import { type SignalRecorder, startSignalRecorder, targetOf } from './signal-recorder';

/**
 * Compiles the launcher into a temporary directory (removed when `cleanup`
 * runs) and returns its path. Usage: `<path> ERRNO PROGRAM [ARG...]`.
 */
function buildPidfdOpenDenier(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'seccomp-deny-pidfd-open');
}

export interface DeniedPidfdRun {
  /** A recorder handling SIGHUP and SIGUSR2, the script's target. */
  readonly recorder: SignalRecorder;
  readonly info: ProcessInfo;
  readonly outcomes: Record<string, Outcome | undefined>;
}

/**
 * Runs library code (see libraryScript) under the launcher, with pidfd_open
 * failing with `errnoName`, against a fresh signal recorder. `body` gets the
 * recorder as a SignalTarget literal and must attempt 'probe' with
 * `native.pidfdOpen(process.pid)`: this asserts from it that the filter was
 * really in force.
 */
export async function runWherePidfdOpenFails(
  cleanup: Cleanup,
  errnoName: 'ENOSYS' | 'EPERM',
  imports: Readonly<Record<string, readonly string[]>>,
  body: (target: string) => string,
): Promise<DeniedPidfdRun> {
  const denier = await buildPidfdOpenDenier(cleanup);
  const recorder = await startSignalRecorder(cleanup, { handle: ['SIGHUP', 'SIGUSR2'] });
  const info = targetOf(recorder.pid);
  const target = JSON.stringify({ pid: info.pid, startTime: info.startTime });
  const outcomes = await runLibraryScript(
    [denier, String(constants.errno[errnoName])],
    libraryScript(PACKAGE_ROOT, imports, body(target)),
  );
  assert.equal(outcomes['probe']?.code, errnoName, JSON.stringify(outcomes));
  assert.equal(outcomes['probe']?.syscall, 'pidfd_open');
  return { recorder, info, outcomes };
}

/** Compiles leader-exits.c (see that file); run it and read its pid from the first line. */
export function buildLeaderExits(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'leader-exits', ['-pthread']);
}

/** Compiles fail-pthread-create.c (see that file) into a library for LD_PRELOAD. */
export function buildFailingPthreadCreate(cleanup: Cleanup): Promise<string> {
  return buildHelper(cleanup, 'fail-pthread-create', ['-shared', '-fPIC', '-ldl']);
}
