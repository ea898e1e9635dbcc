#!/usr/bin/env bash
# `npm run bench`: set-up included, like `npm test`. Arguments go to
# dist/bench/run.js (--updates N, --idle-seconds S, --files N, --only LIST).
set -euo pipefail
cd "$(dirname "$0")/.."
# gcc builds the C floor, the signal target and the burst at bench time;
# inotify-tools is the shell baseline; procps provides pkill; util-linux
# provides unshare and nsenter for the Pod-sized PID namespace.
bash scripts/ensure-debian-packages.sh gcc libc6-dev inotify-tools procps util-linux
bash scripts/setup.sh
exec node dist/bench/run.js "$@"
