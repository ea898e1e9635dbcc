// Every bad setting is refused by the real command before anything starts:
// exit code 2, one line on stderr naming the setting, the value and what is
// accepted, no stack trace, nothing on stdout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { SETTINGS } from '../lib/sidecar/config';
import { describeResult, runCommand } from './helpers/child-process';
import { CLI } from './helpers/sidecar-process';

const dir = mkdtempSync(join(tmpdir(), 'cli-validation-'));
const file = join(dir, 'not-a-dir.conf');
writeFileSync(file, 'x');
const headersFile = join(dir, 'headers');
writeFileSync(headersFile, 'X-Ok: fine\nAuthorization Bearer leaked-value\n');
after(() => rmSync(dir, { recursive: true, force: true }));

interface BadCase {
  readonly name: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly args?: readonly string[];
  /** Substrings the one stderr line must contain: the setting, the value, what is accepted. */
  readonly mentions: readonly string[];
}

const VALID = { CONFIG_DIR: dir, PROCESS_NAME: 'some-app' };

const BAD: readonly BadCase[] = [
  { name: 'CONFIG_DIR missing', env: { CONFIG_DIR: undefined }, mentions: ['CONFIG_DIR', 'not set', 'accepted'] },
  { name: 'CONFIG_DIR empty', env: { CONFIG_DIR: '' }, mentions: ['CONFIG_DIR', 'invalid value ""', 'accepted'] },
  { name: 'CONFIG_DIR an empty list', env: { CONFIG_DIR: ' , ,' }, mentions: ['CONFIG_DIR', '" , ,"', 'comma-separated'] },
  { name: '--config-dir empty', args: ['--config-dir', ''], mentions: ['--config-dir', 'invalid value ""'] },
  { name: 'CONFIG_DIR does not exist', env: { CONFIG_DIR: '/nonexistent/conf.d' }, mentions: ['CONFIG_DIR', '"/nonexistent/conf.d"', 'does not exist'] },
  { name: 'CONFIG_DIR is a file', env: { CONFIG_DIR: file }, mentions: ['CONFIG_DIR', JSON.stringify(file), 'not a directory'] },
  { name: 'one of several CONFIG_DIRs does not exist', env: { CONFIG_DIR: `${dir},/nonexistent/b` }, mentions: ['CONFIG_DIR', '"/nonexistent/b"'] },
  { name: 'PROCESS_NAME missing', env: { PROCESS_NAME: undefined }, mentions: ['PROCESS_NAME', 'not set', 'accepted'] },
  { name: 'PROCESS_NAME empty', env: { PROCESS_NAME: '' }, mentions: ['PROCESS_NAME', 'invalid value ""', 'accepted'] },
  { name: 'PROCESS_NAME blank', env: { PROCESS_NAME: '   ' }, mentions: ['PROCESS_NAME', '"   "'] },
  { name: 'PROCESS_NAME a path', env: { PROCESS_NAME: '/usr/sbin/nginx' }, mentions: ['PROCESS_NAME', '"/usr/sbin/nginx"', 'without slashes'] },
  { name: 'RELOAD_SIGNAL unknown name', env: { RELOAD_SIGNAL: 'SIGFOO' }, mentions: ['RELOAD_SIGNAL', '"SIGFOO"', 'no such signal', 'accepted'] },
  { name: 'RELOAD_SIGNAL empty', env: { RELOAD_SIGNAL: '' }, mentions: ['RELOAD_SIGNAL', 'invalid value ""'] },
  { name: 'RELOAD_SIGNAL 0', env: { RELOAD_SIGNAL: '0' }, mentions: ['RELOAD_SIGNAL', '"0"', 'delivers nothing'] },
  { name: 'RELOAD_SIGNAL 32 (glibc)', env: { RELOAD_SIGNAL: '32' }, mentions: ['RELOAD_SIGNAL', '"32"', 'reserved'] },
  { name: 'RELOAD_SIGNAL 65', env: { RELOAD_SIGNAL: '65' }, mentions: ['RELOAD_SIGNAL', '"65"', 'SIGRTMAX'] },
  { name: 'RELOAD_SIGNAL negative', env: { RELOAD_SIGNAL: '-1' }, mentions: ['RELOAD_SIGNAL', '"-1"'] },
  { name: 'RELOAD_SIGNAL past SIGRTMAX', env: { RELOAD_SIGNAL: 'SIGRTMIN+31' }, mentions: ['RELOAD_SIGNAL', '"SIGRTMIN+31"', 'past SIGRTMAX'] },
  { name: 'RELOAD_SIGNAL SIGKILL', env: { RELOAD_SIGNAL: 'KILL' }, mentions: ['RELOAD_SIGNAL', '"KILL"', 'cannot be caught'] },
  { name: 'RELOAD_SIGNAL SIGSTOP', env: { RELOAD_SIGNAL: '19' }, mentions: ['RELOAD_SIGNAL', '"19"', 'SIGSTOP cannot be caught'] },
  { name: '--signal unknown', args: ['--signal', 'reload'], mentions: ['--signal', '"reload"'] },
  { name: 'DEBOUNCE negative', env: { DEBOUNCE: '-1' }, mentions: ['DEBOUNCE', '"-1"', 'from 0ms to 1m'] },
  { name: 'DEBOUNCE too long', env: { DEBOUNCE: '61s' }, mentions: ['DEBOUNCE', '"61s"', 'to 1m'] },
  { name: 'DEBOUNCE in hours', env: { DEBOUNCE: '1h' }, mentions: ['DEBOUNCE', '"1h"', 'like 250ms'] },
  { name: 'DEBOUNCE not a duration', env: { DEBOUNCE: 'soon' }, mentions: ['DEBOUNCE', '"soon"'] },
  { name: 'HANDLER_WAIT too long', env: { HANDLER_WAIT: '11m' }, mentions: ['HANDLER_WAIT', '"11m"', 'to 10m'] },
  { name: 'HANDLER_CHECK not a boolean', env: { HANDLER_CHECK: 'maybe' }, mentions: ['HANDLER_CHECK', '"maybe"', 'true or false'] },
  { name: 'HANDLER_WAIT not a duration', env: { HANDLER_WAIT: '30 s' }, mentions: ['HANDLER_WAIT', '"30 s"'] },
  { name: 'SIGNAL_ALL not a boolean', env: { SIGNAL_ALL: 'maybe' }, mentions: ['SIGNAL_ALL', '"maybe"', 'true or false'] },
  { name: 'LOG_FORMAT unknown', env: { LOG_FORMAT: 'xml' }, mentions: ['LOG_FORMAT', '"xml"', 'text, json'] },
  { name: 'LOG_LEVEL unknown', env: { LOG_LEVEL: 'verbose' }, mentions: ['LOG_LEVEL', '"verbose"', 'debug, info, warn, error'] },
  { name: 'METRICS_ADDR without a port', env: { METRICS_ADDR: 'localhost' }, mentions: ['METRICS_ADDR', '"localhost"', '[HOST]:PORT'] },
  { name: 'METRICS_ADDR a bare port', env: { METRICS_ADDR: '9533' }, mentions: ['METRICS_ADDR', '"9533"', 'like :9533'] },
  { name: 'METRICS_ADDR port 0', env: { METRICS_ADDR: ':0' }, mentions: ['METRICS_ADDR', '":0"', '1-65535'] },
  { name: 'METRICS_ADDR port too high', env: { METRICS_ADDR: ':65536' }, mentions: ['METRICS_ADDR', '":65536"'] },
  { name: 'METRICS_ADDR a URL', env: { METRICS_ADDR: 'http://0.0.0.0:9533' }, mentions: ['METRICS_ADDR', '"http://0.0.0.0:9533"'] },
  { name: 'METRICS_ADDR unclosed IPv6 bracket', env: { METRICS_ADDR: '[::1:9533' }, mentions: ['METRICS_ADDR', '"[::1:9533"'] },
  { name: 'no action at all', env: { PROCESS_NAME: undefined }, mentions: ['PROCESS_NAME', 'not set', 'RELOAD_COMMAND', 'RELOAD_URL'] },
  { name: 'RELOAD_COMMAND empty', env: { RELOAD_COMMAND: '  ' }, mentions: ['RELOAD_COMMAND', 'the program is missing', 'JSON array'] },
  { name: 'RELOAD_COMMAND shell syntax in words', env: { RELOAD_COMMAND: 'nginx -t && nginx -s reload' }, mentions: ['RELOAD_COMMAND', 'no shell runs', '["sh","-c","..."]'] },
  { name: 'RELOAD_COMMAND quotes in words', env: { RELOAD_COMMAND: "sh -c 'kill -HUP 1'" }, mentions: ['RELOAD_COMMAND', 'quotes'] },
  { name: 'RELOAD_COMMAND bad JSON', env: { RELOAD_COMMAND: '["nginx", "-s"' }, mentions: ['RELOAD_COMMAND', 'not valid JSON'] },
  { name: 'RELOAD_COMMAND JSON not strings', env: { RELOAD_COMMAND: '["kill", 1]' }, mentions: ['RELOAD_COMMAND', 'array of strings'] },
  { name: 'RELOAD_COMMAND JSON empty', env: { RELOAD_COMMAND: '[]' }, mentions: ['RELOAD_COMMAND', 'the program is missing'] },
  { name: 'RELOAD_URL not http', env: { RELOAD_URL: 'ftp://127.0.0.1/reload' }, mentions: ['RELOAD_URL', '"ftp://127.0.0.1/reload"', 'http:// or https://'] },
  { name: 'RELOAD_URL not a URL', env: { RELOAD_URL: '127.0.0.1:9090/-/reload' }, mentions: ['RELOAD_URL', 'http:// or https://'] },
  { name: 'RELOAD_URL with a password, refused without showing it', env: { RELOAD_URL: 'htp://admin:hunter2@127.0.0.1/reload' }, mentions: ['RELOAD_URL', '"htp://***@127.0.0.1/reload"'] },
  { name: 'RELOAD_METHOD unknown', env: { RELOAD_URL: 'http://127.0.0.1/reload', RELOAD_METHOD: 'FETCH' }, mentions: ['RELOAD_METHOD', '"FETCH"', 'POST, PUT'] },
  { name: 'RELOAD_HEADERS_FILE missing', env: { RELOAD_URL: 'http://127.0.0.1/reload', RELOAD_HEADERS_FILE: '/nonexistent/headers' }, mentions: ['RELOAD_HEADERS_FILE', '"/nonexistent/headers"', 'does not exist'] },
  { name: 'RELOAD_HEADERS_FILE a bad line, its value not shown', env: { RELOAD_URL: 'http://127.0.0.1/reload', RELOAD_HEADERS_FILE: headersFile }, mentions: ['RELOAD_HEADERS_FILE', 'line 2', 'Name: value'] },
  { name: 'RELOAD_CA_FILE without a certificate', env: { RELOAD_URL: 'https://127.0.0.1/reload', RELOAD_CA_FILE: file }, mentions: ['RELOAD_CA_FILE', JSON.stringify(file), 'no PEM certificate'] },
  { name: 'RELOAD_INSECURE_SKIP_VERIFY not a boolean', env: { RELOAD_URL: 'https://127.0.0.1/reload', RELOAD_INSECURE_SKIP_VERIFY: 'please' }, mentions: ['RELOAD_INSECURE_SKIP_VERIFY', '"please"', 'true or false'] },
  { name: 'RELOAD_TIMEOUT too short', env: { RELOAD_TIMEOUT: '10ms' }, mentions: ['RELOAD_TIMEOUT', '"10ms"', 'from 100ms to 10m'] },
  { name: 'RELOAD_RETRIES negative', env: { RELOAD_RETRIES: '-1' }, mentions: ['RELOAD_RETRIES', '"-1"', 'from 0 to 100'] },
  { name: 'RELOAD_RETRIES not a number', env: { RELOAD_RETRIES: 'forever' }, mentions: ['RELOAD_RETRIES', '"forever"', 'whole number'] },
  { name: 'SETTLE too long', env: { SETTLE: '1m' }, mentions: ['SETTLE', '"1m"', 'to 10s'] },
  { name: 'an unknown flag', args: ['--config', dir], mentions: ['"--config"', 'unknown flag', '--config-dir'] },
  { name: 'a flag without its value', args: ['--process-name'], mentions: ['"--process-name"', 'no value follows it'] },
  { name: 'a flag followed by another flag', args: ['--config-dir', '--signal-all'], mentions: ['"--config-dir"', 'another flag follows it'] },
  { name: 'a value given to a switch', args: ['--signal-all=yes'], mentions: ['"--signal-all"', 'takes no value'] },
  { name: 'an unknown command', args: ['reload'], mentions: ['command', '"reload"', 'run (the default) or check'] },
  { name: 'a stray argument after check', args: ['check', 'now'], mentions: ['command', '"check now"'] },
];

