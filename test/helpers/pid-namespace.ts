// A Pod's shared PID namespace (shareProcessNamespace: true), made from
// util-linux: `unshare --pid --fork --mount-proc` gives pid 1 and a /proc
// that shows only the namespace; each container process then joins with
// `nsenter --target <pid 1> --pid --mount`, as a container runtime joins a
// pod's sandbox.
//
// What this reproduces, and why it matters to the sidecar:
// - pid 1 is a pause process, not the app. In a Pod it is /pause; here a
//   one-line perl (perl-base is Essential in Debian) named "pause" that
//   reaps orphans and exits on SIGTERM/SIGINT. The kernel lets members of a
//   namespace signal its pid 1 only with signals it has handlers for, which
//   is one reason an app must not be pid 1 if it is to be reloaded by signal.
// - Processes started with nsenter have a parent outside the namespace, so
//   inside it they show ppid 0, exactly as container processes of a Pod do.
// - Pids differ inside and out. Every process here has a host pid (what
//   this test process sees and signals) and an nsPid (what the sidecar sees
//   in /proc, and what nginx logs as a signal's sender). A signal sent from
//   outside the namespace reaches the receiver with si_pid 0: nginx then logs
//   "received" with no "from".
// - stop() SIGKILLs pid 1, and the death of a namespace's pid 1 makes the
//   kernel SIGKILL every other member. unshare's --kill-child does the same
//   should unshare itself be killed.
//
// nsenter forks the command and stays as its parent (host side) to pass its
// exit status on; it does not forward signals, so NamespacedProcess.kill()
// signals the command itself, found by scanning /proc for nsenter's child
// (this kernel may lack /proc/<pid>/task/<tid>/children).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { hasCode } from '../../lib/errors';
import { parseStat, type ProcStat } from '../../lib/proc-parse';
import { type Cleanup, type CommandResult, type Exit, runCommand, waitForExit } from './child-process';
import { waitFor } from './wait-for';

// pid 1: renames itself so `ps` and the sidecar's /proc scan show "pause".
const PAUSE = '$0 = "pause"; $SIG{TERM} = $SIG{INT} = sub { exit 0 }; $SIG{CHLD} = sub { 1 while waitpid(-1, 1) > 0 }; sleep while 1;';

/** A process of the namespace, as the host sees it. */
export interface NamespaceMember {
  /** The pid on the host: what this test process signals. */
  readonly hostPid: number;
  /** The pid inside the namespace: what the sidecar and nginx's log see. */
  readonly nsPid: number;
  /** The parent's host pid (a host-side nsenter for processes joined with spawn()). */
  readonly hostPpid: number;
  readonly comm: string;
  /**
   * The command line as `ps -o args` shows it: the argument area with NULs
   * as spaces. For processes that rewrite it this is their title
   * ("nginx: worker process"); empty for zombies.
   */
  readonly title: string;
  /** R, S, Z (zombie), ... */
  readonly state: string;
}

export interface SpawnInNamespaceOptions {
  /** Working directory (default: this process's). */
  readonly cwd?: string;
  /** Environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Collect stdout and stderr in `output` (default true); false discards them. */
  readonly captureOutput?: boolean;
}

/** A command started inside the namespace by {@link PidNamespace.spawn}. */
export class NamespacedProcess {
  constructor(
    /** The host-side nsenter: parent of the command, not the command. */
    readonly nsenter: ChildProcess,
    readonly hostPid: number,
    readonly nsPid: number,
    /** Resolves with the command's exit status (nsenter passes it on, signals included). */
    readonly exited: Promise<Exit>,
    /** Everything written so far, when output is captured; grows as the command writes. */
    readonly output: { readonly stdout: string; readonly stderr: string },
  ) {}

