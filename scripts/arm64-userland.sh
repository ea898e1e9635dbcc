#!/usr/bin/env bash
# An arm64 Debian userland with an arm64 node, to run the linux-arm64
# prebuild on an x64 machine under qemu-user:
#   qemu-aarch64-static -L "$root" "$root/usr/bin/node" ...
# (-L: the guest's dynamic linker and libraries come from $root, so
# binfmt_misc need not be registered.) Prints $root.
#
# Built once and cached under .tmp/arm64-userland (ignored by git; ARM64_USERLAND
# moves it); a later run finds it and prints it at once.
#
# Debian trixie, because its nodejs is Node 20, the major version the package
# supports (bookworm's is 18). Not multiarch apt (nodejs:arm64): that would
# replace this machine's own nodejs package. The packages are only downloaded
# (debootstrap --download-only) and unpacked (dpkg-deb -x): node needs its
# files, not the maintainer scripts, which would have to run emulated.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${ARM64_USERLAND:-$repo/.tmp/arm64-userland}"
suite=trixie
root="$cache/$suite"
bash "$repo/scripts/ensure-debian-packages.sh" qemu-user-static debootstrap
[ -f "$root/.complete" ] && { echo "$root"; exit 0; }

mkdir -p "$cache"
work="$(mktemp -d "$cache/.building.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "downloading an arm64 Debian $suite userland with nodejs into $cache (once)" >&2
# The same mirror apt uses here, unless told otherwise.
debootstrap --arch=arm64 --variant=minbase --include=nodejs --download-only \
  "$suite" "$work/download" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
mkdir "$work/root"
for deb in "$work"/download/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
arch="$(qemu-aarch64-static -L "$work/root" "$work/root/usr/bin/node" -p process.arch)" \
  || { echo "the arm64 node in $work/root does not start under qemu-aarch64-static" >&2; exit 1; }
[ "$arch" = arm64 ] || { echo "the node in $work/root reports arch $arch, not arm64" >&2; exit 1; }
touch "$work/root/.complete"
# Another run may have finished first: keep the one in place.
[ -f "$root/.complete" ] || { rm -rf "$root"; mv "$work/root" "$root"; }
echo "$root"
