// The reload invariant under randomized update sequences and spacing:
// after the last write of a sequence, the target receives a signal that
// follows that write; when nothing changed it receives none; and it never
// receives more signals than there were changes.
//
// Faults are steps like any other: a plain directory deleted and created
// again, a file written slowly in chunks, the sidecar's descriptors used up
// for a while (EMFILE), and a Secret volume the sidecar may not read. A
// reload of a half-written file, or of the empty directory, would be a
// second signal for one change; a fingerprint that missed a file or gave up
// would be a missing one.
//
// Sequences come from a seeded generator; a failure prints its seed, and
// SEED=<n> replays it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { AtomicWriter, configMapPayload, secretPayload, setVolumeOwnership } from '../lib/testing';
import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';
import { copyPackageReadableByAll } from './helpers/package-copy';
import { waitFor } from './helpers/wait-for';

const SEQUENCES = 6;
const STEPS = 10;
const SPACINGS_MS = [0, 0, 1, 3, 10, 30, 80];
const DEBOUNCE_MS = 60;
/** Quiet time after a sequence: past the debounce, so any reload due has been sent. */
const SETTLE_MS = 600;

/** mulberry32: small, seedable, good enough to pick actions. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

type Step = 'change' | 'noop' | 'attrib' | 'recreate' | 'slow write' | 'fd pressure';
const CHANGES: readonly Step[] = ['change', 'recreate', 'slow write', 'fd pressure'];

interface SequenceResult {
  /** hrtime (ns) just before the last content-changing operation, if any. */
  lastChangeAt: bigint | undefined;
  changes: number;
  log: string[];
}

function assertInvariant(app: NamedApp, before: number, result: SequenceResult, seed: number, transcript: () => string): void {
  const signals = app.signals().slice(before);
  const context = `seed ${seed}: ${result.log.join(', ')}\n${transcript()}`;
  if (result.lastChangeAt === undefined) {
    assert.equal(signals.length, 0, `nothing changed, yet ${signals.length} signal(s) (${context})`);
    return;
  }
  assert.ok(signals.some((signal) => signal.t > (result.lastChangeAt ?? 0n)), `no signal after the last change (${context})`);
  assert.ok(signals.length <= result.changes, `${signals.length} signals for ${result.changes} changes (${context})`);
}

const baseSeed = Number(process.env['SEED'] ?? Date.now() % 1_000_000);

/**
 * Performs one step of a sequence and returns the CLOCK_MONOTONIC time just
 * before its content change, or undefined when it changed no content.
 */
type Perform = (step: Step, random: () => number, index: number, sidecar: SidecarProcess) => Promise<bigint | undefined>;

interface SequenceOptions {
  /** The steps to draw from (default: change, noop, attrib). */
  readonly steps?: readonly Step[];
  /** Prefix for the app and the sidecar, and the CLI copy to run (e.g. as another uid). */
  readonly wrapper?: readonly string[];
  readonly cli?: string;
}