  /** Signals the command itself (by host pid); false when it is already gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    try {
      process.kill(this.hostPid, signal);
      return true;
    } catch (error) {
      if (hasCode(error, 'ESRCH')) return false;
      throw error;
    }
  }

  get running(): boolean {
    return this.nsenter.exitCode === null && this.nsenter.signalCode === null;
  }
}

export interface PidNamespaceOptions {
  /** Registers stop() here (a TestContext `t`, or a suite's `{ after }`). */
  readonly cleanup?: Cleanup;
}

export class PidNamespace {
  readonly #spawned = new Set<ChildProcess>();
  readonly #killOnExit = (): void => {
    // Last resort when the test process exits without stop(): SIGKILL is synchronous.
    killQuietly(this.initHostPid);
  };
  #stopped = false;

  private constructor(
    /** The host-side unshare; killing it ends the namespace. */
    readonly unshare: ChildProcess,
    /** pid 1 of the namespace, as the host sees it: the target of nsenter. */
    readonly initHostPid: number,
    /** The namespace's identity, e.g. "pid:[4026532281]" (readlink /proc/<pid>/ns/pid). */
    readonly id: string,
  ) {
    process.on('exit', this.#killOnExit);
  }

  static async start(options: PidNamespaceOptions = {}): Promise<PidNamespace> {
    const unshare = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'perl', '-e', PAUSE], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    unshare.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await spawned(unshare, 'unshare (util-linux)');
      const unsharePid = requirePid(unshare);
      // Ready once the forked child has exec'd perl: /proc is mounted by then.
      const init = await waitFor('pid 1 of the new PID namespace to start', () => {
        if (unshare.exitCode !== null || unshare.signalCode !== null) {
          const hint = stderr.includes('Operation not permitted') ? '; a new PID namespace needs root (CAP_SYS_ADMIN)' : '';
          throw new Error(`unshare exited (${describeExit(unshare)}) before pid 1 started: ${stderr.trim()}${hint}`);
        }
        return childrenOf(unsharePid).find((child) => child.comm === 'pause');
      });
      const namespace = new PidNamespace(unshare, init.pid, readlinkSync(`/proc/${init.pid}/ns/pid`));
      options.cleanup?.after(() => namespace.stop());
      return namespace;
    } catch (error) {
      unshare.kill('SIGKILL');
      await waitForExit(unshare);
      throw error;
    }
  }

  /**
   * Starts a long-running command inside the namespace (as a container of the
   * Pod) and resolves once it has replaced the forked nsenter, i.e. once its
   * host and namespace pids name the command itself.
   */
  async spawn(command: string, args: readonly string[] = [], options: SpawnInNamespaceOptions = {}): Promise<NamespacedProcess> {
    this.#requireRunning();
    const capture = options.captureOutput ?? true;
    const nsenter = spawn('nsenter', this.#nsenterArgs(command, args, options.cwd), {
      env: options.env ?? process.env,
      stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
    });
    this.#spawned.add(nsenter);
    const exited = waitForExit(nsenter);
    const output = { stdout: '', stderr: '' };
    nsenter.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
    nsenter.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    await spawned(nsenter, 'nsenter (util-linux)');
    const nsenterPid = requirePid(nsenter);
    const nsenterExe = readlinkSync(`/proc/${nsenterPid}/exe`);
    const hostPid = await waitFor(`${command} to start in the PID namespace`, () => {
      if (!runningChild(nsenter)) {
        throw new Error(`${command} did not start in the PID namespace (${describeExit(nsenter)}): ${output.stderr.trim()}`);
      }
      // Before its exec the forked child is still an nsenter.
      const child = childrenOf(nsenterPid)[0];
      return child !== undefined && exeOf(child.pid) !== nsenterExe ? child.pid : undefined;
    });
    const nsPid = namespacePids(hostPid)?.at(-1);
    if (nsPid === undefined) throw new Error(`${command} (host pid ${hostPid}) exited right after it started: ${output.stderr.trim()}`);
    return new NamespacedProcess(nsenter, hostPid, nsPid, exited, output);
  }

  /** Runs a command inside the namespace to completion (like `kubectl exec`). */
  async run(command: string, args: readonly string[] = [], options: { readonly cwd?: string; readonly timeoutMs?: number } = {}): Promise<CommandResult> {
    this.#requireRunning();
    return runCommand('nsenter', this.#nsenterArgs(command, args, options.cwd), { timeoutMs: options.timeoutMs ?? 20_000 });
  }

  /** Every process in the namespace now, pid 1 included, by namespace pid. */
  members(): NamespaceMember[] {
    const members: NamespaceMember[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^[1-9]\d*$/.test(name)) continue;
      const hostPid = Number(name);
      if (namespaceOf(hostPid) !== this.id) continue;
      const stat = readStat(hostPid);
      const title = readTitle(hostPid);
      const nsPid = namespacePids(hostPid)?.at(-1);
      if (stat === undefined || title === undefined || nsPid === undefined) continue;
      members.push({ hostPid, nsPid, hostPpid: stat.ppid, comm: stat.comm, title, state: stat.state });
    }
    return members.sort((a, b) => a.nsPid - b.nsPid);
  }

  /** The host pid of the process the namespace knows as `nsPid`. */
  hostPidOf(nsPid: number): number | undefined {
    return this.members().find((member) => member.nsPid === nsPid)?.hostPid;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Ends the namespace and everything in it, then waits until the kernel has
   * removed every member and the host-side unshare and nsenter have exited.
   * Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    process.off('exit', this.#killOnExit);
    // Only pid 1: unshare reaps it and exits. Killing unshare too would orphan
    // pid 1 before it is reaped, and the zombie would then wait for the host's
    // init to get round to it (seconds, on some hosts).
    if (runningChild(this.unshare)) killQuietly(this.initHostPid);
    await waitForExit(this.unshare);
    await Promise.all([...this.#spawned].map((child) => waitForExit(child)));
    await waitFor('every process of the PID namespace to be gone', () => {
      const left = this.members();
      return left.length === 0 ? true : undefined;
    });
  }

  #nsenterArgs(command: string, args: readonly string[], cwd: string | undefined): string[] {
    return ['--target', String(this.initHostPid), '--pid', '--mount', `--wd=${cwd ?? process.cwd()}`, '--', command, ...args];
  }

  #requireRunning(): void {
    if (this.#stopped || !runningChild(this.unshare)) {
      throw new Error(`the PID namespace ${this.id} has been stopped; start a new one with PidNamespace.start()`);
    }
  }
}

