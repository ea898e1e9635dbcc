// The public API of the library. The sidecar is built on exactly these parts.
export * from './inotify-flags';
export { Inotify } from './inotify';
export type {
  EventsOptions,
  InotifyEvent,
  InotifyEventBase,
  InotifyFileEvent,
  InotifyNameEvent,
  InotifyOptions,
  InotifyOverflowEvent,
  InotifySelfEvent,
  InotifyWatchEvent,
  Watch,
} from './inotify';
export { ConfigError, hasCode, isSystemError } from './errors';
export type { SystemError } from './errors';
export {
  defaultAction,
  defaultActionTerminates,
  InvalidSignalError,
  parseSignal,
  signalName,
  SIGRTMAX,
  SIGRTMIN,
} from './signals';
export type { DefaultAction, Signal } from './signals';
export { maskHas, parseCmdline, parseStat, parseStatus, PF_KTHREAD, ProcFormatError } from './proc-parse';
export type { ProcSignalMasks, ProcStat, ProcStatus } from './proc-parse';
export {
  catchesSignal,
  ignoresSignal,
  listProcessSummaries,
  listProcesses,
  readProcess,
  readProcessSummary,
  withStatus,
} from './proc';
export type { ProcessInfo, ProcessSignals, ProcessSummary } from './proc';
export { signalProcess } from './signal-process';
export { openProcess, ProcessHandle } from './process-handle';
export type { SignalMethod, SignalProcessOptions, SignalTarget } from './signal-process';