/** Runs SEQUENCES randomized sequences against one app and sidecar watching `dir`, checking the invariant after each. */
async function checkSequences(
  t: { after(fn: () => unknown): void }, dir: string, name: string, seedBase: number, perform: Perform, options: SequenceOptions = {},
): Promise<void> {
  const app = await NamedApp.start(t, name, options.wrapper === undefined ? {} : { wrapper: options.wrapper });
  const sidecar = new SidecarProcess({
    env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: `${DEBOUNCE_MS}ms` },
    ...(options.wrapper === undefined ? {} : { wrapper: options.wrapper }),
    ...(options.cli === undefined ? {} : { cli: options.cli }),
  });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');

  for (let sequence = 0; sequence < SEQUENCES; sequence++) {
    const seed = seedBase + sequence;
    const random = generator(seed);
    const before = app.signals().length;
    const result: SequenceResult = { lastChangeAt: undefined, changes: 0, log: [] };
    // One sequence in six changes nothing at all.
    const steps = options.steps ?? ['change', 'noop', 'attrib'];
    const allowed = sequence % 6 === 5 ? steps.filter((step) => !CHANGES.includes(step)) : steps;
    for (let i = 0; i < STEPS; i++) {
      const step = pick(random, allowed);
      const spacing = pick(random, SPACINGS_MS);
      const changedAt = await perform(step, random, i, sidecar);
      if (changedAt !== undefined) {
        result.lastChangeAt = changedAt;
        result.changes += 1;
      }
      result.log.push(`${step}+${spacing}ms`);
      await sleep(spacing);
    }
    if (result.log.some((entry) => entry.startsWith('fd pressure'))) {
      // A read that failed is tried again with a backoff: wait for the check that succeeded after the last failure.
      await sidecar.waitFor('a check after the descriptors came back', (lines) => {
        let lastRetry = lines.length - 1;
        while (lastRetry >= 0 && lines[lastRetry]?.msg !== 'cannot read the configuration now; checking again') lastRetry--;
        return lines.slice(lastRetry + 1).some((line) => line.msg === 'change detected' || line.msg === 'skipped: content unchanged');
      }, 20_000);
    }
    const lastChangeAt = result.lastChangeAt;
    if (lastChangeAt !== undefined) {
      // The signal due is awaited (a loaded machine may be slow to send it), then any extra one.
      await waitFor('the signal after the last change', () => app.signals().slice(before).some((signal) => signal.t > lastChangeAt), { timeoutMs: 10_000 })
        .catch(() => undefined); // assertInvariant says what is missing
    }
    await sleep(SETTLE_MS);
    assertInvariant(app, before, result, seed, () => sidecar.transcript());
  }
}

test(`kubelet volume: randomized updates, resyncs and fsGroup walks keep the invariant (base seed ${baseSeed})`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'invariant-kubelet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let version = 0;
  let swapAt: bigint | undefined;
  const writer = new AtomicWriter(dir, {
    beforeStep: (step) => {
      if (step.phase === 'swap') swapAt = process.hrtime.bigint();
    },
  });
  await writer.write(configMapPayload({ 'app.conf': `v${version}` }));
  await checkSequences(t, dir, `invariant-kube-${process.pid}`, baseSeed, async (step, _random, index) => {
    if (step === 'change') {
      version += 1;
      const written = await writer.write(configMapPayload({ 'app.conf': `v${version}` }));
      assert.ok(written.changed);
      return swapAt;
    }
    if (step === 'noop') await writer.resync();
    else await setVolumeOwnership(dir, 3000 + index, true);
    return undefined;
  });
});

/** The lowest descriptor number `pid` does not use: with RLIMIT_NOFILE at it, every open fails with EMFILE. */
function lowestFreeDescriptor(pid: number): number {
  const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  let free = 0;
  while (used.has(free)) free++;
  return free;
}

/** Runs `during` with the process's descriptors used up (RLIMIT_NOFILE lowered to what it holds), then restores the limit. */
async function withDescriptorsUsedUp<T>(pid: number, during: () => Promise<T>): Promise<T> {
  const limits = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (limits === null) throw new Error(`no open-file limit in /proc/${pid}/limits`);
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowestFreeDescriptor(pid)}:${limits[2]}`]);
  try {
    return await during();
  } finally {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limits[1]}:${limits[2]}`]);
  }
}

test(`plain directory: randomized writes, identical rewrites and chmods keep the invariant (base seed ${baseSeed})`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'invariant-plain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = ['a.conf', 'b.conf', 'c.conf'];
  const contents = new Map<string, string>();
  let version = 0;
  for (const file of files) {
    contents.set(file, `v${version}`);
    writeFileSync(join(dir, file), `v${version}`);
  }
  await checkSequences(t, dir, `invariant-plain-${process.pid}`, baseSeed + 1000, async (step, random, index) => {
    const file = pick(random, files);
    const path = join(dir, file);
    if (step === 'change') {
      version += 1;
      const changedAt = process.hrtime.bigint();
      writeFileSync(path, `v${version}`);
      contents.set(file, `v${version}`);
      return changedAt;
    }
    if (step === 'noop') writeFileSync(path, contents.get(file) ?? '');
    else chmodSync(path, index % 2 === 0 ? 0o600 : 0o644);
    return undefined;
  });
});

