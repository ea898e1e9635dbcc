// The demo's app: reads its configuration through the volume's user-visible
// file, and reads it again when told to, as nginx, Prometheus or a Go
// service would. Told how by its third argument:
//   signal  on SIGHUP (the sidecar's PROCESS_NAME action)
//   http    on POST /-/reload at a loopback port it picks and prints
//           (the sidecar's RELOAD_URL action)
// It takes the name it is given (process.title sets both comm and argv[0]),
// so the sidecar can find it by PROCESS_NAME among other node processes.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [name = 'demo-app', file = 'app.conf', mode = 'signal'] = process.argv.slice(2);
process.title = name;
const label = mode === 'http' ? 'web' : 'app';
const say = (line: string): void => {
  process.stdout.write(`${label}: ${line}\n`);
};

const version = (): string => /version=(\S+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '?';
let reloads = 0;
const reload = (): void => {
  reloads += 1;
  say(`reloaded config v${version()} (reload #${reloads})`);
};

if (mode === 'http') {
  const server = createServer((request, response) => {
    const ok = request.method === 'POST' && request.url === '/-/reload';
    if (ok) reload();
    response.writeHead(ok ? 200 : 405, { 'Content-Type': 'text/plain' }).end(ok ? 'reloaded\n' : 'POST /-/reload\n');
  });
  server.listen(0, '127.0.0.1', () => {
    say(`started with config v${version()}, reload URL http://127.0.0.1:${(server.address() as AddressInfo).port}/-/reload`);
  });
} else {
  process.on('SIGHUP', reload);
  setInterval(() => {}, 1 << 30);
  say(`started with config v${version()}`);
}
process.on('SIGTERM', () => {
  say(`stopping after ${reloads} reload${reloads === 1 ? '' : 's'}`);
  process.exit(0);
});
