#!/usr/bin/env bash
# Everything a fresh clone needs before it can run: npm dependencies (which
# build the addon through the install script), the TypeScript build, then the
# CLI bundle that the bin, the image and the tests run (scripts/bundle.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Rebuilt when missing or older than its sources: an addon built from other
# sources may load and misread what the library hands it.
addon=build/Release/config_reloader_native.node
if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" -print -quit)" ]; then
  npx --no-install node-gyp rebuild >/dev/null
fi
# A clean dist/: a deleted source must not leave its compiled test behind to run.
rm -rf dist
npx --no-install tsc -p tsconfig.json
node dist/scripts/bundle.js >/dev/null
