// --help text and the README's settings table, both made from the settings
// table so that neither can disagree with what the parser accepts.
import { SETTINGS, type SettingSpec } from '../config';

const WIDTH = 80;

export function helpText(version: string): string {
  const settings = SETTINGS.flatMap((spec) => [
    `  ${flagUsage(spec).padEnd(32)} ${spec.env}${requirement(spec)}`,
    ...wrap(spec.meaning, WIDTH - 6).map((line) => `      ${line}`),
  ]);
  return [
    `config-reloader ${version}: reloads an app once per real configuration change,`,
    'by running a command, sending a signal or calling a URL.',
    '',
    'Usage:',
    '  config-reloader [run] [flags]   watch and reload (the default)',
    '  config-reloader check [flags]   validate, show what would be watched and what',
    '                                  a reload would do, then exit',
    '',
    'Settings, as flags or environment variables (flags win):',
    ...settings,
    `  ${'--help, -h'.padEnd(32)} print this help`,
    `  ${'--version, -v'.padEnd(32)} print the version`,
    '',
    'Each change runs the configured actions in this order: the command, the',
    'signal, the URL; at least one is required. A failed reload is tried again',
    '(RELOAD_RETRIES) from the action that failed.',
    '',
    '`check` prints one JSON object instead of text with --log-format json.',
    '',
    'Exit codes: 0 success; 1 runtime failure, or `check` found that a reload',
    'would not work; 2 invalid configuration (one line on stderr says which).',
    '',
  ].join('\n');
}

/**
 * The settings as a Markdown table for the README (between its
 * `<!-- settings-table -->` markers): variable, flag, default, meaning.
 */
export function settingsMarkdownTable(): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  const rows = SETTINGS.map((spec) => {
    const value = spec.type === 'boolean' ? '' : ` ${spec.valueName ?? 'VALUE'}`;
    const fallback = spec.defaultValue === undefined ? '(none)' : `\`${spec.defaultValue}\``;
    const meaning = `${isRequired(spec) ? 'Required. ' : ''}${escape(spec.meaning)}`;
    return `| \`${spec.env}\` | \`--${spec.flag}\`${escape(value)} | ${fallback} | ${meaning} |`;
  });
  return ['| Variable | Flag | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function flagUsage(spec: SettingSpec): string {
  return spec.type === 'boolean' ? `--${spec.flag}` : `--${spec.flag} ${spec.valueName ?? 'VALUE'}`;
}

/** Required alone; PROCESS_NAME is one of three actions, of which one is required (its meaning says so). */
function isRequired(spec: SettingSpec): boolean {
  return spec.key === 'configDirs';
}

function requirement(spec: SettingSpec): string {
  if (spec.defaultValue !== undefined) return `, default ${spec.defaultValue}`;
  return isRequired(spec) ? ', required' : ', off by default';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
