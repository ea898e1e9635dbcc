// Shared pieces of the inotify tests: temp directories that clean up after
// themselves, waiting for events with a safety-net deadline, a barrier that
// proves every earlier event was delivered, and child Node processes that
// load the built library.
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { setTimeout as sleep } from 'node:timers/promises';

import { Inotify, type InotifyEvent } from '../../lib/inotify';
import { IN_CREATE } from '../../lib/inotify-flags';
import { type Cleanup, type CommandResult, runCommand } from './child-process';

/** dist/test/helpers -> dist/lib, for child processes that require the library. */
export const DIST_LIB = join(__dirname, '..', '..', 'lib');

/**
 * A fresh directory, removed when `cleanup` runs: under the system temp dir,
 * or with `base` under that (`memoryBase()` for tests that create thousands
 * of entries).
 */
export function tempDir(cleanup: Cleanup, prefix = 'inotify-test-', base = tmpdir()): string {
  const dir = mkdtempSync(join(base, prefix));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const QUEUE_LIMIT = '/proc/sys/fs/inotify/max_queued_events';

export function queueLimit(): number {
  return Number(readFileSync(QUEUE_LIMIT, 'utf8').trim());
}

/**
 * A new instance, closed when `cleanup` runs, whose kernel queue holds at
 * least `minQueue` events. The queue is sized from the global
 * fs.inotify.max_queued_events when the instance is created, and other tests
 * on this machine lower that briefly to force overflows: wait until it is
 * back rather than inherit their tiny queue.
 */
export async function openInotify(cleanup: Cleanup, minQueue = 1024): Promise<Inotify> {
  const deadline = Date.now() + 60_000;
  while (queueLimit() < minQueue) {
    if (Date.now() > deadline) {
      throw new Error(`${QUEUE_LIMIT} stayed at ${queueLimit()}, below the ${minQueue} this test needs`);
    }
    await sleep(50);
  }
  const inotify = new Inotify();
  cleanup.after(() => inotify.close());
  return inotify;
}

/**
 * Collects `event`s from now on until `done(collected)` holds, and resolves
 * with them. The deadline only turns a hang into a failure that lists what
 * did arrive; it is never what a test asserts.
 */
export function collectUntil(
  inotify: Inotify,
  done: (events: readonly InotifyEvent[]) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<InotifyEvent[]> {
  const events: InotifyEvent[] = [];
  return new Promise((resolve, reject) => {
    const onEvent = (event: InotifyEvent): void => {
      events.push(event);
      if (done(events)) {
        finish();
      } else if (event.overflowSource === 'kernel') {
        // Waiting on would only time out: the awaited events may be among the lost.
        inotify.off('event', onEvent);
        clearTimeout(timer);
        reject(
          new Error(
            `the kernel queue overflowed while waiting for ${what} after ${events.length} events ` +
              `(${QUEUE_LIMIT} is ${queueLimit()} now; did another process lower it?)`,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      inotify.off('event', onEvent);
      reject(new Error(`timed out waiting for ${what}; got ${events.length} events: ${describeEvents(events.slice(-20))}`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      inotify.off('event', onEvent);
      resolve(events);
    };
    inotify.on('event', onEvent);
  });
}

/**
 * A directory watched for IN_CREATE on `inotify`, and a function that creates
 * a fresh file there and collects every event up to its IN_CREATE. One
 * instance's queue is FIFO, so once the marker's event is in, every event the
 * kernel queued before it has been delivered too: a test can then assert
 * that something did *not* happen.
 */
export function barrier(inotify: Inotify, cleanup: Cleanup): () => Promise<InotifyEvent[]> {
  const dir = tempDir(cleanup, 'inotify-barrier-');
  const watch = inotify.watch(dir, IN_CREATE);
  let serial = 0;
  return () => {
    const name = `marker-${serial++}`;
    const pending = collectUntil(inotify, (events) => events.some((e) => e.watch === watch && e.name === name), `barrier ${name}`);
    writeFileSync(join(dir, name), '');
    return pending.then((events) => events.filter((e) => e.watch !== watch));
  };
}

/**
 * /dev/shm when it is a writable tmpfs: creating ten thousand directories
 * there takes milliseconds instead of seconds on a disk. inotify works the
 * same on every filesystem (it hooks the VFS), so nothing is lost.
 */
export function memoryBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** `count` subdirectories d0..d{count-1} of `root`. */
export function makeDirs(root: string, count: number): string[] {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${i}`);
    mkdirSync(dir);
    dirs.push(dir);
  }
  return dirs;
}

/** The inotify descriptors this process holds, from /proc/self/fd. */
export function inotifyDescriptors(): number[] {
  const fds: number[] = [];
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === 'anon_inode:inotify') fds.push(Number(entry));
    } catch {
      // The descriptor readdirSync itself used is gone by now.
    }
  }
  return fds;
}

/** How many descriptors this process holds. */
export function descriptorCount(): number {
  // readdirSync's own descriptor is counted while it reads.
  return readdirSync('/proc/self/fd').length - 1;
}

export interface NodeScriptOptions {
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Run through this command first, e.g. ['unshare', '--user', '--map-root-user']. */
  readonly wrapper?: readonly string[];
}

/**
 * Runs `script` (CommonJS) in a child Node process. `LIB` in the script is the
 * absolute path of dist/lib, so `require(LIB + '/inotify')` loads this build.
 */
export function runNodeScript(script: string, options: NodeScriptOptions = {}): Promise<CommandResult> {
  const source = `const LIB = ${JSON.stringify(DIST_LIB)};\n${script}`;
  const args = [...(options.execArgv ?? []), '-e', source];
  const [command, ...prefix] = options.wrapper ?? [];
  return command === undefined
    ? runCommand(process.execPath, args, { env: options.env, cwd: options.cwd, timeoutMs: options.timeoutMs })
    : runCommand(command, [...prefix, process.execPath, ...args], {
        env: options.env,
        cwd: options.cwd,
        timeoutMs: options.timeoutMs,
      });
}

/** One line per event, for assertion messages. */
export function describeEvents(events: readonly InotifyEvent[]): string {
  return events.map((e) => `${e.kinds.join('|')} wd=${e.wd} name=${String(e.name)} cookie=${e.cookie}`).join('; ');
}
