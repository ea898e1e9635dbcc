// The image section's reading of `tar -tv`: a misread line or a file put in
// the wrong part would publish a wrong split of the image without any run
// failing, so it is checked against a small listing of known sums.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appPartOf, parseMeasurement, partOf, sumImageListing } from '../bench/image-parts';

// As GNU tar 1.34 lists `podman export` of the sidecar image, cut down, with
// a device, a hard link and a file name with spaces added.
const LISTING = `drwxr-xr-x 0/0               0 2026-12-05 00:14 app/
-rw-r--r-- 0/0            1500 2026-12-05 00:14 app/package.json
-rw-r--r-- 0/0          286082 2026-12-05 00:14 app/dist/bin/config-reloader.js
-rw-r--r-- 0/0          365212 2026-12-05 00:14 app/dist/bin/metrics.js
-rw-r--r-- 0/0           14342 2026-12-05 00:14 app/dist/lib/inotify.js
-rwxr-xr-x 0/0          114000 2026-12-05 00:14 app/build/Release/config_reloader_native.node
lrwxrwxrwx 0/0               0 2026-12-05 00:14 app/node_modules/.bin/node-gyp-build -> ../node-gyp-build/bin.js
-rw-r--r-- 0/0            6078 2026-12-05 00:14 app/node_modules/node-gyp-build/node-gyp-build.js
hrw-r--r-- 0/0               0 2026-12-05 00:14 app/node_modules/node-gyp-build/copy.js link to app/node_modules/node-gyp-build/node-gyp-build.js
-rw-r--r-- 0/0              27 2026-12-05 00:14 etc/group
-rw-r--r-- 0/0              76 2026-12-05 00:14 etc/passwd
crw-rw-rw- 0/0             1,3 2026-12-05 00:14 dev/null
-rw-r--r-- 0/0              10 2026-12-05 00:14 ./var/a file with spaces
-rwxr-xr-x 0/0         1926232 2026-12-05 00:14 lib/x86_64-linux-gnu/libc.so.6
-rw-r--r-- 0/0         2190440 2026-12-05 00:14 usr/lib/x86_64-linux-gnu/libstdc++.so.6
-rwxr-xr-x 0/0          215000 2026-12-05 00:14 lib64/ld-linux-x86-64.so.2
lrwxrwxrwx 0/0               0 2026-12-05 00:14 usr/local/bin/nodejs -> node
-rwxr-xr-x 0/0        86348496 2026-12-05 00:14 usr/local/bin/node
`;

test('sums regular files into the node binary, the libraries, /app and the rest', () => {
  const summary = sumImageListing(LISTING);
  assert.deepEqual(summary.parts, {
    node: { bytes: 86348496, files: 1 },
    libraries: { bytes: 1926232 + 2190440 + 215000, files: 3 },
    app: { bytes: 1500 + 286082 + 365212 + 14342 + 114000 + 6078, files: 6 },
    rest: { bytes: 27 + 76 + 10, files: 3 },
  });
  assert.deepEqual(summary.files, {
    bytes: 86348496 + 1926232 + 2190440 + 215000 + 1500 + 286082 + 365212 + 14342 + 114000 + 6078 + 27 + 76 + 10,
    files: 13,
  });
  assert.deepEqual(summary.restDirs, ['/etc', '/var']);
});

test('splits /app into the bundles, the compiled library, the addon, node_modules and the rest', () => {
  assert.deepEqual(sumImageListing(LISTING).app, {
    bundles: { bytes: 286082 + 365212, files: 2 },
    compiled: { bytes: 14342, files: 1 },
    addon: { bytes: 114000, files: 1 },
    node_modules: { bytes: 6078, files: 1 },
    other: { bytes: 1500, files: 1 },
  });
});

test('classifies paths by where the Dockerfile puts them', () => {
  assert.equal(partOf('usr/local/bin/node'), 'node');
  assert.equal(partOf('usr/local/bin/node-extra'), 'rest');
  assert.equal(partOf('lib/x86_64-linux-gnu/libm.so.6'), 'libraries');
  assert.equal(partOf('usr/lib64/libz.so.1'), 'libraries');
  assert.equal(partOf('etc/ld.so.cache'), 'rest');
  assert.equal(partOf('usr/libexec-like'), 'rest');
  assert.equal(appPartOf('app/dist/bin/config-reloader.js'), 'bundles');
  assert.equal(appPartOf('app/dist/lib/index.js'), 'compiled');
});

test('refuses a line it cannot read, and a listing without the node binary', () => {
  assert.throws(() => sumImageListing(`${LISTING}total 12345\n`), /cannot read the line "total 12345"/);
  assert.throws(() => sumImageListing('-rw-r--r-- 0/0 27 2026-12-05 00:14 etc/group\n'), /usr\/local\/bin\/node once, found it 0 times/);
});

test('reads the script\'s JSON line back, and refuses one with a part missing', () => {
  const measurement = { image: 'localhost/config-reloader:bench', sizeBytes: 93032345, ...sumImageListing(LISTING) };
  assert.deepEqual(parseMeasurement(JSON.stringify(measurement)), measurement);
  const { libraries: _libraries, ...withoutLibraries } = measurement.parts;
  assert.throws(() => parseMeasurement(JSON.stringify({ ...measurement, parts: withoutLibraries })), /parts\.libraries is not an object/);
});
