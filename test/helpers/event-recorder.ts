// Records the inotify events one action causes in one directory.
//
// inotify delivers an instance's events in the order the kernel queued them,
// and the kernel queues them synchronously inside the system call that caused
// them. So after the action, creating a file in a private sentinel directory
// watched by the same instance, and waiting for that event, proves every
// event of the action has been read: "no event" becomes an observation, not a
// guess about timing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Inotify, type InotifyEvent, type Watch } from '../../lib/inotify';
import { IN_ALL_EVENTS, IN_CREATE, type InotifyEventKind } from '../../lib/inotify-flags';
import { waitFor } from './wait-for';

/** Event kinds that mean something in the directory changed; the rest are reads. */
export const MODIFYING_KINDS: ReadonlySet<InotifyEventKind> = new Set<InotifyEventKind>([
  'modify', 'attrib', 'close_write', 'moved_from', 'moved_to', 'create', 'delete', 'delete_self', 'move_self',
]);

export function isModifying(event: InotifyEvent): boolean {
  return event.kinds.some((kind) => MODIFYING_KINDS.has(kind));
}

/** 'create dir ..2026_11_25_12_34_56.42', 'moved_to ..data', 'attrib .' — for readable assertions. */
export function describeEvent(event: InotifyEvent): string {
  return `${event.kind}${event.isDir ? ' dir' : ''} ${event.name ?? '.'}`;
}

export class EventRecorder {
  readonly #inotify: Inotify;
  readonly #watch: Watch;
  readonly #sentinel: Watch;
  readonly #sentinelDir: string;
  readonly #events: InotifyEvent[] = [];
  #flushes = 0;

  private constructor(inotify: Inotify, watch: Watch, sentinel: Watch, sentinelDir: string) {
    this.#inotify = inotify;
    this.#watch = watch;
    this.#sentinel = sentinel;
    this.#sentinelDir = sentinelDir;
    inotify.on('event', (event) => this.#events.push(event));
  }

  /** Watches `dir` (not recursively) with `mask`, all events by default. */
  static async open(dir: string, mask: number = IN_ALL_EVENTS): Promise<EventRecorder> {
    const sentinelDir = await mkdtemp(join(tmpdir(), 'event-sentinel-'));
    const inotify = new Inotify();
    try {
      const watch = inotify.watch(dir, mask);
      const sentinel = inotify.watch(sentinelDir, IN_CREATE);
      return new EventRecorder(inotify, watch, sentinel, sentinelDir);
    } catch (error) {
      inotify.close();
      await rm(sentinelDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Runs `action` and returns the watched directory's events it caused, in order. */
  async during(action: () => unknown): Promise<InotifyEvent[]> {
    await this.flush();
    await action();
    return this.flush();
  }

  /** Waits until everything queued so far has been read; returns and clears the directory's events. */
  async flush(): Promise<InotifyEvent[]> {
    const name = `flush-${++this.#flushes}`;
    await writeFile(join(this.#sentinelDir, name), '');
    // Boxed: index 0 is a valid answer, which waitFor would take for "not yet".
    const { index } = await waitFor(`the inotify sentinel ${name}`, () => {
      const found = this.#events.findIndex((event) => event.wd === this.#sentinel.wd && event.name === name);
      return found < 0 ? undefined : { index: found };
    });
    // Events after the sentinel belong to whatever runs next.
    return this.#events.splice(0, index + 1).filter((event) => event.wd === this.#watch.wd);
  }

  async close(): Promise<void> {
    this.#inotify.close();
    await rm(this.#sentinelDir, { recursive: true, force: true });
  }
}
