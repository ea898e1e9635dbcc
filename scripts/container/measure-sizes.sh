#!/usr/bin/env bash
# Measures the uncompressed size of the sidecar image and of the same image
# on Debian bases, for docs/container.md. Run after base-images.sh.
# Sizes are what `podman image inspect --format '{{.Size}}'` reports: the
# uncompressed bytes of all layers.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SLIM_IMAGE=localhost/config-reloader-test/debian:bookworm-slimmed

size_of() { podman image inspect --format '{{.Size}}' "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

# debian:bookworm-slim is Debian's minbase without docs, man pages and
# locales; this recreates that from the local minbase, squashed so the
# removal really shrinks it.
if ! podman image exists "$SLIM_IMAGE"; then
  printf 'FROM %s\nRUN rm -rf /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /var/cache/debconf/*-old /var/lib/apt/lists/*\n' "$DEBIAN_IMAGE" \
    | podman build --quiet --squash-all -t "$SLIM_IMAGE" -f - "$(mktemp -d)" >/dev/null
fi

bash "$CONTAINER_SCRIPTS/build-image.sh" "$SIDECAR_IMAGE" >/dev/null 2>&1
bash "$CONTAINER_SCRIPTS/build-image.sh" localhost/config-reloader:measure-slim --build-arg "RUNTIME_IMAGE=$SLIM_IMAGE" >/dev/null 2>&1

node_bytes="$(podman run --rm --entrypoint /usr/local/bin/node "$SIDECAR_IMAGE" -e 'console.log(require("fs").statSync(process.execPath).size)')"
printf '%-58s %s\n' \
  "sidecar image, FROM scratch (default)" "$(mb "$(size_of "$SIDECAR_IMAGE")")" \
  "  of which the stripped node binary" "$(mb "$node_bytes")" \
  "sidecar image, RUNTIME_IMAGE=Debian bookworm slimmed" "$(mb "$(size_of localhost/config-reloader:measure-slim)")" \
  "  Debian bookworm slimmed alone" "$(mb "$(size_of "$SLIM_IMAGE")")" \
  "  Debian bookworm minbase alone (debootstrap)" "$(mb "$(size_of "$DEBIAN_IMAGE")")" \
  "node:20-bookworm stand-in (build stage)" "$(mb "$(size_of "$NODE_IMAGE")")"
podman rmi localhost/config-reloader:measure-slim >/dev/null
