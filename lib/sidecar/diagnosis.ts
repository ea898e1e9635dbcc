// The sentences an operator reads when a reload cannot be delivered: what is
// wrong and how to fix it. Pure, so each is tested word for word where it matters.
import { basename } from 'node:path';

import {
  describeSignalSender,
  describeSignalTarget,
  type ProcessInfo,
  type ProcessSummary,
  refusalBeyondUids,
  type SignalPermission,
} from '..';
import { formatDuration } from './config';
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
    `not sending ${signalName} to ${target.comm} (pid ${target.pid}): after ${formatDuration(waitedMs)} it has still not ` +
    `installed a handler, and the default action of ${signalName} would terminate it. ` +
    `The next change will try again; raise HANDLER_WAIT if the app starts slowly.`
  );
}

export function ignoredSignalMessage(target: ProcessInfo, signalName: string): string {
  return (
    `${target.comm} (pid ${target.pid}) ignores ${signalName}, so it will not reload; ` +
    `check RELOAD_SIGNAL against the signal the app reloads on.`
  );
}

export function noHandlerMessage(target: ProcessInfo, signalName: string, handlerWaitMs: number): string {
  return (
    `${target.comm} (pid ${target.pid}) has no handler for ${signalName}, whose default action would terminate it; ` +
    `a reload now would wait up to HANDLER_WAIT (${formatDuration(handlerWaitMs)}) for one and then give up. ` +
    `Check that RELOAD_SIGNAL is the signal ${basename(target.exeName ?? target.comm)} reloads on, or that it has finished starting.`
  );
}
