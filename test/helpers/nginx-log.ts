// What nginx's error log says about signals, parsed. At `notice` level nginx
// logs every signal a process of it receives, with the sender when the
// kernel names one, and what it did about it:
//
//   2026/11/25 12:55:06 [notice] 3#3: signal 1 (SIGHUP) received from 9, reconfiguring
//   2026/11/25 12:55:06 [notice] 3#3: signal 1 (SIGHUP) received, reconfiguring
//   2026/11/25 12:55:07 [notice] 11#11: signal 1 (SIGHUP) received from 9, ignoring
//   2026/11/25 12:55:06 [notice] 3#3: signal 17 (SIGCHLD) received from 4
//   2026/11/25 12:55:06 [notice] 3#3: signal 29 (SIGIO) received
//
// "3#3" is the receiving process's pid and thread as nginx sees them (its
// own PID namespace). "from 9" is the sender's pid in that namespace; a
// sender outside the namespace (a test signalling from the host) arrives as
// si_pid 0, and the "from" part is missing. The master answers SIGHUP with
// "reconfiguring" (followed by a plain "reconfiguring" line as the reload
// starts); a worker does nothing with it and logs "ignoring".

/** One line of the error log. */
export interface NginxLogEntry {
  /** As nginx prints it: local time "2026/11/25 12:55:06". */
  readonly time: string;
  /** debug, info, notice, warn, error, crit, alert, emerg. */
  readonly level: string;
  /** The logging process's pid in nginx's own namespace. */
  readonly pid: number;
  readonly message: string;
}

/** A "signal N (SIGX) received" line. */
export interface NginxSignal {
  readonly time: string;
  /** The receiving process, as nginx sees it. */
  readonly receiver: number;
  readonly signo: number;
  readonly name: string;
  /** The sender in nginx's namespace; undefined when the kernel gave none (a sender outside the namespace). */
  readonly from: number | undefined;
  /** "reconfiguring", "ignoring", "exiting", "shutting down", ... or undefined when nginx says nothing more. */
  readonly action: string | undefined;
}

const ENTRY = /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(\w+)\] (\d+)#\d+: (.*)$/;
const SIGNAL = /^signal (\d+) \((SIG\w+)\) received(?: from (\d+))?(?:, (.+))?$/;

/** Parses the log; lines that do not start an entry (rare continuations) are appended to the previous message. */
export function parseNginxLog(text: string): NginxLogEntry[] {
  const entries: NginxLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = ENTRY.exec(line);
    if (match !== null) {
      entries.push({ time: match[1] ?? '', level: match[2] ?? '', pid: Number(match[3]), message: match[4] ?? '' });
      continue;
    }
    const last = entries.pop();
    if (last !== undefined) entries.push({ ...last, message: `${last.message}\n${line}` });
  }
  return entries;
}

export function nginxSignals(entries: readonly NginxLogEntry[]): NginxSignal[] {
  const signals: NginxSignal[] = [];
  for (const entry of entries) {
    const match = SIGNAL.exec(entry.message);
    if (match === null) continue;
    signals.push({
      time: entry.time,
      receiver: entry.pid,
      signo: Number(match[1]),
      name: match[2] ?? '',
      from: match[3] === undefined ? undefined : Number(match[3]),
      action: match[4],
    });
  }
  return signals;
}

/** SIGHUPs the master acted on: one per reload. */
export function reloads(signals: readonly NginxSignal[]): NginxSignal[] {
  return signals.filter((signal) => signal.name === 'SIGHUP' && signal.action === 'reconfiguring');
}

/** SIGHUPs a worker received and ignored: a reloader that signalled the wrong process. */
export function ignoredSighups(signals: readonly NginxSignal[]): NginxSignal[] {
  return signals.filter((signal) => signal.name === 'SIGHUP' && signal.action === 'ignoring');
}