/** NSpid of /proc/<pid>/status: the pid in each namespace, host first, own last. */
export function namespacePids(pid: number): number[] | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
  const line = status.split('\n').find((entry) => entry.startsWith('NSpid:'));
  // Kernels before 4.1 have no NSpid line; there the host pid is the only pid.
  if (line === undefined) return [pid];
  return line.slice('NSpid:'.length).trim().split(/\s+/).map(Number);
}

function namespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH', 'EACCES')) return undefined;
    throw error;
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH', 'EACCES')) return undefined;
    throw error;
  }
}

/** Live children of `ppid`, from the stat of every process (no CONFIG_PROC_CHILDREN needed). */
function childrenOf(ppid: number): ProcStat[] {
  const children: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[1-9]\d*$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined && stat.ppid === ppid) children.push(stat);
  }
  return children;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
}

function readTitle(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
}

/** SIGKILL, tolerating a process that is already gone. */
function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if (!hasCode(error, 'ESRCH')) throw error;
  }
}

function spawned(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`cannot run ${what}: ${error.message}; install util-linux`, { cause: error })));
  });
}

function requirePid(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('child process started without a pid');
  return child.pid;
}

function runningChild(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function describeExit(child: ChildProcess): string {
  return child.signalCode === null ? `exit ${String(child.exitCode)}` : `killed by ${child.signalCode}`;
}
