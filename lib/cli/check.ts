// Placeholder until `config-reloader check` lands.
import type { Config } from '../sidecar/config';

export function runCheck(config: Config, out: NodeJS.WritableStream): number {
  out.write(`check is not implemented yet for ${config.configDirs.join(',')}\n`);
  return 1;
}
