#!/usr/bin/env bash
# The sidecar image's size and what it is made of, for the bench's `image`
# section: builds the real Dockerfile (base-images.sh, build-image.sh) and
# prints one line of JSON on stdout (bench/image-parts.ts has its fields);
# the set-up and the build's output go to stderr.
# Usage: image-parts.sh [TAG]  (default localhost/config-reloader:bench, so
# the container tests' image is neither replaced nor rebuilt under them).
# Needs root, like the container tests, and the TypeScript build (dist/),
# which sums the listing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
tag="${1:-localhost/config-reloader:bench}"
summer="$REPO_ROOT/dist/bench/image-parts.js"
if [ "$(id -u)" -ne 0 ]; then
  echo "measuring the image needs root: podman runs here as root with runc (rootless needs subuid set-up this does not do)" >&2
  exit 1
fi
[ -f "$summer" ] || { echo "$summer is missing: run npx tsc -p tsconfig.json first" >&2; exit 1; }
# Stdout is the JSON line's alone: whatever the set-up prints goes to stderr.
bash "$REPO_ROOT/scripts/ensure-debian-packages.sh" podman runc debootstrap >&2
bash "$CONTAINER_SCRIPTS/base-images.sh" >&2
bash "$CONTAINER_SCRIPTS/build-image.sh" "$tag" >&2

# Containers an interrupted run left behind (the prefix is this script's own).
podman ps --all --format '{{.Names}}' | { grep '^config-reloader-bench-image-' || true; } \
  | xargs -r podman rm --force --time 0 >/dev/null
size="$(podman image inspect --format '{{.Size}}' "$tag")"
container="config-reloader-bench-image-$$"
trap 'podman rm --force --time 0 "$container" >/dev/null 2>&1 || true' EXIT
# Created, never started: its root filesystem is the image's files alone.
podman create --name "$container" "$tag" >/dev/null
log "listing the files of $tag ($size bytes uncompressed)"
podman export "$container" | tar -tv --numeric-owner -f - | node "$summer" --image "$tag" --size "$size"
