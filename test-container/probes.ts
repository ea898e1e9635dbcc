// What a container test looks at from the host: an HTTP answer on
// 127.0.0.1, and a containerised process's pid as its namespace sees it.
import { readFileSync } from 'node:fs';

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** The answer at http://127.0.0.1:port/path, or undefined while nothing answers. */
export async function fetchLocal(port: number, path = '/'): Promise<Answer | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined; // not listening yet, or between worker generations
  }
}

function statusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith(`${field}:`));
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return line.slice(field.length + 1).trim();
}

/** The pid a host process has in the innermost PID namespace it belongs to (the last NSpid field). */
export function namespacePid(pid: number): number {
  const fields = statusField(pid, 'NSpid').split(/\s+/);
  return Number(fields[fields.length - 1]);
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  return Number.parseInt(statusField(pid, 'VmRSS'), 10) / 1024;
}
