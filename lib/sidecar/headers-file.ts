// RELOAD_HEADERS_FILE: the request headers of the URL action, one
// `Name: value` a line, as curl's `-H @file` takes them. The file is meant to
// come from a Secret volume, so that a token is in neither the Pod spec nor
// the logs: every message here names the file and the line, never a value.
// It is read again for every request, so a rotated token is picked up.
import { readFileSync } from 'node:fs';

import { errorCode } from '..';

export type Headers = readonly (readonly [name: string, value: string])[];

/** RFC 9110's token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Controls other than tab: a value with one would be refused by node:http, or split the request. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** Framing is node's business: the reload request has no body. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'host']);

/** Why a headers file cannot be used; `line` is 1-based. The message carries no header value. */
export class HeadersFileError extends Error {
  override readonly name = 'HeadersFileError';
  constructor(readonly file: string, readonly line: number | undefined, readonly why: string) {
    super(`${file}${line === undefined ? '' : ` line ${line}`}: ${why}`);
  }
}

/** Parses the text of a headers file. Pure; throws a HeadersFileError naming the line. */
export function parseHeaders(file: string, text: string): Headers {
  const headers: [string, string][] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (colon < 0 || !TOKEN.test(name)) {
      throw new HeadersFileError(file, index + 1, 'not a header; accepted: Name: value, with a name of letters, digits and -');
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new HeadersFileError(file, index + 1, `the ${name} header is set by the sidecar itself; accepted: other headers`);
    }
    const value = line.slice(colon + 1).trim();
    if (CONTROL.test(value)) throw new HeadersFileError(file, index + 1, `the value of ${name} holds a control character`);
    headers.push([name, value]);
  });
  return headers;
}

/** Reads and parses the file; a file that cannot be read is a HeadersFileError with its errno code. */
export function readHeaders(file: string): Headers {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error) ?? 'an error';
    throw new HeadersFileError(file, undefined, `cannot be read (${code === 'ENOENT' ? 'it does not exist' : code})`);
  }
  return parseHeaders(file, text);
}
