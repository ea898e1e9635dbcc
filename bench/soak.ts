// Soak: many kubelet updates in a row, one at a time (the next once the
// previous one's signal arrived, or was given up as lost), with the
// sidecar's resident memory and open descriptors read every few hundred
// updates. A leak of a descriptor or of retained objects per update shows
// as growth between the sample after the first 1,000 updates (start-up
// garbage and lazy loading are over by then) and the last.
//
// Each sample is taken after a short pause: right after a signal the
// sidecar is still at work (its /proc scan, the directory it lists hold
// descriptors for a moment). The last one is taken after V8's memory reducer
// has had its chance (see idle.ts): garbage not yet collected is not a leak.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { CPrograms } from './compile';
import { GenerationVolume } from './volume';
import { countDescriptors, readMemory } from './proc-stats';
import * as reloaders from './reloaders';
import { SignalTarget } from './signal-target';
import { sleep } from './stats';

export interface SoakPoint {
  readonly updates: number;
  readonly rssKb: number;
  readonly descriptors: number;
}

export interface SoakResult {
  readonly updates: number;
  readonly lost: number;
  readonly extra: number;
  readonly durationMs: number;
  readonly start: SoakPoint;
  /** After BASELINE_UPDATES: what the end is compared with. */
  readonly baseline: SoakPoint;
  readonly peak: SoakPoint;
  readonly end: SoakPoint;
  readonly error?: string;
}

export const BASELINE_UPDATES = 1000;
const SAMPLE_EVERY = 250;
/** Quiet before each sample, so that no reload is in progress. */
const PAUSE_MS = 200;
/** Quiet before the last sample: long enough for V8's memory reducer to have run its full collections. */
export const SOAK_SETTLE_MS = 30000;

export async function measureSoak(programs: CPrograms, tmpRoot: string, updates: number, progress: (message: string) => void): Promise<SoakResult> {
  const program = join(tmpRoot, `soak-${process.pid}`.slice(0, 15));
  copyFileSync(programs.signalTarget, program);
  const target = await SignalTarget.start(program);
  const volume = mkdtempSync(join(tmpRoot, 'soak-volume-'));
  const writer = new GenerationVolume(volume);
  const points: SoakPoint[] = [];
  let lost = 0;
  let published = 0;
  let error: string | undefined;
  const started = Date.now();
  try {
    const child = await reloaders.sidecar.start({ dir: volume, targetPid: target.pid, targetName: program.split('/').pop() ?? '', programs });
    try {
      const sample = async (pauseMs: number): Promise<void> => {
        await sleep(pauseMs);
        points.push({ updates: published, rssKb: readMemory(child.pid).rssKb, descriptors: countDescriptors(child.pid) });
      };
      await sample(PAUSE_MS);
      for (published = 0; published < updates;) {
        const expected = target.stamps.length + 1;
        writer.update();
        published++;
        if (!(await target.waitForCount(expected, 1000))) lost++;
        if (!child.running) throw new Error(`the sidecar exited after ${published} updates:\n${child.tail()}`);
        if (published % SAMPLE_EVERY === 0 || published === BASELINE_UPDATES) await sample(PAUSE_MS);
        if (published % 2000 === 0) progress(`soak: ${published} of ${updates} updates`);
      }
      await sample(SOAK_SETTLE_MS);
    } finally {
      await child.stop();
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  } finally {
    await target.stop();
    rmSync(volume, { recursive: true, force: true });
  }
  const none: SoakPoint = { updates: 0, rssKb: Number.NaN, descriptors: Number.NaN };
  const first = points[0] ?? none;
  return {
    updates: published,
    lost,
    // Every update waits for its own signal, so any signal beyond one per delivered update is extra.
    extra: Math.max(0, target.stamps.length - (published - lost)),
    durationMs: Date.now() - started,
    start: first,
    baseline: points.find((point) => point.updates === BASELINE_UPDATES) ?? none,
    peak: points.reduce((peak, point) => (point.rssKb > peak.rssKb ? point : peak), first),
    end: points[points.length - 1] ?? none,
    ...(error === undefined ? {} : { error }),
  };
}
