// The demo's app: reads its configuration through the volume's user-visible
// file, and reads it again on SIGHUP, as nginx or a Go service would.
// It takes the name it is given (process.title sets both comm and argv[0]),
// so the sidecar can find it by PROCESS_NAME among other node processes.
import { readFileSync } from 'node:fs';

const [name = 'demo-app', file = 'app.conf'] = process.argv.slice(2);
process.title = name;

const version = (): string => /version=(\S+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '?';
let reloads = 0;

process.on('SIGHUP', () => {
  reloads += 1;
  process.stdout.write(`app: reloaded config v${version()} (reload #${reloads})\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`app: stopping after ${reloads} reload${reloads === 1 ? '' : 's'}\n`);
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
process.stdout.write(`app: started with config v${version()}\n`);
