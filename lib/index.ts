// The public API of the library. The sidecar is built on exactly these parts.
export * from './inotify-flags';
export { Inotify } from './inotify';
export type { InotifyEvent, InotifyOptions, EventsOptions, Watch } from './inotify';
export { ConfigError, hasCode, isSystemError } from './errors';
export type { SystemError } from './errors';
