// The signal action across attempts of one reload: a delivery that reached
// some targets and then failed must say whom it reached, so that the retry
// signals only the others. Real processes, and a real fault: this process's
// own open-files limit, lowered with prlimit(1) so that listing /proc fails
// after the held target (whose descriptors are open already) was signalled.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { type Fingerprint, fingerprintSync, monotonicMs, parseSignal } from '../lib';
import { createLogger } from '../lib/sidecar/log';
import { SignalAction } from '../lib/sidecar/signal-action';
import { NamedApp } from './helpers/named-app';

/** Long enough for a second signal, if one were sent, to have arrived. */
const QUIET_MS = 300;

/**
 * Sets this process's soft limit on open files through a shell started
 * beforehand: while the limit bites, this process could not start one.
 */
class OwnFileLimit {
  readonly #shell = spawn('bash', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  readonly #replies = createInterface({ input: this.#shell.stdout ?? process.stdin })[Symbol.asyncIterator]();
  readonly original = softFileLimit();

  async set(soft: number): Promise<void> {
    this.#shell.stdin?.write(`prlimit --pid ${process.pid} --nofile=${soft}: && echo set || echo failed\n`);
    const reply = await this.#replies.next();
    assert.equal(reply.value, 'set', `prlimit --nofile=${soft}: failed`);
  }

  close(): void {
    this.#shell.stdin?.end();
  }
}

function softFileLimit(): number {
  const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  assert.ok(line !== null, 'no "Max open files" in /proc/self/limits');
  return Number(line[1]);
}

/** The descriptor the next open would get: a limit of this number lets no more be opened. */
function lowestFreeDescriptor(): number {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  return fd;
}

test('a /proc scan that fails after the held target was signalled is a failure naming /proc, and the retry does not signal that target again', async (t) => {
  const name = `sigact-${process.pid}`.slice(0, 15);
  const app = await NamedApp.start(t, name);
  const lines: string[] = [];
  const log = createLogger({ format: 'json', level: 'debug', write: (line) => lines.push(line) });
  const action = new SignalAction({ processName: name, signal: parseSignal('SIGHUP'), signalAll: false, handlerWaitMs: 2000, handlerCheck: true });
  t.after(() => action.close());
  action.start(log);
  const dir = mkdtempSync(join(tmpdir(), 'signal-action-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (fingerprint: Fingerprint): ReturnType<SignalAction['run']> =>
    action.run({ fingerprint, changedFiles: () => [], log, abort: new AbortController().signal, detectedAt: monotonicMs() });

  writeFileSync(join(dir, 'app.conf'), 'A');
  assert.equal((await run(fingerprintSync([dir]))).result, 'success');
  await app.waitForSignals(1);

  writeFileSync(join(dir, 'app.conf'), 'B');
  const b = fingerprintSync([dir]);
  const limit = new OwnFileLimit();
  t.after(() => limit.close());
  await limit.set(lowestFreeDescriptor());
  let failed: Awaited<ReturnType<SignalAction['run']>>;
  try {
    failed = await run(b);
  } finally {
    await limit.set(limit.original);
  }
  assert.equal(failed.result, 'failure');
  assert.match(failed.reason ?? '', /^cannot look for targets in \/proc: .*EMFILE/);
  await app.waitForSignals(2); // the held target has B

  assert.equal((await run(b)).result, 'success');
  await sleep(QUIET_MS);
  assert.equal(app.signals().length, 2, lines.join('\n'));
  assert.ok(lines.some((line) => line.includes('not signalled again: already reloaded with this content')), lines.join('\n'));
});
