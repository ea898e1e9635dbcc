// Baseline: the same reloader on chokidar, the usual watcher library. It
// watches the volume directory one level deep without following symlinks
// (`..data` is a symlink that is replaced, not a directory to descend into)
// and signals on any event for `..data`. Given the target's pid up front.
// With --tree it watches a plain directory tree at any depth and signals on
// any event (the scale run only measures its start-up).
//
// Usage: node chokidar-reloader.js DIR PID [--tree]
import { basename } from 'node:path';

import { watch } from 'chokidar';

const [dir, pidText, mode] = process.argv.slice(2);
if (dir === undefined || pidText === undefined) {
  console.error('usage: chokidar-reloader DIR PID [--tree]');
  process.exit(2);
}
const pid = Number(pidText);
const tree = mode === '--tree';
const watcher = watch(dir, { ...(tree ? {} : { depth: 0 }), followSymlinks: false, ignoreInitial: true });
watcher.on('all', (_event, path) => {
  if (tree || basename(path) === '..data') process.kill(pid, 'SIGHUP');
});
watcher.on('ready', () => console.log('ready'));
