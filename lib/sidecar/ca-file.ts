// RELOAD_CA_FILE: the CA certificates an https:// RELOAD_URL must chain to.
// node:tls takes any text as `ca` without complaint and then trusts nothing,
// which would show only as a failed reload; so every PEM block is parsed
// here, and a file with none is refused.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { errorCode } from '..';
import { errorMessage } from './errors';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The file's text, once every certificate in it parses; an Error naming the file and why otherwise. */
export function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error) ?? 'an error';
    throw new Error(`${file}: cannot be read (${code === 'ENOENT' ? 'it does not exist' : code})`);
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${file}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`${file}: certificate ${index + 1} does not parse (${errorMessage(error)})`);
    }
  });
  return text;
}
