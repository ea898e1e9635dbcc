#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine, set-up included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-debian-packages.sh nginx-light util-linux procps gcc libc6-dev prometheus openssl tini dumb-init
bash scripts/setup.sh
# The house rule is strict TypeScript without `any`; the compiler cannot forbid an explicit one.
# Comment lines are skipped: prose may say "any".
if grep -rnE '(:\s*any\b|\bas any\b|<any>)' --include='*.ts' lib test bench scripts 2>/dev/null \
    | grep -v '\.d\.ts:' | grep -vE '^[^:]+:[0-9]+:\s*(//|\*|/\*)'; then
  echo "explicit 'any' found above: use a real type or unknown" >&2
  exit 1
fi
# No import cycles among the TypeScript files, and the line between library
# and sidecar: lib/ never imports lib/sidecar/, which reaches the library only
# through lib/index.ts. Either failing fails the suite.
node dist/scripts/check-import-cycles.js --boundary=error
# The test files only: given the directory, node would also run every module
# under dist/test/helpers as a test file (it counts any .js in a "test" directory).
if [ "$#" -eq 0 ]; then set -- dist/test/*.test.js; fi
exec node --test --test-reporter=spec "$@"