test(`plain directory under faults: deleted and filled again, slow writers, descriptors used up, keep the invariant (base seed ${baseSeed})`, async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'invariant-faults-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'conf');
  mkdirSync(dir);
  const files = ['a.conf', 'b.conf'];
  let version = 0;
  let slowFiles = 0;
  const writeAll = (): void => {
    for (const file of files) writeFileSync(join(dir, file), `v${version} ${file}`);
  };
  writeAll();
  const steps: Step[] = ['change', 'noop', 'attrib', 'recreate', 'slow write', 'fd pressure'];
  const performed = new Set<Step>();
  let watching: SidecarProcess | undefined;
  await checkSequences(t, dir, `invariant-faults-${process.pid}`, baseSeed + 2000, async (step, random, index, sidecar) => {
    performed.add(step);
    watching = sidecar;
    const path = join(dir, pick(random, files));
    switch (step) {
      case 'change': {
        version += 1;
        const changedAt = process.hrtime.bigint();
        writeFileSync(path, `v${version}`);
        return changedAt;
      }
      case 'noop':
        writeFileSync(path, readFileSync(path));
        return undefined;
      case 'attrib':
        chmodSync(path, index % 2 === 0 ? 0o600 : 0o644);
        return undefined;
      case 'recreate': {
        // Gone, then back empty for a moment, then filled: one change, never the empty directory.
        version += 1;
        rmSync(dir, { recursive: true });
        mkdirSync(dir);
        await sleep(Math.floor(random() * 5));
        const changedAt = process.hrtime.bigint();
        writeAll();
        return changedAt;
      }
      case 'slow write': {
        // A new file, created, written in two chunks with a pause past the debounce, then closed.
        const fd = openSync(join(dir, `slow-${++slowFiles}.conf`), 'w');
        writeSync(fd, 'first half;');
        await sleep(DEBOUNCE_MS + Math.floor(random() * 150));
        const changedAt = process.hrtime.bigint();
        writeSync(fd, 'second half;');
        closeSync(fd);
        return changedAt;
      }
      case 'fd pressure': {
        // The check that this change calls for fails with EMFILE until the limit is back.
        version += 1;
        return withDescriptorsUsedUp(sidecar.child.pid ?? 0, async () => {
          const changedAt = process.hrtime.bigint();
          writeFileSync(path, `v${version}`);
          await sleep(150 + Math.floor(random() * 150));
          return changedAt;
        });
      }
    }
  }, { steps });
  // The faults were real: the sidecar met them.
  if (performed.has('fd pressure')) assert.ok((watching?.messages('cannot read the configuration now; checking again').length ?? 0) > 0, watching?.transcript());
  if (performed.has('recreate')) assert.ok((watching?.messages('config directory is back; watching again').length ?? 0) > 0, watching?.transcript());
});

test(`a Secret volume the sidecar may not read (defaultMode 0400, another uid): updates, resyncs and fsGroup walks keep the invariant (base seed ${baseSeed})`, { skip: process.getuid?.() !== 0 && 'needs root to run as nobody' }, async (t) => {
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const parent = mkdtempSync(join(tmpdir(), 'invariant-secret-'));
  chmodSync(parent, 0o755);
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'secret');
  mkdirSync(dir, { mode: 0o755 });
  let version = 0;
  let swapAt: bigint | undefined;
  const writer = new AtomicWriter(dir, {
    beforeStep: (step) => {
      if (step.phase === 'swap') swapAt = process.hrtime.bigint();
    },
  });
  const payload = (): ReturnType<typeof secretPayload> => secretPayload({ 'tls.crt': `cert v${version}`, 'tls.key': 'key' }, { defaultMode: 0o400 });
  await writer.write(payload());
  const cli = join(copyPackageReadableByAll(t), 'dist', 'bin', 'config-reloader.js');
  await checkSequences(t, dir, `invariant-secret-${process.pid}`, baseSeed + 3000, async (step, _random, index) => {
    if (step === 'change') {
      version += 1;
      assert.ok((await writer.write(payload())).changed);
      return swapAt;
    }
    if (step === 'noop') await writer.resync();
    else await setVolumeOwnership(dir, 3000 + index, true);
    return undefined;
  }, { wrapper: nobody, cli });
});
