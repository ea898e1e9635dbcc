// --help text, made from the settings table so it can never disagree with it.
import { SETTINGS } from '../sidecar/settings';

export function helpText(version: string): string {
  const rows = SETTINGS.map((spec) => {
    const flag = `--${spec.flag}${spec.type === 'string' ? ' VALUE' : ''}`;
    const fallback = spec.defaultValue === undefined ? '' : ` (default: ${spec.defaultValue})`;
    return `  ${flag.padEnd(26)} ${spec.env.padEnd(14)} ${spec.meaning}${fallback}`;
  });
  return [
    `config-reloader ${version}: signals an app once per real configuration change.`,
    '',
    'Usage:',
    '  config-reloader [run] [flags]   watch and reload (the default)',
    '  config-reloader check [flags]   validate, show what would be watched and signalled, then exit',
    '',
    'Settings (flag, environment variable, meaning). Flags win over the environment:',
    ...rows,
    `  ${'--help, -h'.padEnd(26)} ${''.padEnd(14)} Print this help.`,
    `  ${'--version, -v'.padEnd(26)} ${''.padEnd(14)} Print the version.`,
    '',
    'Exit codes: 0 success, 1 runtime failure, 2 invalid configuration.',
    '',
  ].join('\n');
}