test('every bad setting is refused in one line with exit code 2, and nothing starts', { concurrency: 8 }, async (t) => {
  for (const bad of BAD) {
    await t.test(bad.name, async () => {
      const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
      for (const [key, value] of Object.entries({ ...VALID, ...bad.env })) if (value !== undefined) env[key] = value;
      const result = await runCommand(process.execPath, [CLI, ...(bad.args ?? [])], { env });
      assert.equal(result.code, 2, describeResult(result));
      assert.equal(result.stdout, '', `nothing may start or be logged\n${describeResult(result)}`);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 1, `exactly one line on stderr\n${describeResult(result)}`);
      const [line = ''] = lines;
      assert.match(line, /^config-reloader: /);
      assert.doesNotMatch(line, /\bat .*:\d+:\d+/, 'no stack trace');
      for (const mention of bad.mentions) assert.ok(line.includes(mention), `"${mention}" missing from: ${line}`);
      assert.doesNotMatch(line, /hunter2|leaked-value/, 'no credential in the message');
    });
  }
});

test('a flag wins over its environment variable, whichever of the two is bad', async () => {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...VALID };
  const badFlag = await runCommand(process.execPath, [CLI, '--signal', 'SIGNOPE'], { env: { ...env, RELOAD_SIGNAL: 'SIGHUP' } });
  assert.equal(badFlag.code, 2, describeResult(badFlag));
  assert.match(badFlag.stderr, /"SIGNOPE"/);

  // With only valid flags overriding bad variables, validation passes and `check` runs.
  const goodFlags = await runCommand(
    process.execPath,
    [CLI, 'check', '--debounce', '1s', '--signal', 'usr1', '--config-dir', dir, '--process-name', 'no-such-app-here'],
    { env: { ...env, DEBOUNCE: 'soon', RELOAD_SIGNAL: 'SIGNOPE', CONFIG_DIR: '/nonexistent', PROCESS_NAME: '' } },
  );
  assert.equal(goodFlags.code, 1, describeResult(goodFlags)); // no such process: check fails, but not as invalid configuration
  assert.match(goodFlags.stdout, /signal SIGUSR1/);
  assert.match(goodFlags.stdout, /debounce 1s/);
});

