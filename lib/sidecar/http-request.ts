// One HTTP(S) request of the URL action (a reload) or of `check` (a HEAD, to
// see that the endpoint answers), on node:http and node:https. A fresh
// connection each time (no agent): reloads are rare, and a kept-alive
// socket to an app that restarted would fail the next one.
//
// The answer is read up to BODY_BYTES: enough for the app's error message
// (Prometheus: "failed to reload config: ... parsing YAML file ..."), and a
// bound on what a misbehaving endpoint can make the sidecar hold.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { errorCode } from '..';
import { formatDuration, type HttpMethod } from './config';
import { errorMessage } from './errors';
import type { Headers } from './headers-file';

const BODY_BYTES = 4096;

export interface HttpRequestOptions {
  readonly url: URL;
  readonly method: HttpMethod | 'HEAD';
  readonly headers: Headers;
  /** PEM CA certificates to trust instead of the system's. */
  readonly ca: string | undefined;
  readonly insecureSkipVerify: boolean;
  readonly timeoutMs: number;
  readonly abort?: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  /** The start of the body, as text. */
  readonly body: string;
}

/** Why a request got no answer, in one line naming the fix, never a credential; `code` as node gives it. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

export function sendRequest(options: HttpRequestOptions): Promise<HttpAnswer> {
  const { url } = options;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of options.headers) {
    const key = name.toLowerCase();
    const existing = headers[key];
    headers[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: HttpRequestError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.abort?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(error);
    };
    const req = request(url, {
      method: options.method,
      headers,
      agent: false,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !options.insecureSkipVerify, ...(options.ca === undefined ? {} : { ca: options.ca }) } : {}),
    });
    const timer = setTimeout(() => {
      fail(new HttpRequestError(`no answer within ${formatDuration(options.timeoutMs)} (RELOAD_TIMEOUT)`, 'ETIMEDOUT'));
    }, options.timeoutMs);
    const onAbort = (): void => fail(new HttpRequestError('abandoned: shutting down', 'ABORT_ERR'));
    options.abort?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => fail(new HttpRequestError(explain(error, url), errorCode(error))));
    req.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < BODY_BYTES) chunks.push(chunk.subarray(0, BODY_BYTES - size));
        size += chunk.length;
      });
      response.on('error', (error) => fail(new HttpRequestError(explain(error, url), errorCode(error))));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.abort?.removeEventListener('abort', onAbort);
        resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (options.abort?.aborted === true) onAbort();
    else req.end();
  });
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED',
]);

/** The request's failure in words, with what to do about it. */
function explain(error: unknown, url: URL): string {
  const code = errorCode(error);
  const where = url.host;
  if (code === 'ECONNREFUSED') return `connection refused by ${where}: nothing listens there (yet); the app may still be starting`;
  if (code === 'ECONNRESET') return `connection reset by ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name ${url.hostname} does not resolve (${code})`;
  if (code !== undefined && UNTRUSTED.has(code)) {
    return `TLS: the certificate of ${where} is not trusted (${code}); set RELOAD_CA_FILE to the CA that signed it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the certificate of ${where} is not for ${url.hostname} (${code}); use the name or address the certificate was issued for`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `TLS: the certificate of ${where} is out of its validity period (${code})`;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return `TLS handshake with ${where} failed (${code}): does it speak ${url.protocol === 'https:' ? 'HTTPS' : 'HTTP'}?`;
  }
  return `${errorMessage(error)}${code === undefined ? '' : ` (${code})`}`;
}

/** The start of a body for a log line: one line, printable, at most `max` characters. */
export function bodyExcerpt(body: string, max = 300): string {
  const flat = body.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}...`;
}
