// Reads from /proc how a process would take one signal, for
// judgeSignalReception (signal-reception.ts), reading no more than that
// signal needs: nothing past status when a handler is installed, a thread's
// wait only when it does not block the signal, the descriptors only when
// every thread blocks it.
//
// Who may read what (the kernel checks at each open or read):
// - /proc/<pid>/status and /proc/<pid>/task/<tid>/status (SigCgt, SigIgn,
//   each thread's SigBlk): anyone who can see the process.
// - task/<tid>/wchan (the kernel function a thread sleeps in) and the
//   links in /proc/<pid>/fd: ptrace read access, that is the same uid (and
//   no capability the reader lacks), or CAP_SYS_PTRACE. Others read wchan
//   as `0`, the same as a running thread, and get EACCES for the links.
// - task/<tid>/syscall (which call, with its arguments) and /proc/<pid>/mem
//   (where the awaited sigset_t is): ptrace attach access, which Yama
//   (kernel.yama.ptrace_scope 1 or more) further limits to CAP_SYS_PTRACE.
// What cannot be read is left undefined in the facts, never guessed: a
// thread whose wait cannot be seen is `unknown`, a sigtimedwait whose set
// cannot be read is judged `unknown` too, and the judgement says so.
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

import { hasCode } from './errors';
import { unlessVanished } from './proc';
import { maskHas, parseStatus, type ProcStatus } from './proc-parse';
import { readFileShared, readRecordFileShared } from './read-file-shared';
import { judgeSignalReception, type SignalFacts, type SignalReception, type ThreadSignalState, type ThreadWait } from './signal-reception';
import {
  isSigtimedwaitWchan, parseFdinfoSigmask, parseSigset, parseSyscall, parseWchan, rtSigtimedwaitNumber, SIGSET_BYTES,
} from './signal-reception-parse';

export interface ReadSignalFactsOptions {
  /** Where /proc is mounted (default `/proc`). */
  readonly procRoot?: string;
  /**
   * The process's status, when the caller has just read it (through a
   * ProcessHandle, say): a handler shown there then costs no further read.
   */
  readonly status?: ProcStatus;
}

const VANISHED = ['ENOENT', 'ESRCH'];
const DENIED = ['EACCES', 'EPERM'];

/** A thread's reading is retried while it moves in or out of a wait between two reads. */
const STABLE_READ_ATTEMPTS = 3;

/** Thrown inside the reader when the process itself is gone. */
class Vanished extends Error {}

/**
 * Reads what /proc shows about how process `pid` would take signal `signo`.
 * Returns undefined when the process does not exist or exits meanwhile.
 * Reads by pid: a caller holding the process open (a ProcessHandle) should
 * confirm it still lives afterwards, which proves the pid was not reused.
 *
 * @throws a SystemError when /proc refuses what anyone who can see the
 *   process may read, its status or task list (EACCES under
 *   hidepid=noaccess); what needs ptrace access is left undefined instead.
 */
export function readSignalFacts(pid: number, signo: number, options: ReadSignalFactsOptions = {}): SignalFacts | undefined {
  const dir = `${options.procRoot ?? '/proc'}/${pid}`;
  try {
    return new FactsReader(dir, pid, signo).read(options.status);
  } catch (error) {
    if (error instanceof Vanished || hasCode(error, ...VANISHED)) return undefined;
    throw error;
  }
}

/** {@link readSignalFacts} judged: how process `pid` takes signal `signo`, or undefined when it is gone. */
export function readSignalReception(pid: number, signo: number, options: ReadSignalFactsOptions = {}): SignalReception | undefined {
  const facts = readSignalFacts(pid, signo, options);
  return facts === undefined ? undefined : judgeSignalReception(facts, signo);
}

