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
# Behind a TLS-intercepting proxy npm inside the build must trust its CA too.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  extra+=(--volume "$NODE_EXTRA_CA_CERTS:/run/build-ca/ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca/ca.crt)
fi
context="${BUILD_CONTEXT:-$REPO_ROOT}"
log "building $tag from $context/Dockerfile (NODE_IMAGE=$NODE_IMAGE)"
podman build --network host --build-arg "NODE_IMAGE=$NODE_IMAGE" "${extra[@]}" "$@" \
  -f "$context/Dockerfile" -t "$tag" "$context" >&2
