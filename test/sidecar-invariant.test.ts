// The reload invariant under randomized update sequences and spacing:
// after the last write of a sequence, the target receives a signal that
// follows that write; when nothing changed it receives none; and it never
// receives more signals than there were changes.
//
// Sequences come from a seeded generator; a failure prints its seed, and
// SEED=<n> replays it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { AtomicWriter, configMapPayload, setVolumeOwnership } from '../lib/testing';
import { NamedApp } from './helpers/named-app';
import { SidecarProcess } from './helpers/sidecar-process';

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

type Step = 'change' | 'noop' | 'attrib';

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
type Perform = (step: Step, random: () => number, index: number) => Promise<bigint | undefined>;

/** Runs SEQUENCES randomized sequences against one app and sidecar watching `dir`, checking the invariant after each. */
async function checkSequences(t: { after(fn: () => unknown): void }, dir: string, name: string, seedBase: number, perform: Perform): Promise<void> {
  const app = await NamedApp.start(t, name);
  const sidecar = new SidecarProcess({ env: { CONFIG_DIR: dir, PROCESS_NAME: name, DEBOUNCE: `${DEBOUNCE_MS}ms` } });
  t.after(() => sidecar.stop());
  await sidecar.waitForMessage('ready');

  for (let sequence = 0; sequence < SEQUENCES; sequence++) {
    const seed = seedBase + sequence;
    const random = generator(seed);
    const before = app.signals().length;
    const result: SequenceResult = { lastChangeAt: undefined, changes: 0, log: [] };
    // One sequence in six changes nothing at all.
    const steps: Step[] = ['change', 'noop', 'attrib'];
    const allowed = sequence % 6 === 5 ? steps.filter((step) => step !== 'change') : steps;
    for (let i = 0; i < STEPS; i++) {
      const step = pick(random, allowed);
      const spacing = pick(random, SPACINGS_MS);
      const changedAt = await perform(step, random, i);
      if (changedAt !== undefined) {
        result.lastChangeAt = changedAt;
        result.changes += 1;
      }
      result.log.push(`${step}+${spacing}ms`);
      await sleep(spacing);
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