class FactsReader {
  #memFd: number | undefined;
  #memDenied = false;
  #ptraceRead: boolean | undefined;

  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly signo: number,
  ) {}

  read(known: ProcStatus | undefined): SignalFacts {
    try {
      const status = known ?? parseStatus(readRecordFileShared(`${this.dir}/status`).toString('utf8'));
      const base = { pid: this.pid, caught: status.signals.caught, ignored: status.signals.ignored };
      if (maskHas(base.caught, this.signo)) return { ...base, threads: [] };
      const threads = this.#threads();
      if (threads.length === 0) throw new Vanished();
      if (threads.every((thread) => maskHas(thread.blocked, this.signo))) {
        const signalfds = this.#signalfds();
        return signalfds === undefined ? { ...base, threads } : { ...base, threads, signalfds };
      }
      return { ...base, threads };
    } finally {
      if (this.#memFd !== undefined) closeSync(this.#memFd);
    }
  }

  #threads(): ThreadSignalState[] {
    const tids = readdirSync(`${this.dir}/task`).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
    const threads: ThreadSignalState[] = [];
    for (const tid of tids) {
      const thread = this.#thread(tid);
      if (thread !== undefined) threads.push(thread);
    }
    return threads;
  }

  /** One thread, or undefined when it has exited meanwhile. */
  #thread(tid: number): ThreadSignalState | undefined {
    const task = `${this.dir}/task/${tid}`;
    const blocked = unlessVanished(() => parseStatus(readRecordFileShared(`${task}/status`).toString('utf8')).signals.blocked);
    if (blocked === undefined) return undefined;
    if (maskHas(blocked, this.signo)) return { tid, blocked };
    const wait = unlessVanished(() => this.#wait(task));
    return wait === undefined ? undefined : { tid, blocked, wait };
  }

  #wait(task: string): ThreadWait {
    const number = rtSigtimedwaitNumber();
    if (number !== undefined) {
      const fromSyscall = this.#waitFromSyscall(task, number);
      if (fromSyscall !== undefined) return fromSyscall;
    }
    // No attach access (or an architecture without a known number): wchan
    // still names the wait for a reader with read access, not what for.
    const symbol = parseWchan(readFileShared(`${task}/wchan`).toString('utf8'));
    if (isSigtimedwaitWchan(symbol)) return { in: 'sigtimedwait', set: undefined };
    return this.#canReadWchan() ? { in: 'other' } : { in: 'unknown' };
  }

  /** The wait as task/<tid>/syscall shows it, or undefined when that file may not be read. */
  #waitFromSyscall(task: string, number: number): ThreadWait | undefined {
    for (let attempt = 0; attempt < STABLE_READ_ATTEMPTS; attempt++) {
      let text: string;
      try {
        text = readFileShared(`${task}/syscall`).toString('utf8');
      } catch (error) {
        if (hasCode(error, ...DENIED)) return undefined;
        throw error;
      }
      const syscall = parseSyscall(text);
      if (syscall.kind !== 'syscall' || syscall.number !== number) return { in: 'other' };
      const set = this.#readSigset(syscall.args[0], syscall.args[3]);
      // The set read belongs to this wait only if the thread is still in it.
      if (readFileShared(`${task}/syscall`).toString('utf8') === text) return { in: 'sigtimedwait', set };
    }
    return { in: 'other' };
  }

  /** The sigset_t at `address` in the process's memory, or undefined when it cannot be read. */
  #readSigset(address: bigint | undefined, size: bigint | undefined): bigint | undefined {
    if (address === undefined || size !== BigInt(SIGSET_BYTES) || this.#memDenied) return undefined;
    try {
      this.#memFd ??= openSync(`${this.dir}/mem`, 'r');
      const bytes = Buffer.alloc(SIGSET_BYTES);
      // pread at the address: /proc/<pid>/mem is the process's address space.
      if (readSync(this.#memFd, bytes, 0, SIGSET_BYTES, address) !== SIGSET_BYTES) return undefined;
      return parseSigset(bytes);
    } catch (error) {
      // EACCES/EPERM: no attach access; EIO: the address is not mapped.
      if (!hasCode(error, ...DENIED, 'EIO')) throw error;
      if (hasCode(error, ...DENIED)) this.#memDenied = true;
      return undefined;
    }
  }

  /**
   * Whether a wchan of `0` means "running" rather than "not yours to
   * know": the exe link needs the same ptrace read access as wchan.
   */
  #canReadWchan(): boolean {
    if (this.#ptraceRead === undefined) {
      try {
        readlinkSync(`${this.dir}/exe`);
        this.#ptraceRead = true;
      } catch (error) {
        if (!hasCode(error, ...DENIED)) throw error;
        this.#ptraceRead = false;
      }
    }
    return this.#ptraceRead;
  }

  /** The masks of every signalfd the process holds, or undefined when its descriptors cannot be read. */
  #signalfds(): bigint[] | undefined {
    let fds: string[];
    try {
      fds = readdirSync(`${this.dir}/fd`);
    } catch (error) {
      if (hasCode(error, ...DENIED)) return undefined;
      throw error;
    }
    const masks: bigint[] = [];
    for (const fd of fds) {
      try {
        if (readlinkSync(`${this.dir}/fd/${fd}`) !== 'anon_inode:[signalfd]') continue;
        const mask = parseFdinfoSigmask(readFileShared(`${this.dir}/fdinfo/${fd}`).toString('utf8'));
        if (mask !== undefined) masks.push(mask);
      } catch (error) {
        if (hasCode(error, ...DENIED)) return undefined;
        // A descriptor closed between the listing and the read.
        if (!hasCode(error, ...VANISHED)) throw error;
      }
    }
    return masks;
  }
}
