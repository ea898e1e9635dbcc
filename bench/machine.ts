// One line describing where the numbers came from.
import { cpus, loadavg, release, totalmem } from 'node:os';

export function machineNote(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  return (
    `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ` +
    `Node ${process.version}; shared machine, load average at the end ${load}`
  );
}
