// The sentences an operator reads when a reload cannot be delivered: what is
// wrong and how to fix it. Pure, so each is tested word for word where it
// matters. Process names are shown as the logs show values (shownText): a
// name with spaces, quotes or control characters is quoted and escaped.
import { basename } from 'node:path';

import {
  describeSignalSender, describeSignalTarget, type ProcessInfo, type ProcessSummary, refusalBeyondUids, type Signal,
  type SignalPermission, type SignalReception,
} from '..';
import { formatDuration } from './config';
import { shownText } from './log';
import { describeProcesses, seesOnlyItself } from './targets';

export function noTargetMessage(name: string, processes: readonly ProcessSummary[], selfPid: number): string {
  if (seesOnlyItself(processes, selfPid)) {
    return (
      `no process named '${name}' is visible: this sidecar sees only its own processes (${describeProcesses(processes)}). ` +
      `The Pod needs 'shareProcessNamespace: true' in its spec so the sidecar can see and signal the app's processes.`
    );
  }
  return (
    `no process named '${name}' (matched against comm, executable and argv[0] basenames) among the ` +
    `${processes.length} visible processes: ${describeProcesses(processes)}. ` +
    `Check PROCESS_NAME, or that the app is running.`
  );
}

/**
 * Why a signal cannot be sent (an EPERM's `permission`, or what `check`
 * predicts), with the fix in a Pod's terms; where the uids allow the signal,
 * who else refused it.
 */
export function permissionMessage(signalName: string, permission: SignalPermission): string {
  const refused =
    `cannot send ${signalName} to ${describeSignalTarget(permission)}: operation not permitted; ` +
    describeSignalSender(permission, 'this sidecar');
  const beyond = refusalBeyondUids(permission);
  if (beyond !== undefined) return `${refused}, ${beyond}.`;
  return (
    `${refused}. Fix: run the sidecar as the app's user (securityContext.runAsUser: ${permission.targetUid.real}), ` +
    `or run it as root with only CAP_KILL (capabilities: drop [ALL], add [KILL]).`
  );
}

export function handlerTimeoutMessage(target: ProcessSummary, signalName: string, waitedMs: number): string {
  return (
    `not sending ${signalName} to ${shownText(target.comm)} (pid ${target.pid}): after ${formatDuration(waitedMs)} it has still not ` +
    `installed a handler, and the default action of ${signalName} would terminate it. ` +
    `The next change will try again; raise HANDLER_WAIT if the app starts slowly.`
  );
}

function unseen(signalName: string, threads: readonly number[], ourUid: number): string {
  const one = threads.length === 1;
  return (
    `it has no handler for ${signalName} and ${one ? `thread ${threads[0]} does` : `threads ${threads.join(', ')} do`} not block it; ` +
    `whether ${one ? 'it waits' : 'they wait'} for it in sigwait (as tini does) cannot be seen as uid ${ourUid}, ` +
    `and if not, the default action of ${signalName} would terminate the app`
  );
}

function unseenFix(signalName: string): string {
  return `Fix: run the sidecar as the app's uid, or add CAP_SYS_PTRACE; or set HANDLER_CHECK=false if the app is known to take ${signalName}.`;
}

/** The sidecar gave up on a target that neither handles nor blocks the signal, and whose threads it cannot see into. */
export function unseenTimeoutMessage(target: ProcessSummary, signalName: string, threads: readonly number[], ourUid: number, waitedMs: number): string {
  return (
    `not sending ${signalName} to ${shownText(target.comm)} (pid ${target.pid}) after waiting ${formatDuration(waitedMs)}: ` +
    `${unseen(signalName, threads, ourUid)}. ${unseenFix(signalName)}`
  );
}

/** `check`'s prediction for such a target. */
export function unseenReceptionMessage(target: ProcessSummary, signalName: string, threads: readonly number[], ourUid: number, handlerWaitMs: number): string {
  return (
    `${shownText(target.comm)} (pid ${target.pid}): ${unseen(signalName, threads, ourUid)}; a reload would wait up to ` +
    `HANDLER_WAIT (${formatDuration(handlerWaitMs)}) for a handler and then give up. ${unseenFix(signalName)}`
  );
}

export function ignoredSignalMessage(target: ProcessSummary, signalName: string): string {
  return (
    `${shownText(target.comm)} (pid ${target.pid}) ignores ${signalName}, so it will not reload: the kernel drops a signal set to SIG_IGN; ` +
    `check RELOAD_SIGNAL against the signal the app reloads on.`
  );
}

export function noHandlerMessage(target: ProcessInfo, signalName: string, handlerWaitMs: number): string {
  return (
    `${shownText(target.comm)} (pid ${target.pid}) has no handler for ${signalName}, whose default action would terminate it; ` +
    `a reload now would wait up to HANDLER_WAIT (${formatDuration(handlerWaitMs)}) for one and then give up. ` +
    `Check that RELOAD_SIGNAL is the signal ${shownText(basename(target.exeName ?? target.comm))} reloads on, or that it has finished starting.`
  );
}

/** How the target takes the signal, in words, for `check`. */
export function describeReception(reception: SignalReception, signalName: string, ourUid: number): string {
  const threads = (tids: readonly number[]): string => `${tids.length === 1 ? 'thread' : 'threads'} ${tids.join(', ')}`;
  switch (reception.by) {
    case 'handler':
      return 'through its handler';
    case 'sigwait':
      return `${threads(reception.threads)} ${reception.threads.length === 1 ? 'waits' : 'wait'} for it in sigwait; every other thread blocks it`;
    case 'signalfd':
      return 'every thread blocks it, and a signalfd reads it';
    case 'blocked':
      return 'every thread blocks it; it stays pending until the app reads it (no sigwait or signalfd is visible now)';
    case 'ignored':
      return 'ignored (SIG_IGN): the kernel drops it';
    case 'default':
      return `with its default action (${reception.action}) in ${threads(reception.threads)}`;
    case 'unknown':
      return `cannot be seen: ${threads(reception.threads)} ${reception.threads.length === 1 ? 'does' : 'do'} not block ${signalName}, and whether ${reception.threads.length === 1 ? 'it waits' : 'they wait'} for it needs ptrace access this uid (${ourUid}) lacks`;
  }
}

// Signals whose conventional meaning is "stop": an app that handles them
// shuts down, one that does not is terminated.
const STOPPING = new Set(['SIGTERM', 'SIGINT', 'SIGQUIT']);

/** A warning when RELOAD_SIGNAL is one that stops most apps; undefined for the others. */
export function reloadSignalWarning(signal: Signal): string | undefined {
  if (!STOPPING.has(signal.name)) return undefined;
  return (
    `RELOAD_SIGNAL is ${signal.name}, which stops most apps rather than reloading them (their handler for it shuts them down); ` +
    `use it only if the app reloads on ${signal.name}. Most reload on SIGHUP (the default), some on SIGUSR1 or SIGUSR2.`
  );
}
