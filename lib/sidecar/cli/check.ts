// `config-reloader check`: validates the configuration (done before this
// runs), then shows what would be watched and what a reload would do: whom
// it would signal, whether the command would be found, whether the URL
// answers (a HEAD request: check never reloads anything).
// Meant for `kubectl exec POD -c config-reloader -- config-reloader check`.
// Exit 0 when a reload would work, 1 otherwise.
// Text for people; JSON (one object) with --log-format json, for scripts.
import { CAP_KILL, hasEffectiveCapability, listProcesses, readSignalReception } from '../..';
import { readCaFile } from '../ca-file';
import type { Config } from '../config';
import { formatDuration } from '../config';
import { errorMessage } from '../errors';
import { resolveExecutable } from '../executable';
import { readHeaders } from '../headers-file';
import { sendRequest } from '../http-request';
import { shownText } from '../log';
import { buildReport, type CheckReport, type Identity, type Probes } from './check-report';

export async function runCheck(config: Config, out: NodeJS.WritableStream, fingerprintKey?: Buffer): Promise<number> {
  const identity: Identity = {
    selfPid: process.pid,
    uid: process.getuid?.() ?? -1,
    euid: process.geteuid?.() ?? -1,
    haveCapKill: hasEffectiveCapability(CAP_KILL),
  };
  // Read as the sidecar reads it before each signal (target-delivery.ts): both decide alike.
  const receptionOf = (target: { readonly pid: number }) => readSignalReception(target.pid, config.signal.number);
  const report = buildReport(config, listProcesses(), identity, await probe(config), fingerprintKey, receptionOf);
  out.write(config.logFormat === 'json' ? `${JSON.stringify(report)}\n` : formatReport(report, config));
  return report.ok ? 0 : 1;
}

async function probe(config: Config): Promise<Probes> {
  const program = config.reloadCommand?.[0];
  const command = program === undefined ? undefined : resolveExecutable(program, process.env['PATH']);
  const action = config.reloadUrl;
  if (action === undefined) return command === undefined ? {} : { command };
  let url: Probes['url'];
  try {
    // HEAD: a request that must not change anything, with the same headers
    // and TLS settings the reload would use.
    const answer = await sendRequest({
      url: action.url,
      method: 'HEAD',
      headers: action.headersFile === undefined ? [] : readHeaders(action.headersFile),
      ca: action.caFile === undefined ? undefined : readCaFile(action.caFile),
      insecureSkipVerify: action.insecureSkipVerify,
      timeoutMs: config.reloadTimeoutMs,
    });
    url = { status: answer.status, statusText: answer.statusText };
  } catch (error) {
    url = { error: errorMessage(error) };
  }
  return command === undefined ? { url } : { command, url };
}

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

function formatReport(report: CheckReport, config: Config): string {
  const lines = [
    `settings: actions ${report.actions.join(', ')}; debounce ${formatDuration(config.debounceMs)}, settle ${formatDuration(config.settleMs)}, ` +
      `reload timeout ${formatDuration(config.reloadTimeoutMs)}, retries ${config.reloadRetries}`,
  ];
  if (report.command !== null) {
    const { command } = report;
    lines.push(`command: ${command.program}${command.path === null ? '' : ` (${command.path})`} -> ${command.problem === null ? 'ok' : 'PROBLEM'}`);
  }
  if (report.processName !== null) {
    lines.push(`signal: process name ${report.processName}, signal ${String(report.signal)}, signal all ${yesNo(config.signalAll)}, handler wait ${formatDuration(config.handlerWaitMs)}`);
  }
  if (report.url !== null) {
    const { url } = report;
    const answer = url.status === null ? 'no answer' : `answers HEAD with ${url.status} ${String(url.statusText)}`;
    lines.push(`url: ${url.method} ${url.url}: ${answer} -> ${url.problem === null ? 'ok' : 'PROBLEM'}`);
  }
  for (const dir of report.directories) {
    lines.push(`watch ${dir.dir}: ${dir.kind}, ${dir.files} file${dir.files === 1 ? '' : 's'}, fingerprint ${dir.fingerprint.slice(0, 16)}`);
  }
  lines.push(
    `config fingerprint: ${report.fingerprint} ` +
      (report.fingerprintKey === 'file' ? '(keyed with FINGERPRINT_KEY_FILE)' : "(keyed for this run only: set FINGERPRINT_KEY_FILE to compare it with the sidecar's)"),
  );
  if (report.processName !== null) {
    lines.push(`targets: ${report.targets.length === 0 ? 'none' : report.targets.length}`);
    for (const target of report.targets) {
      lines.push(
        `  pid ${target.pid} ${shownText(target.comm)} (answers to ${target.names.map(shownText).join(', ')}), uid ${target.uid}: ` +
          `catches ${String(report.signal)} ${yesNo(target.catches)}, ignores it ${yesNo(target.ignores)}, ` +
          `may signal ${yesNo(target.permitted)} -> ${target.problem === null ? 'ok' : 'PROBLEM'}`,
        `    receives ${String(report.signal)}: ${target.receives}`,
      );
    }
    if (report.workers.length > 0) {
      lines.push(`workers skipped (their parent reloads them): ${report.workers.map((worker) => `${worker.pid} ${shownText(worker.comm)}`).join(', ')}`);
    }
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  lines.push(report.ok ? `ok: a change now would ${wouldDo(report)}` : 'not ok: a reload would not work (see the problems above)');
  return `${lines.join('\n')}\n`;
}

/** "run render, then send SIGHUP to pid 7, then POST http://127.0.0.1:9090/-/reload" */
function wouldDo(report: CheckReport): string {
  return report.actions.map((action) => {
    if (action === 'command') return `run ${report.command?.program ?? '?'}`;
    if (action === 'signal') return `send ${String(report.signal)} to pid ${report.targets.map((target) => target.pid).join(', ')}`;
    return `${report.url?.method ?? '?'} ${report.url?.url ?? '?'}`;
  }).join(', then ');
}
