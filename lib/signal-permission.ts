// Who may signal whom, and the EPERM that says why not.
//
// kill(2) and pidfd_send_signal(2) let a process signal another only when
// the sender's real or effective uid equals the target's real or saved uid,
// or the sender has CAP_KILL (in the target's user namespace). The kernel
// answers EPERM and nothing more; the error thrown here names both sides'
// uids, so whoever reads it knows which uid to run as. When the uids do allow
// the signal, the refusal came from elsewhere: a security module (SELinux,
// AppArmor) or a seccomp filter, and the message says that instead.
import { constants } from 'node:os';

import { CAP_KILL, hasEffectiveCapability } from './capabilities';
import { isSystemError, type SystemError } from './errors';
import type { ProcStatus } from './proc-parse';

/** The facts kill(2)'s permission check looks at, for one sender and one target. */
export interface SignalPermission {
  readonly pid: number;
  /** The target's name (comm), to name it in a message. */
  readonly name: string;
  /** The target's uids; saved is left out where it is not known (ProcessInfo has the real uid only). */
  readonly targetUid: { readonly real: number; readonly saved?: number };
  readonly senderUid: { readonly real: number; readonly effective: number };
  readonly senderHasCapKill: boolean;
}

/** The EPERM of a refused signal: Node's error shape, and the facts behind the message. */
export interface SignalPermissionError extends SystemError {
  readonly code: 'EPERM';
  readonly permission: SignalPermission;
}

export function isSignalPermissionError(error: unknown): error is SignalPermissionError {
  return isSystemError(error) && error.code === 'EPERM' && typeof (error as { permission?: unknown }).permission === 'object';
}

/** True when the uids or CAP_KILL let the sender signal the target (kill(2), "Permissions"). */
export function uidsAllowSignal(permission: SignalPermission): boolean {
  const { targetUid, senderUid } = permission;
  const targetUids = [targetUid.real, targetUid.saved ?? targetUid.real];
  return permission.senderHasCapKill || targetUids.includes(senderUid.real) || targetUids.includes(senderUid.effective);
}

/** The target's side of the check: "nginx (pid 7, uid 101)", with the saved uid where it differs from the real one. */
export function describeSignalTarget(permission: SignalPermission): string {
  const { pid, name, targetUid } = permission;
  const saved = targetUid.saved === undefined || targetUid.saved === targetUid.real ? '' : `, saved uid ${targetUid.saved}`;
  return `${name} (pid ${pid}, uid ${targetUid.real}${saved})`;
}

/**
 * The sender's side: "this process runs as uid 1000 without CAP_KILL", with
 * the effective uid where it differs from the real one. `subject` names the
 * sender for an application that says more than "this process".
 */
export function describeSignalSender(permission: SignalPermission, subject = 'this process'): string {
  const { senderUid, senderHasCapKill } = permission;
  const effective = senderUid.effective === senderUid.real ? '' : ` (effective uid ${senderUid.effective})`;
  return `${subject} runs as uid ${senderUid.real}${effective} ${senderHasCapKill ? 'with' : 'without'} CAP_KILL`;
}

/**
 * Where the uids (or CAP_KILL) allow the signal and the kernel refused all
 * the same, who did; undefined where the uids explain the refusal.
 */
export function refusalBeyondUids(permission: SignalPermission): string | undefined {
  if (!uidsAllowSignal(permission)) return undefined;
  return 'which kill(2) allows, so a security module (SELinux, AppArmor) or a seccomp filter refused the signal';
}

/**
 * Why the signal was refused: both sides of the check, then the rule they
 * break and the two fixes or, where the uids allow the signal, who else refuses.
 */
export function signalPermissionMessage(permission: SignalPermission): string {
  const sides = `cannot signal ${describeSignalTarget(permission)}; ${describeSignalSender(permission)}`;
  const beyond = refusalBeyondUids(permission);
  if (beyond !== undefined) return `${sides}, ${beyond}`;
  return (
    `${sides}. A process may signal another only when its real or effective uid is the other's real or saved uid, ` +
    `or when it has CAP_KILL. Fix: run as uid ${permission.targetUid.real}, or grant this process CAP_KILL`
  );
}

/** This process's side of the check, as it is now. */
function senderIdentity(): Pick<SignalPermission, 'senderUid' | 'senderHasCapKill'> {
  return {
    senderUid: { real: process.getuid?.() ?? -1, effective: process.geteuid?.() ?? -1 },
    senderHasCapKill: hasEffectiveCapability(CAP_KILL),
  };
}

/** The EPERM for a signal the kernel refused to the process whose status is `status`. */
export function signalPermissionError(syscall: string, pid: number, status: ProcStatus): SignalPermissionError {
  const permission: SignalPermission = {
    pid,
    name: status.name,
    targetUid: { real: status.uid.real, saved: status.uid.saved },
    ...senderIdentity(),
  };
  return Object.assign(new Error(`EPERM: operation not permitted, ${syscall}: ${signalPermissionMessage(permission)}`), {
    code: 'EPERM' as const,
    errno: -constants.errno.EPERM,
    syscall,
    permission,
  });
}
