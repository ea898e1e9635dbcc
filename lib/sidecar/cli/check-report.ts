// What `config-reloader check` finds out: for each configured directory, what
// the sidecar would watch; for each process it would signal, whether the
// signal would arrive and be caught; whether the command would be found, and
// whether the URL answers. The analysis is pure, over a snapshot of /proc,
// this process's identity and the probes check.ts made, so each rule is
// tested with tables as well as with real processes.
import { statSync } from 'node:fs';

import {
  catchesSignal, defaultAction, type Fingerprint, fingerprintSync, ignoresSignal, isKubeletVolume, type ProcessInfo,
  receptionIsSafe, type SignalPermission, type SignalReception, uidsAllowSignal,
} from '../..';
import { type ActionName, actionsOf, type Config, redactUrl } from '../config';
import type { Resolution } from '../executable';
import {
  describeReception, ignoredSignalMessage, noHandlerMessage, noTargetMessage, permissionMessage, reloadSignalWarning, unseenReceptionMessage,
} from '../diagnosis';
import { shownText } from '../log';
import { processNames, selectTargets } from '../targets';
import { unreadableFix, watchProblemFix } from '../watch-diagnosis';

export interface DirectoryReport {
  readonly dir: string;
  readonly kind: 'kubelet volume' | 'plain directory';
  readonly files: number;
  /** The digest over the directory's user-visible files, as the sidecar computes it (keyed: see FINGERPRINT_KEY_FILE). */
  readonly fingerprint: string;
  /** Directories inside that the sidecar may not read, so cannot watch. */
  readonly unwatchable: readonly string[];
  /** Files that exist and that the sidecar may not read. */
  readonly unreadable: readonly string[];
  /** Paths the fingerprint does not take ("path: reason"): system filesystems, cycles, the caps. */
  readonly skipped: readonly string[];
}

export interface TargetReport {
  readonly pid: number;
  readonly comm: string;
  readonly names: readonly string[];
  readonly uid: number;
  /** A handler is installed (SigCgt). */
  readonly catches: boolean;
  /** The signal is set to SIG_IGN: it arrives and does nothing. */
  readonly ignores: boolean;
  /** How it would take the signal: handler, sigwait, signalfd, blocked, ignored, default or unknown (see the library's SignalReception). */
  readonly reception: SignalReception['by'];
  /** The same, in words. */
  readonly receives: string;
  /** kill(2) would allow it: same uid, or CAP_KILL. */
  readonly permitted: boolean;
  /** Why a reload would not work for this target; null when it would (null, not absent, in the JSON report). */
  readonly problem: string | null;
}

export interface CommandReport {
  /** The program as configured. */
  readonly program: string;
  /** Where it was found; null when it was not. */
  readonly path: string | null;
  readonly problem: string | null;
}

export interface UrlReport {
  /** With user, password and query values masked. */
  readonly url: string;
  readonly method: string;
  /** The status a HEAD request got; null when none came. */
  readonly status: number | null;
  readonly statusText: string | null;
  readonly problem: string | null;
}

/** What check.ts found out with I/O: where the command is, and how the URL answered a HEAD. */
export interface Probes {
  readonly command?: Resolution;
  readonly url?: { readonly status: number; readonly statusText: string } | { readonly error: string };
}

export interface CheckReport {
  readonly ok: boolean;
  /** The configured actions, in the order they run. */
  readonly actions: readonly ActionName[];
  /** The signal action's signal and process name; null without PROCESS_NAME. */
  readonly signal: string | null;
  readonly processName: string | null;
  readonly command: CommandReport | null;
  readonly url: UrlReport | null;
  readonly directories: readonly DirectoryReport[];
  /**
   * The fingerprint over every directory: the `fingerprint` label of
   * config_reloader_config_info when both use the key of FINGERPRINT_KEY_FILE.
   */
  readonly fingerprint: string;
  /** 'file': keyed with FINGERPRINT_KEY_FILE, comparable with the sidecar's; 'random': with a key of this run only. */
  readonly fingerprintKey: 'file' | 'random';
  readonly targets: readonly TargetReport[];
  /** Matches not signalled because an ancestor matches (workers); empty with SIGNAL_ALL. */
  readonly workers: readonly { readonly pid: number; readonly comm: string }[];
  /** Every reason a reload would not work, one sentence each. */
  readonly problems: readonly string[];
  /** Parts of the configuration that cannot be watched or read: reloads work, and miss what happens there. */
  readonly warnings: readonly string[];
}

