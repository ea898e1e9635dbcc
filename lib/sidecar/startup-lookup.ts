// The sidecar's first look for its targets, before it reports ready. It
// tells the operator at once what would otherwise show only at the first
// ConfigMap update, maybe days later: above all a Pod without
// `shareProcessNamespace`, where the sidecar sees only its own processes.
import { listProcessSummaries } from '..';
import { noTargetMessage } from './diagnosis';
import { type HeldTarget, MAX_HELD, openTarget } from './held-targets';
import { listedAtMost, type Logger } from './log';
import { seesOnlyItself, selectTargets } from './targets';

export interface LookupOptions {
  readonly processName: string;
  readonly signalAll: boolean;
  readonly log: Logger;
  readonly selfPid?: number;
}

const LISTED_TARGETS = 20;

/**
 * Logs what a reload would signal now, and returns handles on those of them
 * that are safe to hold until the first reload: processes whose parent is
 * outside the sidecar's PID namespace (ppid 0), as a container's first
 * process is in a Pod. Such a process can never come to sit below another
 * match; one started by a script could, if the script later exec'd into the
 * app (held-targets.ts).
 */
export function lookUpTargets(options: LookupOptions): HeldTarget[] {
  const selfPid = options.selfPid ?? process.pid;
  const processes = listProcessSummaries();
  const { targets } = selectTargets(processes, options.processName, options.signalAll, selfPid);
  if (targets.length > 0) {
    options.log.info('target found', { targets: listedAtMost(targets.map((target) => `${target.pid} ${target.comm}`), LISTED_TARGETS) });
  } else if (seesOnlyItself(processes, selfPid)) {
    options.log.warn('no target can be seen', { reason: noTargetMessage(options.processName, processes, selfPid) });
  } else {
    // In a Pod the app's container often starts after the sidecar: not a
    // fault yet, but the reason lists what is visible, so a misspelt
    // PROCESS_NAME shows at once.
    options.log.info('target not running yet', { reason: noTargetMessage(options.processName, processes, selfPid) });
  }
  const held: HeldTarget[] = [];
  for (const target of targets.filter((candidate) => candidate.ppid === 0).slice(0, MAX_HELD)) {
    const opened = openTarget(target);
    if ('held' in opened) held.push(opened.held);
  }
  return held;
}
