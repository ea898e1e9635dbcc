#!/usr/bin/env bash
# `npm run test:container`: the container tests on a fresh machine, set-up
# included. Needs root (podman with runc, as these machines run it) and
# reaches only Debian's mirror and the npm registry (inside image builds).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
if [ "$(id -u)" -ne 0 ]; then
  echo "the container tests need root: podman runs here as root with runc (rootless needs subuid set-up this does not do)" >&2
  exit 1
fi
bash scripts/ensure-debian-packages.sh podman runc debootstrap g++-aarch64-linux-gnu binutils-aarch64-linux-gnu file
bash scripts/setup.sh
bash "$CONTAINER_SCRIPTS/base-images.sh"
# Containers an interrupted run left behind (the names are this suite's own).
podman ps --all --format '{{.Names}}' | { grep '^config-reloader-test-' || true; } \
  | xargs -r podman rm --force --time 0 >/dev/null
# The build's output is long; it is kept for a failure and shown in part.
mkdir -p .tmp
bash "$CONTAINER_SCRIPTS/build-image.sh" >/dev/null 2>.tmp/image-build.log \
  || { tail -40 .tmp/image-build.log >&2; echo "image build failed; full output in .tmp/image-build.log" >&2; exit 1; }
exec node --test --test-reporter=spec "${@:-dist/test-container/}"
