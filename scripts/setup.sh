#!/usr/bin/env bash
# Everything a fresh clone needs before it can run: npm dependencies (which
# build the addon through the install script), the TypeScript build, then the
# CLI bundle that the bin, the image and the tests run (scripts/bundle.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
[ -f build/Release/config_reloader_native.node ] || npx --no-install node-gyp rebuild >/dev/null
# A clean dist/: a deleted source must not leave its compiled test behind to run.
rm -rf dist
npx --no-install tsc -p tsconfig.json
node dist/scripts/bundle.js >/dev/null
