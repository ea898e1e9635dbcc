// Baseline: the reloader most people would write in Node with no library.
// fs.watch on the volume directory, signal on every event naming `..data`.
// Given the target's pid (no process lookup), so it is if anything favoured.
// With --tree it watches a plain directory tree recursively instead and
// signals on any event (the scale run only measures its start-up).
//
// Usage: node fs-watch-reloader.js DIR PID [--tree]
import { watch } from 'node:fs';

const [dir, pidText, mode] = process.argv.slice(2);
if (dir === undefined || pidText === undefined) {
  console.error('usage: fs-watch-reloader DIR PID [--tree]');
  process.exit(2);
}
const pid = Number(pidText);
if (mode === '--tree') {
  watch(dir, { recursive: true }, () => process.kill(pid, 'SIGHUP'));
} else {
  watch(dir, (_eventType, name) => {
    if (name === '..data') process.kill(pid, 'SIGHUP');
  });
}
console.log('ready');
