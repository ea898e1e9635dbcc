// Micro-benchmark of the work between a kubelet commit and the signal: the
// content fingerprint, the /proc scan that finds the target, and the signal.
// Each row runs the code as it is now against the code as it was
// (bench/hot-path-baselines.ts) in the same run, samples alternating between
// the two, so the ratio holds on a shared, noisy machine even when the
// absolute numbers drift.
//
// Usage: node dist/bench/hot-path.js [--samples N]   (default 300 per side)
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { native } from '../lib/native';
import {
  listProcesses, listProcessSummaries, type ProcessInfo, readProcess, readProcessSummary, withStatus,
} from '../lib/proc';
import { readFileShared } from '../lib/read-file-shared';
import { deliverReload } from '../lib/sidecar/delivery';
import type { HeldTarget } from '../lib/sidecar/held-targets';
import { fingerprintSync } from '../lib/fingerprint';
import { silentLogger } from '../lib/sidecar/log';
import { selectTargets } from '../lib/sidecar/targets';
import { openProcess, type ProcessHandle } from '../lib/process-handle';
import type { SignalTarget } from '../lib/process-target';
import { signalProcess } from '../lib/signal-process';
import { parseSignal } from '../lib/signals';
import { AtomicWriter, configMapPayload } from '../lib/testing';
import { fingerprintBefore, listProcessesBefore, readProcessBefore } from './hot-path-baselines';
import { machineNote } from './machine';
import { percentile } from './stats';
import { renderTable, type Cell } from './table';

const TARGET_NAME = 'hot-path-target';
// The default action of SIGCONT on a running process is nothing at all, so
// the target can take thousands of them; the sender's work is the same as
// for SIGHUP to an app with a handler.
const SIGNAL = parseSignal('SIGCONT');
// A sample times enough calls to last about this long, so timer resolution
// and the cost of reading the clock do not show.
const SAMPLE_TARGET_NS = 200_000;

type Operation = () => unknown;

interface Row {
  readonly operation: string;
  /** Calls of `before`/`after` per reported op (e.g. processes per scan), for per-file rows. */
  readonly perOp?: number;
  readonly before: Operation;
  readonly after: Operation;
}

interface Measured {
  readonly p50: number;
  readonly p90: number;
}

function timeBatch(operation: Operation, calls: number): number {
  const start = process.hrtime.bigint();
  for (let call = 0; call < calls; call++) operation();
  return Number(process.hrtime.bigint() - start) / calls;
}

/** Calls per sample so that a sample lasts about SAMPLE_TARGET_NS, after a warm-up. */
function calibrate(operation: Operation): number {
  for (let call = 0; call < 20; call++) operation();
  const once = timeBatch(operation, 5);
  return Math.max(1, Math.round(SAMPLE_TARGET_NS / Math.max(once, 1)));
}

function summarize(nsPerCall: number[], perOp: number): Measured {
  const sorted = nsPerCall.map((ns) => ns / perOp / 1000).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
}

/**
 * Times every operation once per round, starting each round with the next
 * one (ABC, BCA, CAB, ...), so drift in the machine's load hits all alike.
 */
function measureTogether(operations: readonly Operation[], samples: number, perOp = 1): Measured[] {
  const calls = operations.map(calibrate);
  const times: number[][] = operations.map(() => []);
  for (let sample = 0; sample < samples; sample++) {
    for (let step = 0; step < operations.length; step++) {
      const index = (sample + step) % operations.length;
      const operation = operations[index];
      if (operation !== undefined) times[index]?.push(timeBatch(operation, calls[index] ?? 1));
    }
  }
  return times.map((nsPerCall) => summarize(nsPerCall, perOp));
}

/** A kubelet ConfigMap volume with three keys, as an nginx Pod mounts it. */
function buildVolume(root: string): string {
  const volume = join(root, 'volume');
  mkdirSync(volume);
  new AtomicWriter(volume).writeSync(configMapPayload({
    'nginx.conf': 'worker_processes 2;\nevents { worker_connections 1024; }\n'.repeat(40),
    'mime.types': 'types { text/html html htm shtml; text/css css; }\n'.repeat(100),
    'app.yaml': 'log_level: info\nlisten: 0.0.0.0:8080\n',
  }));
  return volume;
}

