# Sourced by the container scripts: paths, image names and the podman wrapper.
# shellcheck shell=bash
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONTAINER_SCRIPTS="$REPO_ROOT/scripts/container"
export CONTAINERS_CONF="$CONTAINER_SCRIPTS/containers.conf"
# Survives between runs on the same machine, so debootstrap runs once.
CACHE_DIR="${CONFIG_RELOADER_TEST_CACHE:-/var/cache/config-reloader-test}"

# Local stand-ins for the registry images, which these machines cannot pull.
DEBIAN_IMAGE=localhost/config-reloader-test/debian:bookworm-minbase
NODE_IMAGE=localhost/config-reloader-test/node:20-bookworm
NGINX_IMAGE=localhost/config-reloader-test/nginx:bookworm
HAPROXY_IMAGE=localhost/config-reloader-test/haproxy:bookworm
# The image under test; SIDECAR_IMAGE names another tag (for the scripts as
# for test-container/podman.ts). It does not make two runs at once safe:
# test.sh removes every config-reloader-test-* container it finds.
export SIDECAR_IMAGE="${SIDECAR_IMAGE:-localhost/config-reloader:test}"

log() { printf '[container] %s\n' "$*" >&2; }

# The label value of an image, or nothing when the image does not exist.
image_label() {
  podman image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# A digest of the files that define an image: the cached image is reused
# only while they are unchanged.
inputs_digest() {
  cat "$@" | sha256sum | cut -c1-16
}
