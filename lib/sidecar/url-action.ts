// The URL action: one request to RELOAD_URL per reload; a 2xx answer is
// success. The headers file and the CA file are read for every request, so
// that a Secret rotated under them is used without a restart. What is
// logged: the URL with its user, password and query values masked
// (redactUrl), the method, the status and the start of the answer's body;
// never a header value.
import { monotonicMs } from '..';
import { type HttpMethod, redactUrl, type UrlAction as UrlSettings } from './config';
import { readCaFile } from './ca-file';
import { errorMessage } from './errors';
import { type Headers, readHeaders } from './headers-file';
import { bodyExcerpt, type HttpAnswer, HttpRequestError, sendRequest } from './http-request';
import type { Logger } from './log';
import type { ActionOutcome, ActionRun, ReloadAction } from './reload-action';

export class UrlAction implements ReloadAction {
  readonly name = 'url';
  readonly #shown: string;

  constructor(private readonly settings: UrlSettings, private readonly timeoutMs: number) {
    this.#shown = redactUrl(settings.url.href);
  }

  start(log: Logger): void {
    if (this.settings.insecureSkipVerify && this.settings.url.protocol === 'https:') {
      log.warn('TLS verification of the reload URL is off', {
        url: this.#shown, reason: 'RELOAD_INSECURE_SKIP_VERIFY is true, so every certificate is accepted; set RELOAD_CA_FILE instead',
      });
    }
  }

  async run(run: ActionRun): Promise<ActionOutcome> {
    const started = monotonicMs();
    const method: HttpMethod = this.settings.method;
    const fields = (): Record<string, unknown> => ({ url: this.#shown, method, duration_ms: Number((monotonicMs() - started).toFixed(1)) });
    let answer: HttpAnswer;
    try {
      answer = await sendRequest({ ...this.#requestFiles(), url: this.settings.url, method, insecureSkipVerify: this.settings.insecureSkipVerify, timeoutMs: this.timeoutMs, abort: run.abort });
    } catch (error) {
      if (error instanceof HttpRequestError && error.code === 'ABORT_ERR') {
        run.log.info('reload abandoned: shutting down', { action: this.name, url: this.#shown });
        return { result: 'shutdown' };
      }
      const reason = errorMessage(error);
      run.log.error('reload request failed', { ...fields(), reason });
      return { result: 'failure', reason };
    }
    if (answer.status >= 200 && answer.status < 300) {
      run.log.info('reload request succeeded', { ...fields(), status: answer.status });
      return { result: 'success' };
    }
    const excerpt = bodyExcerpt(answer.body);
    const reason = `${this.#shown} answered ${answer.status} ${answer.statusText}${excerpt === '' ? '' : `: ${excerpt}`}`;
    run.log.error('reload request failed', { ...fields(), status: answer.status, reason });
    return { result: 'failure', reason };
  }

  close(): void {}

  /** The headers and CA as the files hold them now; a file that cannot be used fails this attempt (sendRequest is not reached). */
  #requestFiles(): { headers: Headers; ca: string | undefined } {
    const { headersFile, caFile } = this.settings;
    return {
      headers: headersFile === undefined ? [] : fromFile('RELOAD_HEADERS_FILE', () => readHeaders(headersFile)),
      ca: caFile === undefined ? undefined : fromFile('RELOAD_CA_FILE', () => readCaFile(caFile)),
    };
  }
}

function fromFile<T>(setting: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new HttpRequestError(`${setting} ${errorMessage(error)}`, 'EBADFILE');
  }
}
