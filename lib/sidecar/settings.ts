// Every setting of the sidecar in one table: its environment variable, its
// flag, its default and its meaning. --help and the README are made from it.

export interface SettingSpec {
  readonly key: SettingKey;
  readonly env: string;
  readonly flag: string;
  readonly type: 'string' | 'boolean';
  /** What the flag's value looks like in --help, e.g. DURATION. */
  readonly valueName?: string;
  /** Flags that may be given more than once (values are concatenated). */
  readonly multiple?: boolean;
  readonly defaultValue: string | undefined;
  readonly meaning: string;
}

export type SettingKey =
  | 'configDirs' | 'processName' | 'signal' | 'debounce' | 'signalAll'
  | 'handlerWait' | 'logFormat' | 'logLevel' | 'metricsAddr';

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'configDirs', env: 'CONFIG_DIR', flag: 'config-dir', type: 'string', multiple: true, valueName: 'DIR[,DIR...]',
    defaultValue: undefined,
    meaning: 'Directories to watch. Comma-separated; the flag may be repeated. Kubelet volumes (ConfigMap, Secret, projected) and plain directories alike.',
  },
  {
    key: 'processName', env: 'PROCESS_NAME', flag: 'process-name', type: 'string', valueName: 'NAME',
    defaultValue: undefined,
    meaning: 'Name of the process to signal: its comm, the basename of its executable, or the basename of argv[0]. Long names work.',
  },
  {
    key: 'signal', env: 'RELOAD_SIGNAL', flag: 'signal', type: 'string', defaultValue: 'SIGHUP', valueName: 'SIGNAL',
    meaning: 'Signal to send: a name (SIGHUP, HUP, usr1), a number, or SIGRTMIN+N; one the app can catch (not SIGKILL or SIGSTOP).',
  },
  {
    key: 'debounce', env: 'DEBOUNCE', flag: 'debounce', type: 'string', defaultValue: '250ms', valueName: 'DURATION',
    meaning: 'Quiet time after the last event in a plain directory before reloading (0 to 60s). Kubelet volumes reload at once, without it.',
  },
  {
    key: 'signalAll', env: 'SIGNAL_ALL', flag: 'signal-all', type: 'boolean', defaultValue: 'false',
    meaning: 'Signal every matching process, workers included, instead of only the topmost (a match whose parent does not match). The variable takes true or false (also 1/0, yes/no, on/off); the flag alone turns it on.',
  },
  {
    key: 'handlerWait', env: 'HANDLER_WAIT', flag: 'handler-wait', type: 'string', defaultValue: '30s', valueName: 'DURATION',
    meaning: "How long to wait for a target that has not installed its handler yet (the signal's default action would kill it) before giving up on that reload (0 to 10m).",
  },
  {
    key: 'logFormat', env: 'LOG_FORMAT', flag: 'log-format', type: 'string', defaultValue: 'text', valueName: 'FORMAT',
    meaning: 'Log format: text or json. `check` prints its report in the same format.',
  },
  {
    key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', type: 'string', defaultValue: 'info', valueName: 'LEVEL',
    meaning: 'Least severe level logged: debug, info, warn or error.',
  },
  {
    key: 'metricsAddr', env: 'METRICS_ADDR', flag: 'metrics-addr', type: 'string', defaultValue: undefined, valueName: '[HOST]:PORT',
    meaning: 'Listen address of the HTTP endpoint (/healthz, /readyz, /metrics), like :9533 or 127.0.0.1:9533. Off when unset or empty.',
  },
];
