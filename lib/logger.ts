// What a library part that reacts to events on its own (DirectoryWatcher)
// reports through: the caller's logger, so the library itself never decides
// where lines go or how they look. The sidecar's log.ts is one implementation.

/** Structured values of one line, e.g. `{ dir: '/etc/app' }`. */
export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}
