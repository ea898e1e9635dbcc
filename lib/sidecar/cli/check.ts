// `config-reloader check`: validates the configuration (done before this
// runs), then shows what would be watched and whom a reload would signal.
// Meant for `kubectl exec POD -c config-reloader -- config-reloader check`.
// Exit 0 when a reload would reach every target and be caught, 1 otherwise.
// Text for people; JSON (one object) with --log-format json, for scripts.
import { CAP_KILL, hasEffectiveCapability, listProcesses } from '../..';
import type { Config } from '../config';
import { formatDuration } from '../config';
import { buildReport, type CheckReport, type Identity } from './check-report';

export function runCheck(config: Config, out: NodeJS.WritableStream, fingerprintKey?: Buffer): number {
  const identity: Identity = {
    selfPid: process.pid,
    uid: process.getuid?.() ?? -1,
    euid: process.geteuid?.() ?? -1,
    haveCapKill: hasEffectiveCapability(CAP_KILL),
  };
  const report = buildReport(config, listProcesses(), identity, fingerprintKey);
  out.write(config.logFormat === 'json' ? `${JSON.stringify(report)}\n` : formatReport(report, config));
  return report.ok ? 0 : 1;
}

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

function formatReport(report: CheckReport, config: Config): string {
  const lines = [
    `settings: process name ${config.processName}, signal ${report.signal}, signal all ${yesNo(config.signalAll)}, ` +
      `debounce ${formatDuration(config.debounceMs)}, handler wait ${formatDuration(config.handlerWaitMs)}`,
  ];
  for (const dir of report.directories) {
    lines.push(`watch ${dir.dir}: ${dir.kind}, ${dir.files} file${dir.files === 1 ? '' : 's'}, fingerprint ${dir.fingerprint.slice(0, 16)}`);
  }
  lines.push(
    `config fingerprint: ${report.fingerprint} ` +
      (report.fingerprintKey === 'file' ? '(keyed with FINGERPRINT_KEY_FILE)' : "(keyed for this run only: set FINGERPRINT_KEY_FILE to compare it with the sidecar's)"),
  );
  lines.push(`targets: ${report.targets.length === 0 ? 'none' : report.targets.length}`);
  for (const target of report.targets) {
    lines.push(
      `  pid ${target.pid} ${target.comm} (answers to ${target.names.join(', ')}), uid ${target.uid}: ` +
        `catches ${report.signal} ${yesNo(target.catches)}, ignores it ${yesNo(target.ignores)}, ` +
        `may signal ${yesNo(target.permitted)} -> ${target.problem === null ? 'ok' : 'PROBLEM'}`,
    );
  }
  if (report.workers.length > 0) {
    lines.push(`workers skipped (their parent reloads them): ${report.workers.map((worker) => `${worker.pid} ${worker.comm}`).join(', ')}`);
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  const pids = report.targets.map((target) => target.pid).join(', ');
  lines.push(report.ok ? `ok: a change now would send ${report.signal} to pid ${pids}` : 'not ok: a reload would not work (see the problems above)');
  return `${lines.join('\n')}\n`;
}
