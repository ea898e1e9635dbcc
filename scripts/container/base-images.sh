#!/usr/bin/env bash
# Builds the local images the container tests use in place of registry images
# (these machines cannot pull): a debootstrapped Debian bookworm, a stand-in
# for node:20-bookworm, and the nginx and HAProxy app images. Each is rebuilt
# only when what defines it changed, so a second run takes seconds.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

build_debian() {
  local tarball="$CACHE_DIR/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    log "debootstrap --variant=minbase bookworm (once per machine, cached in $tarball)"
    mkdir -p "$CACHE_DIR"
    local rootfs
    rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    # The same mirror apt uses here, unless told otherwise.
    debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
  fi
  local digest
  digest="$(inputs_digest "$tarball")"
  if [ "$(image_label "$DEBIAN_IMAGE" config-reloader-test.inputs)" != "$digest" ]; then
    log "importing $DEBIAN_IMAGE"
    podman import --quiet --change "LABEL config-reloader-test.inputs=$digest" --change 'CMD ["/bin/bash"]' \
      "$tarball" "$DEBIAN_IMAGE" >/dev/null
  fi
}

build_node_standin() {
  local node npm_dir headers
  node="$(command -v node)"
  case "$("$node" --version)" in
    v20.*) ;;
    *) echo "the Node stand-in image needs this machine's node to be Node 20; $node is $("$node" --version)" >&2; exit 1 ;;
  esac
  npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  headers="$(cd "$(dirname "$(readlink -f "$node")")/../include/node" && pwd)"
  [ -f "$headers/common.gypi" ] || { echo "no Node headers at $headers (common.gypi missing)" >&2; exit 1; }
  local digest
  digest="$( { inputs_digest "$CONTAINER_SCRIPTS/node-standin.Containerfile"; "$node" --version; npm --version;
               image_label "$DEBIAN_IMAGE" config-reloader-test.inputs; } | sha256sum | cut -c1-16)"
  [ "$(image_label "$NODE_IMAGE" config-reloader-test.inputs)" = "$digest" ] && return 0
  log "building $NODE_IMAGE from $node ($("$node" --version))"
  local context
  context="$(mktemp -d)"
  trap 'rm -rf "$context"' RETURN
  cp "$node" "$context/node"
  cp -a "$npm_dir" "$context/npm"
  cp -a "$headers" "$context/include"
  podman build --quiet --network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
    --label "config-reloader-test.inputs=$digest" \
    -f "$CONTAINER_SCRIPTS/node-standin.Containerfile" -t "$NODE_IMAGE" "$context" >/dev/null
}

# An app image from one Containerfile and the files beside it in this folder.
build_app() {
  local image="$1" containerfile="$2"
  shift 2
  local inputs=("$CONTAINER_SCRIPTS/$containerfile")
  for file in "$@"; do inputs+=("$CONTAINER_SCRIPTS/$file"); done
  local digest
  digest="$( { inputs_digest "${inputs[@]}"; image_label "$DEBIAN_IMAGE" config-reloader-test.inputs; } | sha256sum | cut -c1-16)"
  [ "$(image_label "$image" config-reloader-test.inputs)" = "$digest" ] && return 0
  log "building $image"
  local context
  context="$(mktemp -d)"
  trap 'rm -rf "$context"' RETURN
  for file in "$@"; do cp "$CONTAINER_SCRIPTS/$file" "$context/"; done
  podman build --quiet --network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
    --label "config-reloader-test.inputs=$digest" \
    -f "$CONTAINER_SCRIPTS/$containerfile" -t "$image" "$context" >/dev/null
}

build_debian
build_node_standin
build_app "$NGINX_IMAGE" nginx.Containerfile nginx.conf
build_app "$HAPROXY_IMAGE" haproxy.Containerfile
