// The command action: runs RELOAD_COMMAND, without a shell, once per reload.
//
// - Its own process group (detached: setsid), so that on timeout or shutdown
//   the whole group is killed, with whatever it started (`sh -c 'a | b'`).
// - Told what changed through its environment: CONFIG_RELOADER_CHANGED_FILES
//   (absolute paths, one a line) and CONFIG_RELOADER_FINGERPRINT (the sha256
//   of the whole configuration, as in /metrics and `check`).
// - Its stdout and stderr, merged, go to the log afterwards: the last
//   OUTPUT_LINES lines, each cut at OUTPUT_LINE_CHARS (output-tail.ts).
// - Only the program is logged, never its arguments, which may hold a
//   credential.
import { type ChildProcess, spawn } from 'node:child_process';

import { errorCode, monotonicMs } from '..';
import { formatDuration } from './config';
import { resolveExecutable } from './executable';
import type { Logger } from './log';
import { OutputTail } from './output-tail';
import type { ActionOutcome, ActionRun, ReloadAction } from './reload-action';

export const OUTPUT_LINES = 20;
export const OUTPUT_LINE_CHARS = 500;
export const CHANGED_FILES_VARIABLE = 'CONFIG_RELOADER_CHANGED_FILES';
export const FINGERPRINT_VARIABLE = 'CONFIG_RELOADER_FINGERPRINT';

type Ending =
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'spawn-error'; readonly error: unknown }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'shutdown' };

export class CommandAction implements ReloadAction {
  readonly name = 'command';
  readonly #program: string;

  constructor(private readonly argv: readonly string[], private readonly timeoutMs: number) {
    this.#program = argv[0] ?? '';
  }

  start(log: Logger): void {
    const found = resolveExecutable(this.#program, process.env['PATH']);
    if ('problem' in found) log.warn('reload command not found', { command: this.#program, reason: found.problem });
  }

  async run(run: ActionRun): Promise<ActionOutcome> {
    const started = monotonicMs();
    const tail = new OutputTail(OUTPUT_LINES, OUTPUT_LINE_CHARS);
    const ending = await this.#execute(run, tail);
    const output = tail.finish();
    const durationMs = Number((monotonicMs() - started).toFixed(1));
    for (const line of output.lines) run.log.info('reload command output', { command: this.#program, line });
    const fields = { command: this.#program, duration_ms: durationMs, output_lines_dropped: output.dropped === 0 ? undefined : output.dropped };
    if (ending.kind === 'exit' && ending.code === 0) {
      run.log.info('reload command succeeded', fields);
      return { result: 'success' };
    }
    if (ending.kind === 'shutdown') {
      run.log.info('reload abandoned: shutting down', { action: this.name, command: this.#program });
      return { result: 'shutdown' };
    }
    const reason = this.#describe(ending);
    run.log.error('reload command failed', { ...fields, reason });
    return { result: 'failure', reason };
  }

  close(): void {}

  #describe(ending: Exclude<Ending, { kind: 'shutdown' }>): string {
    switch (ending.kind) {
      case 'exit':
        return ending.signal === null ? `${this.#program} exited with status ${String(ending.code)}` : `${this.#program} was killed by ${ending.signal}`;
      case 'spawn-error': {
        const code = errorCode(ending.error);
        const found = resolveExecutable(this.#program, process.env['PATH']);
        return `cannot run ${this.#program} (${code ?? String(ending.error)})${'problem' in found ? `: ${found.problem}` : ''}`;
      }
      case 'timeout':
        return `${this.#program} did not finish within ${formatDuration(this.timeoutMs)} (RELOAD_TIMEOUT); its process group was killed`;
    }
  }

  #execute(run: ActionRun, tail: OutputTail): Promise<Ending> {
    const [program = '', ...args] = this.argv;
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          [CHANGED_FILES_VARIABLE]: run.changedFiles().join('\n'),
          [FINGERPRINT_VARIABLE]: run.fingerprint.digest,
        },
      });
    } catch (error) {
      return Promise.resolve({ kind: 'spawn-error', error });
    }
    const onData = (chunk: Buffer): void => tail.push(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    return new Promise<Ending>((resolve) => {
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let settled = false;
      const finish = (ending: Ending): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        run.abort.removeEventListener('abort', onAbort);
        resolve(ending);
      };
      const killGroup = (): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
      };
      // After a kill, the pipes close once every member is gone; waiting for
      // that would hang on a member stuck in the kernel (state D). A program
      // that exited in time, leaving a child that holds its output open, is
      // judged by its own exit status; the child is killed with the group.
      const stop = (kind: 'timeout' | 'shutdown'): void => {
        killGroup();
        if (kind === 'timeout' && exited !== undefined) finish({ kind: 'exit', ...exited });
        else finish(kind === 'timeout' ? { kind: 'timeout' } : { kind: 'shutdown' });
      };
      const onAbort = (): void => stop('shutdown');
      const timer = setTimeout(() => stop('timeout'), this.timeoutMs);
      run.abort.addEventListener('abort', onAbort, { once: true });
      if (run.abort.aborted) stop('shutdown');
      child.once('error', (error) => finish({ kind: 'spawn-error', error }));
      child.once('exit', (code, signal) => {
        exited = { code, signal };
      });
      // 'close' comes once the output is all read, after 'exit'.
      child.once('close', (code, signal) => finish({ kind: 'exit', code, signal }));
    });
  }
}
