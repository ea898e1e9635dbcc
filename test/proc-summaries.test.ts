// The light lookup the reload path scans with (listProcessSummaries), and
// withStatus, which completes a summary to a full ProcessInfo for a target.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import {
  catchesSignal, listProcesses, listProcessSummaries, type ProcessInfo, type ProcessSummary, readProcess, readProcessSummary, withStatus,
} from '../lib/proc';
import { killAndReap, spawnTracked } from './helpers/child-process';
import { startSignalRecorder } from './helpers/signal-recorder';
import { waitFor } from './helpers/wait-for';

const SIGHUP = 1;
const PF_KTHREAD = 0x00200000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'proc-summaries-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function withoutStatus(info: ProcessInfo): Omit<ProcessInfo, 'uid' | 'effectiveUid' | 'signals'> {
  const { uid, effectiveUid, signals, ...summary } = info;
  return summary;
}

describe('listProcessSummaries and withStatus on live processes', () => {
  it('summarises a process with the same fields readProcess reads, and withStatus adds its signal masks', async (t) => {
    const recorder = await startSignalRecorder(t, { handle: ['SIGHUP'] });
    const summary = listProcessSummaries().find((info) => info.pid === recorder.pid);
    assert.ok(summary !== undefined, 'the recorder is listed');
    assert.equal('signals' in summary, false, 'a summary carries no status fields');
    const read = readProcess(recorder.pid);
    assert.ok(read !== undefined);
    // The one field that may change between the reads: running or sleeping.
    const full = { ...read, state: summary.state };
    assert.deepEqual(summary, withoutStatus(full));
    assert.deepEqual({ ...readProcessSummary(recorder.pid), state: summary.state }, summary);
    const completed = withStatus(summary);
    assert.deepEqual(completed, full);
    assert.ok(completed !== undefined && catchesSignal(completed, SIGHUP));
  });

  it('lists the same processes as listProcesses', async (t) => {
    const child = await spawnTracked(t, 'sleep', ['100']);
    await waitFor('sleep to run', () => readProcess(child.pid)?.comm === 'sleep');
    const summaries = new Map(listProcessSummaries().map((info) => [info.pid, info]));
    const full = listProcesses();
    // Processes come and go between the two scans and change state and even
    // comm (a kworker takes the name of its workqueue): compare the identity
    // and place in the tree of every process in both, and all of our child.
    const identity = (info: ProcessSummary): unknown[] => [info.pid, info.startTime, info.ppid, info.kernelThread];
    const common = full.filter((info) => summaries.get(info.pid)?.startTime === info.startTime);
    assert.ok(common.length >= full.length - 5, `${common.length} of ${full.length} processes in both scans`);
    for (const info of common) assert.deepEqual(identity(summaries.get(info.pid) ?? info), identity(info));
    const sleeping = full.find((info) => info.pid === child.pid);
    assert.ok(sleeping !== undefined);
    assert.deepEqual(summaries.get(child.pid), withoutStatus(sleeping));
  });

  it('withStatus and readProcessSummary return undefined once the process has exited', async (t) => {
    const child = await spawnTracked(t, 'sleep', ['100']);
    const summary = await waitFor('sleep to be listed', () =>
      listProcessSummaries().find((info) => info.pid === child.pid && info.comm === 'sleep'),
    );
    await killAndReap(child);
    assert.equal(withStatus(summary), undefined);
    assert.equal(readProcessSummary(child.pid), undefined);
  });

  it('reads a command line far longer than the reused read buffer completely', async (t) => {
    // Each argument stays under MAX_ARG_STRLEN (128 KiB); together they are 320 KiB.
    const args = Array.from({ length: 10 }, (_, index) => String(index).repeat(32 * 1024));
    const child = await spawnTracked(t, process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', ...args]);
    const summary = listProcessSummaries().find((info) => info.pid === child.pid);
    assert.deepEqual(summary?.argv, [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)', ...args]);
    assert.deepEqual(readProcess(child.pid)?.argv, summary?.argv);
  });
});

describe('listProcessSummaries on a constructed /proc', () => {
  const stat = (pid: number, comm: string, ppid: number, flags = 4194560): string =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 ${flags} 422 0 1 0 0 0 0 0 20 0 1 0 50953 10502144 1687 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;

  function fakeProcess(root: string, pid: number, files: { stat: string; cmdline?: string; exe?: string }): void {
    const dir = join(root, String(pid));
    mkdirSync(dir);
    writeFileSync(join(dir, 'stat'), files.stat);
    if (files.cmdline !== undefined) writeFileSync(join(dir, 'cmdline'), files.cmdline, 'latin1');
    if (files.exe !== undefined) symlinkSync(files.exe, join(dir, 'exe'));
  }

  it('never reads status: a process without one is summarised, though listProcesses leaves it out', (t) => {
    const root = tempDir(t);
    fakeProcess(root, 42, { stat: stat(42, 'nginx', 1), cmdline: 'nginx: master process nginx\0', exe: '/usr/sbin/nginx' });
    assert.deepEqual(listProcessSummaries(root), [
      {
        pid: 42, ppid: 1, comm: 'nginx', argv: ['nginx', 'master', 'process', 'nginx'], argv0Name: 'nginx',
        exe: '/usr/sbin/nginx', exeName: 'nginx', startTime: 50953, state: 'S', kernelThread: false,
      },
    ]);
    assert.deepEqual(listProcesses(root), []);
  });

  it('reads neither cmdline nor exe of a kernel thread, and leaves out a process whose cmdline has vanished', (t) => {
    const root = tempDir(t);
    fakeProcess(root, 2, { stat: stat(2, 'kthreadd', 0, PF_KTHREAD) });
    fakeProcess(root, 9, { stat: stat(9, 'gone', 1) });
    assert.deepEqual(
      listProcessSummaries(root).map((info) => [info.pid, info.kernelThread, info.argv, info.exe]),
      [[2, true, [], undefined]],
    );
  });
});
