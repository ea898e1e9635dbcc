// The pure parts of the reload actions, over tables of real inputs: how a
// command, a URL and a headers file are read, what a URL looks like in the
// log, the retry delays, the bounded output, and the order of the actions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { actionsOf, buildConfig, parseCommand, parseInvocation, redactUrl } from '../lib/sidecar/config';
import { ConfigError } from '../lib/sidecar/errors';
import { HeadersFileError, parseHeaders } from '../lib/sidecar/headers-file';
import { OutputTail } from '../lib/sidecar/output-tail';
import { retryDelayMs } from '../lib/sidecar/retry-delay';

test('RELOAD_COMMAND is a JSON array of strings, or plain words; nothing is expanded', () => {
  const cases: [string, readonly string[]][] = [
    ['nginx -s reload', ['nginx', '-s', 'reload']],
    ['  /usr/local/bin/render\t--out  /tmp/x ', ['/usr/local/bin/render', '--out', '/tmp/x']],
    ['["sh","-c","kill -HUP $(cat /run/app.pid)"]', ['sh', '-c', 'kill -HUP $(cat /run/app.pid)']],
    ['["two words", "*"]', ['two words', '*']],
  ];
  for (const [value, argv] of cases) assert.deepEqual(parseCommand('RELOAD_COMMAND', value), argv, value);
  for (const value of ['', '[]', '[""]', 'a | b', 'echo "x"', 'echo $HOME', 'a > b', '["a", 1]', '{"cmd":"a"}']) {
    assert.throws(() => parseCommand('RELOAD_COMMAND', value), ConfigError, value);
  }
});

test('a URL in the log has its user, password and query values masked, parsed or not', () => {
  const cases: [string, string][] = [
    ['http://127.0.0.1:9090/-/reload', 'http://127.0.0.1:9090/-/reload'],
    ['http://admin:s3cret@127.0.0.1:9090/-/reload', 'http://***:***@127.0.0.1:9090/-/reload'],
    ['https://token@app.local/reload?key=abc&key=def&x=1', 'https://***@app.local/reload?key=***&x=***'],
    ['htp:/admin:s3cret@bad url?key=abc', 'htp:/***@bad url?key=***'],
    ['ftp://user:pw@host/x', 'ftp://***@host/x'],
    ['not a url://user:pw@x', 'not a url://***@x'],
  ];
  for (const [url, shown] of cases) assert.equal(redactUrl(url), shown, url);
});

test('a headers file is Name: value lines; a bad line is named by number, never by its content', () => {
  assert.deepEqual(parseHeaders('h', '# comment\r\nAuthorization: Bearer a:b:c\r\n\nX-Empty:\nX-Many: 1\nx-many: 2'), [
    ['Authorization', 'Bearer a:b:c'], ['X-Empty', ''], ['X-Many', '1'], ['x-many', '2'],
  ]);
  const bad: [string, number, RegExp][] = [
    ['Authorization Bearer token-value', 1, /not a header/],
    ['ok: 1\nBad Name: token-value', 2, /not a header/],
    ['Content-Length: 5', 1, /set by the sidecar/],
    ['Host: evil', 1, /set by the sidecar/],
    ['X-Bell: a\u0007token-value', 1, /control character/],
  ];
  for (const [text, line, why] of bad) {
    assert.throws(() => parseHeaders('/etc/reload/headers', text), (error: unknown) => {
      assert.ok(error instanceof HeadersFileError);
      assert.equal(error.line, line);
      assert.match(error.message, why);
      assert.doesNotMatch(error.message, /token-value|evil/);
      return true;
    }, text);
  }
});

test('retries wait 1 s, doubling, at most 30 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelayMs), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
});

test('the output tail keeps the last lines, each cut, across chunks, and counts the rest', () => {
  const tail = new OutputTail(3, 5);
  tail.push('one\ntw');
  tail.push('o\nthree\nfour-and-more\nfi');
  tail.push('ve');
  assert.deepEqual(tail.finish(), { lines: ['three', 'four-... (8 more characters)', 'five'], dropped: 2 });
  const endless = new OutputTail(2, 4);
  endless.push('x'.repeat(100_000));
  assert.deepEqual(endless.finish(), { lines: ['xxxx... (99996 more characters)'], dropped: 0 });
});

test('the actions run command, signal, URL, whatever order they are given in; one is required', () => {
  const config = (env: Record<string, string>) => buildConfig(parseInvocation([], { CONFIG_DIR: '/etc/app', ...env }).values);
  assert.deepEqual(actionsOf(config({ RELOAD_URL: 'http://127.0.0.1/r', PROCESS_NAME: 'app', RELOAD_COMMAND: 'true' })), ['command', 'signal', 'url']);
  assert.deepEqual(actionsOf(config({ RELOAD_URL: 'http://127.0.0.1/r' })), ['url']);
  assert.equal(config({ RELOAD_URL: 'http://127.0.0.1/r' }).processName, undefined);
  assert.throws(() => config({}), /PROCESS_NAME \(--process-name\): not set; accepted: at least one reload action/);
  const url = config({ RELOAD_URL: 'http://127.0.0.1/r', RELOAD_METHOD: 'put' }).reloadUrl;
  assert.equal(url?.method, 'PUT');
  assert.equal(url?.insecureSkipVerify, false);
});