async function startTarget(root: string): Promise<ChildProcess & { pid: number }> {
  const path = join(root, TARGET_NAME);
  copyFileSync('/bin/sleep', path);
  const child = spawn(path, ['100000'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error(`${TARGET_NAME} started without a pid`);
  return Object.assign(child, { pid: child.pid });
}

function parseSamples(argv: readonly string[]): number {
  const index = argv.indexOf('--samples');
  if (index < 0) return 300;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 10) {
    throw new Error(`--samples must be a whole number of at least 10, got ${JSON.stringify(argv[index + 1])}`);
  }
  return value;
}

function pidsInProc(): string[] {
  return readdirSync('/proc').filter((name) => /^[1-9]\d*$/.test(name));
}

/** Reads one file of every process, skipping the ones that exited or are unreadable. */
function readEach(pids: readonly string[], file: string, read: (path: string) => unknown): void {
  for (const pid of pids) {
    try {
      read(`/proc/${pid}/${file}`);
    } catch {
      // exited during the run, or hidden (hidepid)
    }
  }
}

function rows(volume: string, target: SignalTarget, pids: readonly string[], userPids: readonly number[], kernelPids: readonly number[]): Row[] {
  const perFile = (file: string, encoding: 'utf8' | undefined): Row => ({
    operation: `read /proc/<pid>/${file}${encoding === undefined ? ' (bytes)' : ' (text)'}, per process`,
    perOp: pids.length,
    before: () => readEach(pids, file, (path) => readFileSync(path, encoding)),
    after: () => readEach(pids, file, (path) => (encoding === undefined ? readFileShared(path) : readFileShared(path).toString(encoding))),
  });
  const perProcess = (operation: string, list: readonly number[], after: (pid: number) => unknown): Row => ({
    operation,
    perOp: list.length,
    before: () => list.forEach((pid) => readProcessBefore(pid)),
    after: () => list.forEach(after),
  });
  const selectBefore = (): readonly ProcessInfo[] => selectTargets(listProcessesBefore(), TARGET_NAME, false, process.pid).targets;
  const selectAfter = (): (ProcessInfo | undefined)[] =>
    selectTargets(listProcessSummaries(), TARGET_NAME, false, process.pid).targets.map((found) => withStatus(found));
  // deliverReload's handler check passes at once: SIGCONT never terminates.
  const signalEach = (targets: readonly (ProcessInfo | undefined)[]): void => {
    for (const info of targets) if (info !== undefined) signalProcess(info, SIGNAL.number);
  };
  return [
    perFile('stat', 'utf8'),
    perFile('status', 'utf8'),
    perFile('cmdline', undefined),
    perProcess(`readProcess, per user process (${userPids.length})`, userPids, (pid) => readProcess(pid)),
    perProcess(`readProcess -> readProcessSummary, per user process`, userPids, (pid) => readProcessSummary(pid)),
    perProcess(`readProcess -> readProcessSummary, per kernel thread (${kernelPids.length})`, kernelPids, (pid) => readProcessSummary(pid)),
    { operation: 'listProcesses (full: with status)', before: listProcessesBefore, after: () => listProcesses() },
    { operation: 'scan for a reload: listProcesses -> listProcessSummaries', before: listProcessesBefore, after: () => listProcessSummaries() },
    { operation: `target selection for '${TARGET_NAME}' (scan + selectTargets + withStatus)`, before: selectBefore, after: selectAfter },
    { operation: 'fingerprint of a 3-key kubelet volume', before: () => fingerprintBefore([volume]), after: () => fingerprintSync([volume]) },
    {
      operation: 'reload hot path: fingerprint + target selection + signalProcess',
      before: () => {
        fingerprintBefore([volume]);
        signalEach(selectBefore());
      },
      after: () => {
        fingerprintSync([volume]);
        signalEach(selectAfter());
      },
    },
  ];
}

/**
 * signalProcess against the bare system calls it wraps (the price of the
 * start-time check), and a held ProcessHandle as the sidecar signals its
 * previous targets: one status read, one send.
 */
function signalRows(target: SignalTarget, held: ProcessHandle): { operation: string; run: Operation }[] {
  return [
    {
      operation: 'signalProcess (pidfd_open, status open, stat check, pidfd_send_signal, closes)',
      run: () => signalProcess(target, SIGNAL.number),
    },
    {
      operation: 'held ProcessHandle: status() + signal() (a reload of the previous target)',
      run: () => {
        held.status();
        held.signal(SIGNAL.number);
      },
    },
    {
      operation: 'bare pidfd_open + pidfd_send_signal + close',
      run: () => {
        const pidfd = native.pidfdOpen(target.pid);
        try {
          native.pidfdSendSignal(pidfd, SIGNAL.number);
        } finally {
          native.closeFd(pidfd);
        }
      },
    },
    { operation: 'bare kill(2)', run: () => native.kill(target.pid, SIGNAL.number) },
  ];
}

/**
 * deliverReload as the sidecar runs it (async, logging to nowhere, the
 * previous targets held): the absolute cost of one delivery, scan included.
 */
async function timeDeliverReload(samples: number): Promise<Measured> {
  const options = { processName: TARGET_NAME, signal: SIGNAL, signalAll: false, handlerWaitMs: 0, log: silentLogger };
  let held: readonly HeldTarget[] = [];
  const deliver = async (): Promise<void> => {
    const report = await deliverReload({ ...options, held });
    held = report.delivered;
    if (report.status !== 'sent') throw new Error(`deliverReload did not reach ${TARGET_NAME}: ${JSON.stringify(report)}`);
  };
  try {
    for (let call = 0; call < 20; call++) await deliver();
    const times: number[] = [];
    for (let sample = 0; sample < samples; sample++) {
      const start = process.hrtime.bigint();
      await deliver();
      times.push(Number(process.hrtime.bigint() - start));
    }
    return summarize(times, 1);
  } finally {
    for (const target of held) target.handle.close();
  }
}

async function main(): Promise<void> {
  const samples = parseSamples(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'hot-path-'));
  const child = await startTarget(root);
  try {
    const volume = buildVolume(root);
    const found = readProcess(child.pid);
    if (found === undefined) throw new Error(`${TARGET_NAME} (pid ${child.pid}) is not in /proc`);
    if (fingerprintBefore([volume]) !== fingerprintSync([volume]).digest) throw new Error('the baseline fingerprint differs from fingerprint()');
    const pids = pidsInProc();
    const summaries = listProcessSummaries();
    const userPids = summaries.filter((info) => !info.kernelThread).map((info) => info.pid);
    const kernelPids = summaries.filter((info) => info.kernelThread).map((info) => info.pid);

    const comparison: Cell[][] = [];
    for (const row of rows(volume, found, pids, userPids, kernelPids)) {
      const [before, after] = measureTogether([row.before, row.after], samples, row.perOp);
      if (before === undefined || after === undefined) continue;
      comparison.push([row.operation, before.p50, before.p90, after.p50, after.p90, `${(before.p50 / after.p50).toFixed(2)}x`]);
    }
    const held = openProcess(found);
    const signals = signalRows(found, held);
    const signalCosts = measureTogether(signals.map((row) => row.run), samples);
    held.close();
    const absolute: Cell[][] = signals.map((row, index) => [row.operation, signalCosts[index]?.p50, signalCosts[index]?.p90]);
    const delivered = await timeDeliverReload(samples);
    absolute.push([`deliverReload as the sidecar calls it (async, silent log, previous target held): signal + scan`, delivered.p50, delivered.p90]);

    const machine = machineNote();
    console.log(
      renderTable({
        title: 'Reload hot path before and now, µs per operation',
        columns: ['operation', 'before p50', 'before p90', 'now p50', 'now p90', 'speed-up (p50)'],
        rows: comparison,
        notes: [
          `${pids.length} processes in /proc (${kernelPids.length} kernel threads); ${samples} samples per side, alternating; ` +
            `each sample times a batch of calls lasting about ${SAMPLE_TARGET_NS / 1000} µs.`,
          'before: the code before commit d84bd27 (bench/hot-path-baselines.ts): readFileSync for every /proc and config file, ' +
            'status, cmdline and exe read for every process; now: lib/ as built (shared read buffer, summaries without status).',
        ],
      }),
    );
    console.log();
    console.log(
      renderTable({
        title: 'Signalling now, µs per operation',
        columns: ['operation', 'p50', 'p90'],
        rows: absolute,
        notes: [`${SIGNAL.name} to a copy of sleep named ${TARGET_NAME}, which leaves it without effect.`, machine],
      }),
    );
  } finally {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  process.exitCode = 1;
});