export interface Identity {
  readonly selfPid: number;
  readonly uid: number;
  readonly euid: number;
  readonly haveCapKill: boolean;
}

function inspectDirectory(dir: string, key: Buffer | undefined): DirectoryReport {
  const print = fingerprintSync([dir], key === undefined ? {} : { key });
  const unwatchable = print.unreadable.filter(isDirectory);
  return {
    dir,
    kind: isKubeletVolume(dir) ? 'kubelet volume' : 'plain directory',
    files: countFiles(print),
    fingerprint: print.digest,
    unwatchable,
    unreadable: print.unreadable.filter((path) => !unwatchable.includes(path)),
    skipped: print.skipped.map((skip) => `${skip.path}: ${skip.reason}`),
  };
}

/** Files the app can be reloaded with: unreadable directories are listed apart. */
function countFiles(print: Fingerprint): number {
  let count = 0;
  for (const [path] of print.files) if (!print.unreadable.includes(path) || !isDirectory(path)) count++;
  return count;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One sentence per thing a reload would miss, with its fix. */
export function directoryWarnings(directories: readonly DirectoryReport[], uid: number): string[] {
  const warnings: string[] = [];
  for (const dir of directories) {
    for (const path of dir.unwatchable) {
      const denied = Object.assign(new Error('EACCES'), { code: 'EACCES' });
      warnings.push(`cannot watch ${path}: the sidecar (uid ${uid}) may not read it. Fix: ${watchProblemFix(denied)}`);
    }
    if (dir.unreadable.length > 0) {
      warnings.push(`cannot read ${dir.unreadable.length} file${dir.unreadable.length === 1 ? '' : 's'} of ${dir.dir} (${dir.unreadable.join(', ')}): ${unreadableFix(uid)}`);
    }
    for (const skipped of dir.skipped) warnings.push(`not read: ${skipped}`);
  }
  return warnings;
}

/** Analyses whom a reload would signal, and whether each would get the signal safely. Pure. */
/** How a process takes the signal; undefined when it has exited. */
export type ReceptionOf = (target: ProcessInfo) => SignalReception | undefined;

/** From the signal masks alone, for a report built without reading each thread (handler, ignored, or its default action). */
export function receptionFromMasks(signo: number): ReceptionOf {
  return (target) => {
    if (catchesSignal(target, signo)) return { by: 'handler' };
    if (ignoresSignal(target, signo)) return { by: 'ignored' };
    return { by: 'default', action: defaultAction(signo), threads: [target.pid] };
  };
}

export function inspectTargets(
  config: Config,
  processes: readonly ProcessInfo[],
  identity: Identity,
  receptionOf: ReceptionOf = receptionFromMasks(config.signal.number),
): Pick<CheckReport, 'targets' | 'workers' | 'problems' | 'warnings'> {
  const name = config.processName;
  if (name === undefined) return { targets: [], workers: [], problems: [], warnings: [] };
  const signalWarning = reloadSignalWarning(config.signal);
  const warnings = signalWarning === undefined ? [] : [signalWarning];
  const { targets, workers } = selectTargets(processes, name, config.signalAll, identity.selfPid);
  if (targets.length === 0) {
    return { targets: [], workers: [], problems: [noTargetMessage(name, processes, identity.selfPid)], warnings };
  }
  const reports: TargetReport[] = [];
  for (const target of targets) {
    const reception = receptionOf(target);
    // Gone since the scan: a reload would not find it either.
    if (reception === undefined) continue;
    const report = inspectTarget(config, target, reception, identity);
    reports.push(report);
    if (!config.handlerCheck && report.problem === null && !receptionIsSafe(reception)) {
      warnings.push(
        `HANDLER_CHECK is false: ${config.signal.name} would be sent to ${shownText(target.comm)} (pid ${target.pid}) at once, ` +
          `although it takes it ${report.receives}.`,
      );
    }
  }
  return {
    targets: reports,
    workers: workers.map((info) => ({ pid: info.pid, comm: info.comm })),
    problems: reports.flatMap((report) => (report.problem === null ? [] : [report.problem])),
    warnings,
  };
}

function inspectTarget(config: Config, target: ProcessInfo, reception: SignalReception, identity: Identity): TargetReport {
  const { signal } = config;
  const catches = catchesSignal(target, signal.number);
  const ignores = ignoresSignal(target, signal.number);
  // ProcessInfo has the real uid only; kill(2) would also accept the saved one.
  const permission: SignalPermission = {
    pid: target.pid,
    name: target.comm,
    targetUid: { real: target.uid },
    senderUid: { real: identity.uid, effective: identity.euid },
    senderHasCapKill: identity.haveCapKill,
  };
  const permitted = uidsAllowSignal(permission);
  let problem: string | null = null;
  if (!permitted) {
    problem = `likely to fail: ${permissionMessage(signal.name, permission)}`;
  } else if (reception.by === 'ignored') {
    problem = ignoredSignalMessage(target, signal.name);
  } else if (config.handlerCheck && reception.by === 'unknown') {
    problem = unseenReceptionMessage(target, signal.name, reception.threads, identity.euid, config.handlerWaitMs);
  } else if (config.handlerCheck && !receptionIsSafe(reception)) {
    problem = noHandlerMessage(target, signal.name, config.handlerWaitMs);
  }
  return {
    pid: target.pid,
    comm: target.comm,
    names: [...processNames(target)],
    uid: target.uid,
    catches,
    ignores,
    reception: reception.by,
    receives: describeReception(reception, signal.name, identity.euid),
    permitted,
    problem,
  };
}

/** Whether the command would be found: from the resolution check.ts made. Pure. */
export function inspectCommand(config: Config, resolution: Resolution | undefined): CommandReport | null {
  const program = config.reloadCommand?.[0];
  if (program === undefined) return null;
  if (resolution === undefined || 'problem' in resolution) {
    const why = resolution === undefined ? 'it was not looked for' : resolution.problem;
    return { program, path: null, problem: `the reload command cannot be run: ${why}` };
  }
  return { program, path: resolution.path, problem: null };
}

/** Whether the URL answers: any HTTP answer to a HEAD does, whatever its status (a reload endpoint may take POST only). Pure. */
export function inspectUrl(config: Config, probe: Probes['url']): UrlReport | null {
  const action = config.reloadUrl;
  if (action === undefined) return null;
  const base = { url: redactUrl(action.url.href), method: action.method };
  if (probe === undefined || 'error' in probe) {
    const why = probe === undefined ? 'it was not tried' : probe.error;
    return { ...base, status: null, statusText: null, problem: `the reload URL does not answer: ${why}` };
  }
  return { ...base, status: probe.status, statusText: probe.statusText, problem: null };
}

/** `key`: the fingerprints' key, from FINGERPRINT_KEY_FILE or random (fingerprint-key.ts). */
export function buildReport(
  config: Config, processes: readonly ProcessInfo[], identity: Identity, probes: Probes = {}, key?: Buffer, receptionOf?: ReceptionOf,
): CheckReport {
  const directories = config.configDirs.map((dir) => inspectDirectory(dir, key));
  const targets = inspectTargets(config, processes, identity, receptionOf);
  const command = inspectCommand(config, probes.command);
  const url = inspectUrl(config, probes.url);
  const problems = [
    ...(command?.problem == null ? [] : [command.problem]),
    ...targets.problems,
    ...(url?.problem == null ? [] : [url.problem]),
  ];
  return {
    ok: problems.length === 0,
    actions: actionsOf(config),
    signal: config.processName === undefined ? null : config.signal.name,
    processName: config.processName ?? null,
    command,
    url,
    directories,
    fingerprint: fingerprintSync(config.configDirs, key === undefined ? {} : { key }).digest,
    fingerprintKey: config.fingerprintKeyFile === undefined ? 'random' : 'file',
    ...targets,
    warnings: [...directoryWarnings(directories, identity.euid), ...targets.warnings],
    problems,
  };
}
