#!/usr/bin/env bash
# Builds the real Dockerfile with the local stand-in for the Node image.
# Usage: build-image.sh [TAG] [extra podman build arguments...]
# BUILD_CONTEXT names another source tree to build (default: this checkout).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
tag="${1:-$SIDECAR_IMAGE}"
shift || true
extra=()
# Behind a TLS-intercepting proxy npm inside the build must trust its CA too:
# the bundle this machine's Node or npm is told to trust, if any.
ca_file="${NODE_EXTRA_CA_CERTS:-}"
if [ -z "$ca_file" ] || [ ! -f "$ca_file" ]; then
  ca_file="$(npm config get cafile 2>/dev/null || true)"
fi
if [ -n "$ca_file" ] && [ "$ca_file" != null ] && [ "$ca_file" != undefined ] && [ -f "$ca_file" ]; then
  extra+=(--volume "$ca_file:/run/build-ca/ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca/ca.crt)
fi
context="${BUILD_CONTEXT:-$REPO_ROOT}"
log "building $tag from $context/Dockerfile (NODE_IMAGE=$NODE_IMAGE)"
podman build --network host --build-arg "NODE_IMAGE=$NODE_IMAGE" "${extra[@]}" "$@" \
  -f "$context/Dockerfile" -t "$tag" "$context" >&2
# Each rebuild leaves the previous image untagged; drop those of this
# project (the runtime image's title label, the build stage's test label).
podman image prune --force --filter label=org.opencontainers.image.title=config-reloader-sidecar >/dev/null
podman image prune --force --filter label=config-reloader-test.inputs >/dev/null
