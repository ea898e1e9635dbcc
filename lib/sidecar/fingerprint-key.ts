// The key of the fingerprints the sidecar shows. /metrics is served without
// authentication and logs travel far; a plain sha256 of a one-key Secret
// holding a short password is reversed by hashing a dictionary, an HMAC
// under a key the reader does not have is not. A random key per process is
// the safe default; a key from a file makes the values comparable across
// replicas, restarts and `check`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { errorCode } from '..';
import type { Config } from './config';
import { ConfigError } from './errors';

const SETTING = 'FINGERPRINT_KEY_FILE (--fingerprint-key-file)';

/** The key from FINGERPRINT_KEY_FILE (a trailing newline is not part of it), or 32 random bytes. */
export function loadFingerprintKey(config: Config): Buffer {
  const path = config.fingerprintKeyFile;
  if (path === undefined) return randomBytes(32);
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (error) {
    throw new ConfigError(SETTING, path, `accepted: a readable file holding the key; this one cannot be read (${errorCode(error) ?? String(error)})`);
  }
  let end = key.length;
  while (end > 0 && (key[end - 1] === 0x0a || key[end - 1] === 0x0d)) end--;
  if (end === 0) throw new ConfigError(SETTING, path, 'accepted: a file holding a key of at least one byte; this one is empty');
  return key.subarray(0, end);
}
