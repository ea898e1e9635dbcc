// The sidecar's own errors: a setting that cannot be used, and how any
// caught value is shown in a log field or a one-line failure.

/** What a caught value says: anything may be thrown, not only an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A configuration value that cannot be accepted. The message names the setting, the value and what is accepted. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly setting: string,
    readonly value: string | undefined,
    readonly accepted: string,
  ) {
    super(
      `${setting}: ${value === undefined ? 'not set' : `invalid value ${JSON.stringify(value)}`}; ${accepted}`,
    );
  }
}