test('--config-dir may be repeated and takes comma-separated lists', async () => {
  const second = mkdtempSync(join(tmpdir(), 'cli-validation-second-'));
  const third = mkdtempSync(join(tmpdir(), 'cli-validation-third-'));
  try {
    const result = await runCommand(
      process.execPath,
      [CLI, 'check', '--config-dir', dir, '--config-dir', `${second},${third}`, '--process-name', 'no-such-app-here'],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } },
    );
    assert.equal(result.code, 1, describeResult(result));
    for (const path of [dir, second, third]) assert.match(result.stdout, new RegExp(`^watch ${path}: plain directory`, 'm'));
  } finally {
    rmSync(second, { recursive: true, force: true });
    rmSync(third, { recursive: true, force: true });
  }
});

test('--help lists every setting with its flag and variable, and exits 0', async () => {
  const result = await runCommand(process.execPath, [CLI, '--help'], { env: {} });
  assert.equal(result.code, 0, describeResult(result));
  for (const spec of SETTINGS) {
    assert.match(result.stdout, new RegExp(`--${spec.flag}\\b.*\\b${spec.env}\\b`), `${spec.env} missing from --help`);
  }
  assert.match(result.stdout, /Exit codes/);
});

test('--version prints the package version and exits 0', async () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const result = await runCommand(process.execPath, [CLI, '--version'], { env: {} });
  assert.equal(result.code, 0, describeResult(result));
  assert.equal(result.stdout, `${version}\n`);
});
