// The public API of the library. The sidecar (lib/sidecar/) is built on
// exactly these parts, and imports nothing else of lib/.
export * from './inotify-flags';
export { NATIVE_ADDON_MISSING } from './native';
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
export { RECURSIVE_DEFAULT_MASK, RecursiveWatcher } from './recursive-watcher';
export type { RecursiveEvent, RecursiveWatcherOptions } from './recursive-watcher';
export type { WatchProblem } from './watch-tree';
export { ConfigWatcher } from './config-watcher';
export { monotonicMs } from './monotonic-clock';
export type { ConfigWatcherOptions, DirectoryState } from './config-watcher';
export type { CheckReasons, ConfigChange, UnchangedCheck } from './config-change';
export type { DirectoryKind, Trigger } from './directory-watcher';
export { diffFingerprints, fingerprint, FINGERPRINT_LIMITS, FingerprintReadError, fingerprintSync } from './fingerprint';
export type { FileChanges, Fingerprint, FingerprintLimits, FingerprintOptions, FingerprintSkip } from './fingerprint';
export { DATA_LINK, isKubeletVolume } from './kubelet-volume';
export { errorCode, hasCode, isSystemError } from './errors';
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
  combineStatus,
  ignoresSignal,
  listProcessSummaries,
  listProcesses,
  readProcess,
  readProcessSummary,
  withStatus,
} from './proc';
export type { ProcessInfo, ProcessSignals, ProcessSummary } from './proc';
export { judgeSignalReception, receptionIsSafe, receptionReachesApp } from './signal-reception';
export type { SignalFacts, SignalReception, ThreadSignalState, ThreadWait } from './signal-reception';
export { readSignalFacts, readSignalReception } from './signal-facts';
export type { ReadSignalFactsOptions } from './signal-facts';
export {
  isSigtimedwaitWchan, parseFdinfoSigmask, parseSigset, parseSyscall, parseWchan, rtSigtimedwaitNumber,
} from './signal-reception-parse';
export type { ProcSyscall } from './signal-reception-parse';
export { signalProcess } from './signal-process';
export { openProcess, ProcessHandle } from './process-handle';
export type { ProcessTarget } from './process-handle';
export type { SignalMethod, SignalProcessOptions, SignalTarget } from './process-target';
export {
  describeSignalSender,
  describeSignalTarget,
  isSignalPermissionError,
  refusalBeyondUids,
  signalPermissionMessage,
  uidsAllowSignal,
} from './signal-permission';
export type { SignalPermission, SignalPermissionError } from './signal-permission';
export { CAP_KILL, hasEffectiveCapability } from './capabilities';
